/**
 * The two SQL dialects of the registry (SQLite via better-sqlite3, PostgreSQL via pg),
 * reached through one kysely query layer. Everything that differs between them is a field
 * or hook of {@link SqlDialect}, chosen once when the registry opens; nothing else in the
 * registry asks which database it talks to.
 */

import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { FieldType } from '../dimensions/universe.ts';
import { RegistryConnectionError, RepositoryNotFoundError } from './errors.ts';
import { ident, join, q, raw, type Sql } from './sql.ts';
import { redactUrl } from './url.ts';

/** Classes of database errors the registry reacts to. */
export type DbErrorKind = 'unique' | 'foreign_key' | 'not_null' | 'check' | 'busy' | null;

/** Dialect capabilities and hooks. */
export interface SqlDialect {
  /** For messages and benchmark records only; never branch on it. */
  readonly name: 'sqlite' | 'postgres';
  /** Most bound parameters one statement may carry. */
  readonly maxParameters: number;
  /**
   * Rows per multi-row INSERT: SQLite prepares every statement anew, so moderate ones;
   * PostgreSQL pays a round trip per statement, so large ones.
   */
  readonly maxRowsPerInsert: number;
  /** Column type of a record field / key of type `t` (length for strings). */
  columnType(t: FieldType, length: number | null): string;
  /** Column type of dataset UUIDs. */
  readonly uuidType: string;
  /** Column definition of an auto-increment integer primary key. */
  readonly serialPrimaryKey: string;
  /** Statement opening a transaction that will write (takes the write lock up front on SQLite). */
  readonly beginWrite: string;
  /** Statement opening a read-only transaction. */
  readonly beginRead: string;
  /** Suffix that locks the selected rows until the transaction ends (`FOR UPDATE`), or ''. */
  readonly lockRowsSuffix: string;
  /**
   * Statement serializing schema changes (creating tables) between concurrent writers
   * inside a transaction, or null when the write transaction already does.
   */
  readonly schemaLock: Sql | null;
  /** Prefix turning a query into its plan. */
  readonly explainPrefix: string;
  /** The plan rows as text. */
  formatExplain(rows: readonly Record<string, unknown>[]): string;
  /** Converts a JavaScript value into what the driver can bind (SQLite has no booleans). */
  bindValue(v: unknown): unknown;
  /** Reads a boolean column value. */
  readBool(v: unknown): boolean;
  /** Kind of a driver error. */
  classifyError(e: unknown): DbErrorKind;
  /** `(c1, c2) IN (...)` for tuples of values; single columns use a plain IN list. */
  tupleIn(columns: readonly Sql[], tuples: ReadonlyArray<readonly unknown[]>): Sql;
  /** Query listing the user tables of the database (column `name`). */
  readonly listTables: Sql;
  /** Statements run after large inserts so the planner has statistics (may be empty). */
  readonly analyze: readonly string[];
}

function errorCode(e: unknown): string {
  const c = (e as { code?: unknown })?.code;
  return typeof c === 'string' ? c : '';
}

/** The SQLite dialect. */
export const sqliteDialect: SqlDialect = {
  name: 'sqlite',
  maxParameters: 32766,
  maxRowsPerInsert: 500,
  columnType(t) {
    switch (t) {
      case 'int':
      case 'bool':
        return 'INTEGER';
      case 'float':
        return 'REAL';
      default:
        return 'TEXT';
    }
  },
  uuidType: 'TEXT',
  serialPrimaryKey: 'INTEGER PRIMARY KEY',
  // IMMEDIATE takes the write lock at BEGIN, where SQLite's busy handler waits for it;
  // a deferred transaction that upgrades later fails at once with SQLITE_BUSY instead.
  beginWrite: 'BEGIN IMMEDIATE',
  beginRead: 'BEGIN',
  lockRowsSuffix: '',
  schemaLock: null,
  explainPrefix: 'EXPLAIN QUERY PLAN ',
  formatExplain(rows) {
    const depth = new Map<number, number>();
    return rows
      .map((r) => {
        const id = Number(r.id);
        const parent = Number(r.parent);
        const d = parent === 0 ? 0 : (depth.get(parent) ?? 0) + 1;
        depth.set(id, d);
        return `${'  '.repeat(d)}${String(r.detail)}`;
      })
      .join('\n');
  },
  bindValue(v) {
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (v === undefined) return null;
    return v;
  },
  readBool(v) {
    return v === 1 || v === true || v === '1';
  },
  classifyError(e) {
    const c = errorCode(e);
    if (c === 'SQLITE_CONSTRAINT_UNIQUE' || c === 'SQLITE_CONSTRAINT_PRIMARYKEY') return 'unique';
    if (c === 'SQLITE_CONSTRAINT_FOREIGNKEY') return 'foreign_key';
    if (c === 'SQLITE_CONSTRAINT_NOTNULL') return 'not_null';
    if (c === 'SQLITE_CONSTRAINT_CHECK') return 'check';
    if (c.startsWith('SQLITE_BUSY') || c.startsWith('SQLITE_LOCKED')) return 'busy';
    return null;
  },
  tupleIn(columns, tuples) {
    if (columns.length === 1) {
      return q`${columns[0]!} IN (${join(
        tuples.map((t) => q`${t[0]}`),
        ', ',
      )})`;
    }
    // SQLite accepts row values on the left of IN only with a subquery (or VALUES) on the right.
    const rows = tuples.map(
      (t) =>
        q`(${join(
          t.map((v) => q`${v}`),
          ', ',
        )})`,
    );
    return q`(${join(columns, ', ')}) IN (VALUES ${join(rows, ', ')})`;
  },
  listTables: q`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`,
  analyze: ['PRAGMA optimize'],
};

/** Advisory lock key serializing registry schema changes on PostgreSQL ("gpu-drp" as ASCII). */
const PG_SCHEMA_LOCK_KEY = 0x6770752d647270;

/** The PostgreSQL dialect. */
export const postgresDialect: SqlDialect = {
  name: 'postgres',
  maxParameters: 65535,
  maxRowsPerInsert: 5000,
  columnType(t, length) {
    switch (t) {
      case 'int':
        return 'BIGINT';
      case 'bool':
        return 'BOOLEAN';
      case 'float':
        return 'DOUBLE PRECISION';
      case 'string':
        return length === null ? 'TEXT' : `VARCHAR(${length})`;
      default:
        return 'TEXT';
    }
  },
  uuidType: 'UUID',
  serialPrimaryKey: 'INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY',
  beginWrite: 'BEGIN',
  beginRead: 'BEGIN',
  lockRowsSuffix: ' FOR UPDATE',
  schemaLock: q`SELECT pg_advisory_xact_lock(${raw(String(PG_SCHEMA_LOCK_KEY))})`,
  explainPrefix: 'EXPLAIN ',
  formatExplain(rows) {
    return rows.map((r) => String(r['QUERY PLAN'] ?? Object.values(r)[0])).join('\n');
  },
  bindValue(v) {
    return v === undefined ? null : v;
  },
  readBool(v) {
    return v === true || v === 't' || v === 1;
  },
  classifyError(e) {
    switch (errorCode(e)) {
      case '23505':
        return 'unique';
      case '23503':
        return 'foreign_key';
      case '23502':
        return 'not_null';
      case '23514':
        return 'check';
      case '55P03': // lock_not_available
      case '40P01': // deadlock_detected
      case '40001': // serialization_failure
        return 'busy';
      default:
        return null;
    }
  },
  tupleIn(columns, tuples) {
    const rows = tuples.map((t) =>
      columns.length === 1
        ? q`${t[0]}`
        : q`(${join(
            t.map((v) => q`${v}`),
            ', ',
          )})`,
    );
    const lhs = columns.length === 1 ? columns[0]! : q`(${join(columns, ', ')})`;
    return q`${lhs} IN (${join(rows, ', ')})`;
  },
  listTables: q`SELECT tablename AS name FROM pg_catalog.pg_tables WHERE schemaname = current_schema()`,
  analyze: ['ANALYZE'],
};

/** An open database: the kysely instance, its dialect hooks and how to close it. */
export interface OpenDatabase {
  readonly db: Kysely<Record<string, never>>;
  readonly dialect: SqlDialect;
  /** True when one connection is shared, so transactions must be serialized in-process. */
  readonly singleConnection: boolean;
  /** Where the database is (redacted), for messages. */
  readonly where: string;
}

/** Options of {@link openSqlite}. */
export interface SqliteOpenOptions {
  readonly create: boolean;
  /** How long a writer waits for the write lock before RegistryBusyError, ms. */
  readonly busyTimeoutMs: number;
}

/**
 * Opens (or creates) a SQLite database: WAL journal (readers never block the writer),
 * `synchronous = NORMAL` (durable at checkpoints; safe with WAL), foreign keys on, and a
 * busy timeout for concurrent writers.
 */
export function openSqlite(path: string, o: SqliteOpenOptions): OpenDatabase {
  const memory = path === ':memory:';
  if (!memory && !o.create && !existsSync(path)) throw new RepositoryNotFoundError(path);
  let handle: Database.Database;
  try {
    handle = new Database(path, { fileMustExist: !memory && !o.create, timeout: o.busyTimeoutMs });
  } catch (e) {
    throw new RegistryConnectionError(
      `cannot open SQLite registry ${path}: ${(e as Error).message}; ` +
        (o.create
          ? 'check the directory exists and is writable'
          : 'check the path, or create the repository first'),
      { cause: e },
    );
  }
  if (!memory) handle.pragma('journal_mode = WAL');
  handle.pragma('synchronous = NORMAL');
  handle.pragma('foreign_keys = ON');
  handle.pragma(`busy_timeout = ${Math.max(0, Math.floor(o.busyTimeoutMs))}`);
  const db = new Kysely<Record<string, never>>({
    dialect: new SqliteDialect({ database: handle }),
  });
  return { db, dialect: sqliteDialect, singleConnection: true, where: path };
}

/** Options of {@link openPostgres}. */
export interface PostgresOpenOptions {
  /** Connections in the pool (default 4). */
  readonly poolSize?: number;
  /** How long a statement may wait for a row lock, ms (default 60 s). */
  readonly lockTimeoutMs?: number;
}

const INT8_OID = 20;

/**
 * Opens a pg Pool through kysely. BIGINT (int8) columns are returned as numbers (the
 * registry keeps integers within 2^53); other types use pg's defaults.
 */
export async function openPostgres(
  url: string,
  o: PostgresOpenOptions = {},
): Promise<OpenDatabase> {
  const parseInt8 = (v: string): number => {
    const n = Number(v);
    if (!Number.isSafeInteger(n)) throw new RangeError(`int8 value ${v} exceeds 2^53`);
    return n;
  };
  const types = {
    getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
      oid === INT8_OID && format !== 'binary'
        ? parseInt8
        : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
  };
  // Server options given in the URL (`?options=-c search_path=...`) are kept.
  let urlOptions = '';
  try {
    urlOptions = new URL(url).searchParams.get('options') ?? '';
  } catch {
    // parseRegistryUrl has validated the URL; pg reports anything else.
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: o.poolSize ?? 4,
    types,
    options: `${urlOptions} -c lock_timeout=${Math.floor(o.lockTimeoutMs ?? 60_000)}`.trim(),
  });
  // An idle client's error (e.g. the server restarting) must not crash the process.
  pool.on('error', () => {});
  try {
    const c = await pool.connect();
    c.release();
  } catch (e) {
    await pool.end().catch(() => {});
    throw new RegistryConnectionError(
      `cannot connect to PostgreSQL at ${redactUrl(url)}: ${(e as Error).message}; check the server ` +
        'is running and the URL (user, host, port, database) or the PG* environment / ~/.pgpass',
      { cause: e },
    );
  }
  const db = new Kysely<Record<string, never>>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: postgresDialect, singleConnection: false, where: redactUrl(url) };
}

/** `"table"."column"` for use in fragments. */
export function col(table: string, column: string): Sql {
  return q`${ident(table, column)}`;
}
