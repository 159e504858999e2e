/**
 * The Butler registry: dataset types, collections, dimension records, datasets and their
 * datastore records in a SQL database (SQLite or PostgreSQL), with LSST daf_butler's
 * semantics in a TypeScript API.
 *
 * Concurrency: every public method is atomic (its own transaction, or a savepoint inside
 * `transaction()`). On SQLite, writers take the database's write lock at BEGIN (BEGIN
 * IMMEDIATE) and wait up to the busy timeout for it, then fail with RegistryBusyError;
 * one Registry object serializes its own calls (one connection). On PostgreSQL, calls run
 * on a connection pool; concurrent writers are ordered by the database's row locks and
 * unique constraints, and schema changes by an advisory lock.
 *
 * Inside `transaction(fn)`, use the registry passed to `fn`: calls on the outer object
 * wait for the transaction to end (SQLite) or run outside it (PostgreSQL).
 */

import {
  DataIdError,
  DimensionError,
  formatDataId,
  getDefaultUniverse,
  hasControlCharacters,
} from '../dimensions/index.ts';
import type { DimensionElement, DimensionUniverse } from '../dimensions/universe.ts';
import { DimensionUniverse as Universe } from '../dimensions/universe.ts';
import { ExprError } from '../expr/index.ts';
import type {
  CollectionType,
  DataId,
  DataIdValue,
  DatasetRef,
  DatasetType,
  DatastoreRecord,
  IdGenerationMode,
} from '../refs.ts';
import { type OpenDatabase, openPostgres, openSqlite, type SqlDialect } from './dialect.ts';
import {
  CollectionCycleError,
  CollectionInUseError,
  CollectionTypeError,
  ConflictingDefinitionError,
  DatastoreRecordsExistError,
  MissingCollectionError,
  MissingDatasetError,
  MissingDatasetTypeError,
  RegionError,
  RegistryArgumentError,
  RegistryBusyError,
  RegistryClosedError,
  RegistryDatabaseError,
  RegistryError,
} from './errors.ts';
import { Executor, type Row } from './exec.ts';
import {
  type CollectionRecord,
  type DatasetTypeRecord,
  QueryPlan,
  type QueryResult,
  type QuerySpec,
} from './query.ts';
import {
  checkVersions,
  inspectSchema,
  keyColumns,
  migrate,
  SCHEMA_VERSION,
  skypixTable,
  tagTableDdl,
  tagTableName,
} from './schema.ts';
import { HtmPixelization } from './spatial/htm.ts';
import { ConvexPolygon, regionToJson } from './spatial/regions.ts';
import { and, ident, join, q, quoteIdent, raw, rawSql, type Sql } from './sql.ts';
import { parseRegistryUrl, redactUrl } from './url.ts';
import { datasetId, isUuid, normalizeUuid } from './uuid.ts';

/** Options of {@link Registry.open}. */
export interface RegistryOpenOptions {
  /** Create the repository when the database holds none (default false). */
  readonly create?: boolean;
  /**
   * Universe for a new repository (default: configs/dimensions.yaml). For an existing one it
   * must match the stored universe's namespace and version.
   */
  readonly universe?: DimensionUniverse;
  /** SQLite: how long a writer waits for the write lock, ms (default 30 s). */
  readonly busyTimeoutMs?: number;
  /** PostgreSQL: connections in the pool (default 4). */
  readonly poolSize?: number;
}

/** Modes of {@link Registry.setCollectionChain}. */
export type ChainMode = 'redefine' | 'prepend' | 'extend' | 'remove' | 'pop';

/** One entry of {@link Registry.queryCollections}. */
export interface CollectionInfo {
  readonly name: string;
  readonly type: CollectionType;
  /** Direct children, for CHAINED collections. */
  readonly children?: string[];
  readonly doc?: string;
}

/** Options of {@link Registry.queryDatasets}. */
export interface QueryDatasetsOptions {
  /** Collections to search (names; glob patterns with `*` / `?` unless findFirst). */
  readonly collections: string | readonly string[];
  readonly where?: string;
  readonly bind?: Readonly<Record<string, unknown>>;
  readonly dataId?: Readonly<Record<string, unknown>>;
  /** Keep, per data ID, only the dataset from the first collection that has one. */
  readonly findFirst?: boolean;
  readonly limit?: number;
}

/** Options of {@link Registry.queryDataIds}. */
export interface QueryDataIdsOptions {
  readonly where?: string;
  readonly bind?: Readonly<Record<string, unknown>>;
  readonly dataId?: Readonly<Record<string, unknown>>;
  /** Only data IDs for which datasets of these types exist in `collections`. */
  readonly datasets?: string | readonly string[];
  readonly collections?: string | readonly string[];
  readonly limit?: number;
}

/** Options of {@link Registry.queryDimensionRecords}. */
export interface QueryRecordsOptions {
  readonly where?: string;
  readonly bind?: Readonly<Record<string, unknown>>;
  readonly dataId?: Readonly<Record<string, unknown>>;
  readonly limit?: number;
}

const COLLECTION_TYPES: readonly CollectionType[] = ['RUN', 'TAGGED', 'CHAINED', 'CALIBRATION'];
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A promise-chain mutex (one holder at a time, FIFO). */
class Mutex {
  private tail: Promise<void> = Promise.resolve();
  acquire(): Promise<() => void> {
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const prev = this.tail;
    this.tail = prev.then(() => held);
    return prev.then(() => release);
  }
}

/** State shared by a registry and its transaction views. */
interface Shared {
  readonly open: OpenDatabase;
  readonly dialect: SqlDialect;
  readonly universe: DimensionUniverse;
  readonly htm: HtmPixelization;
  readonly lock: Mutex | null;
  readonly datasetTypes: Map<string, DatasetTypeRecord>;
  readonly datasetTypesById: Map<number, DatasetTypeRecord>;
  readonly collections: Map<string, CollectionRecord>;
  readonly collectionsById: Map<number, CollectionRecord>;
  /**
   * Dimension records seen (element -> key -> row with key and implied columns). Records
   * are never changed or removed once inserted (sync refuses changes), so a record found
   * once stays valid; absent keys are never cached.
   */
  readonly records: Map<string, Map<string, Row>>;
  savepoints: number;
  closed: boolean;
  readonly busyTimeoutMs: number;
}

function isGlob(s: string): boolean {
  return /[*?]/.test(s);
}

function globToRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

function asList<T extends string>(v: T | readonly T[]): readonly T[] {
  return typeof v === 'string' ? [v] : v;
}

function compareValues(a: DataIdValue | undefined, b: DataIdValue | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** ISO-8601 time text in the where-language's normal form (no zone, trailing zeros dropped). */
function normalTime(date: Date): string {
  return date
    .toISOString()
    .replace(/Z$/, '')
    .replace(/\.?0+$/, '');
}

/** Normal form of a timestamp value: `YYYY-MM-DDTHH:MM:SS[.fff]`, no zone, as src/butler/expr. */
function normalizeTimestamp(v: unknown, what: string): string {
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw new RegistryArgumentError(`${what}: invalid Date`);
    return normalTime(v);
  }
  if (typeof v === 'string') {
    const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?Z?$/.exec(
      v.trim(),
    );
    if (m) {
      let time = m[2] ?? '00:00:00';
      if (time.length === 5) time += ':00';
      const [hms, frac = ''] = time.split('.');
      const f = frac.replace(/0+$/, '');
      const d = new Date(`${m[1]}T${hms}Z`);
      if (!Number.isNaN(d.getTime())) return `${m[1]}T${hms}${f ? `.${f}` : ''}`;
    }
  }
  throw new RegistryArgumentError(
    `${what}: expected an ISO-8601 time such as 2026-01-02T03:04:05 or a Date, got ${JSON.stringify(v)}`,
  );
}

/**
 * The registry. Open with {@link Registry.open}; close with {@link Registry.close}.
 */
export class Registry {
  private readonly shared: Shared;
  private readonly exec: Executor;
  /** 0 outside transactions; >0 inside (the depth of savepoints). */
  private readonly depth: number;

  private constructor(shared: Shared, exec: Executor, depth: number) {
    this.shared = shared;
    this.exec = exec;
    this.depth = depth;
  }

  /** The repository's dimensions universe. */
  get universe(): DimensionUniverse {
    return this.shared.universe;
  }

  /** The dialect in use ('sqlite' | 'postgres'), for messages and benchmark records. */
  get dialectName(): 'sqlite' | 'postgres' {
    return this.shared.dialect.name;
  }

  /**
   * Opens (or with `create`, creates) the registry at `url` (see src/butler/registry/url.ts
   * for the forms), applying pending schema migrations in one transaction.
   *
   * @throws RepositoryNotFoundError, SchemaVersionError, RegistryUrlError,
   *   RegistryConnectionError
   */
  static async open(url: string, o: RegistryOpenOptions = {}): Promise<Registry> {
    const loc = parseRegistryUrl(url);
    const busyTimeoutMs = o.busyTimeoutMs ?? 30_000;
    const open =
      loc.kind === 'sqlite'
        ? openSqlite(loc.path, { create: o.create === true, busyTimeoutMs })
        : await openPostgres(loc.url, o.poolSize === undefined ? {} : { poolSize: o.poolSize });
    try {
      const exec = new Executor(open.db, open.dialect);
      let state = await inspectSchema(exec);
      if (state.version === null || state.version < SCHEMA_VERSION) {
        if (state.version === null && o.create !== true)
          checkVersions(state, open.where, o.universe);
        if (state.version !== null) checkVersions(state, open.where, o.universe);
        await runWrite(open, async (x) => {
          const s = await inspectSchema(x);
          if (s.version === null) {
            await migrate(x, o.universe ?? getDefaultUniverse(), 0);
          } else if (s.version < SCHEMA_VERSION) {
            const config = checkVersions(s, open.where, o.universe);
            await migrate(x, Universe.fromConfig(JSON.parse(config)), s.version);
          }
        });
        state = await inspectSchema(exec);
      }
      const config = checkVersions(state, open.where, o.universe);
      const universe = o.universe ?? Universe.fromConfig(JSON.parse(config));
      const shared: Shared = {
        open,
        dialect: open.dialect,
        universe,
        htm: new HtmPixelization(universe.skypix.level),
        lock: open.singleConnection ? new Mutex() : null,
        datasetTypes: new Map(),
        datasetTypesById: new Map(),
        collections: new Map(),
        collectionsById: new Map(),
        records: new Map(),
        savepoints: 0,
        closed: false,
        busyTimeoutMs,
      };
      return new Registry(shared, exec, 0);
    } catch (e) {
      await open.db.destroy().catch(() => {});
      throw mapError(open.dialect, e, busyTimeoutMs);
    }
  }

  /** Closes the database (the SQLite file, or the PostgreSQL pool). Idempotent. */
  async close(): Promise<void> {
    if (this.shared.closed) return;
    this.shared.closed = true;
    await this.shared.open.db.destroy();
  }

  /** Refreshes the planner's statistics (run after large ingests). */
  async optimize(): Promise<void> {
    await this.read(async (x) => {
      for (const s of this.shared.dialect.analyze) await x.exec(s);
    });
  }

  /** Drops the cached dataset types and collections (to see other processes' removals). */
  refresh(): void {
    this.invalidate();
  }

  /**
   * Runs `fn` in one transaction (a savepoint when nested): all its changes commit together,
   * or none when it throws. Use the registry passed to `fn` inside.
   */
  async transaction<T>(fn: (tx: Registry) => Promise<T>): Promise<T> {
    return this.write((x) => fn(new Registry(this.shared, x, this.depth + 1)));
  }

  // ---------------------------------------------------------------- transactions

  private checkOpen(): void {
    if (this.shared.closed) throw new RegistryClosedError();
  }

  private invalidate(): void {
    this.shared.datasetTypes.clear();
    this.shared.datasetTypesById.clear();
    this.shared.collections.clear();
    this.shared.collectionsById.clear();
    this.shared.records.clear();
  }

  private async read<T>(fn: (x: Executor) => Promise<T>): Promise<T> {
    this.checkOpen();
    if (this.depth > 0) return fn(this.exec);
    const release = this.shared.lock ? await this.shared.lock.acquire() : null;
    try {
      return await fn(this.exec);
    } catch (e) {
      throw mapError(this.shared.dialect, e, this.shared.busyTimeoutMs);
    } finally {
      release?.();
    }
  }

  private async write<T>(fn: (x: Executor) => Promise<T>): Promise<T> {
    this.checkOpen();
    const d = this.shared.dialect;
    if (this.depth > 0) {
      const sp = `sp_${++this.shared.savepoints}`;
      await this.exec.exec(`SAVEPOINT ${sp}`);
      try {
        const r = await fn(this.exec);
        await this.exec.exec(`RELEASE SAVEPOINT ${sp}`);
        return r;
      } catch (e) {
        try {
          await this.exec.exec(`ROLLBACK TO SAVEPOINT ${sp}`);
          await this.exec.exec(`RELEASE SAVEPOINT ${sp}`);
        } catch {
          // The outer transaction is unusable; its own rollback follows.
        }
        this.invalidate();
        throw mapError(d, e, this.shared.busyTimeoutMs);
      }
    }
    const release = this.shared.lock ? await this.shared.lock.acquire() : null;
    try {
      return await runWrite(this.shared.open, fn);
    } catch (e) {
      this.invalidate();
      throw mapError(d, e, this.shared.busyTimeoutMs);
    } finally {
      release?.();
    }
  }

  // ---------------------------------------------------------------- dataset types

  private static recordFromRow(
    universe: DimensionUniverse,
    d: SqlDialect,
    r: Row,
  ): DatasetTypeRecord {
    const required = JSON.parse(String(r.dimensions)) as string[];
    const type: DatasetType = {
      name: String(r.name),
      dimensions: required,
      storageClass: String(r.storage_class),
      ...(d.readBool(r.is_calibration) ? { isCalibration: true } : {}),
    };
    return {
      id: Number(r.dataset_type_id),
      type,
      required,
      closure: universe.closure(required),
      tagTable: String(r.tag_table),
    };
  }

  private async loadDatasetTypes(x: Executor): Promise<void> {
    const rows = await x.run(q`SELECT * FROM dataset_type ORDER BY name`);
    this.shared.datasetTypes.clear();
    this.shared.datasetTypesById.clear();
    for (const r of rows) {
      const rec = Registry.recordFromRow(this.universe, this.shared.dialect, r);
      this.shared.datasetTypes.set(rec.type.name, rec);
      this.shared.datasetTypesById.set(rec.id, rec);
    }
  }

  private async datasetTypeRecord(x: Executor, name: string): Promise<DatasetTypeRecord> {
    let rec = this.shared.datasetTypes.get(name);
    if (!rec) {
      await this.loadDatasetTypes(x);
      rec = this.shared.datasetTypes.get(name);
    }
    if (!rec) throw new MissingDatasetTypeError(name, [...this.shared.datasetTypes.keys()]);
    return rec;
  }

  private async datasetTypeById(x: Executor, id: number): Promise<DatasetTypeRecord> {
    let rec = this.shared.datasetTypesById.get(id);
    if (!rec) {
      await this.loadDatasetTypes(x);
      rec = this.shared.datasetTypesById.get(id);
    }
    if (!rec) throw new RegistryDatabaseError(`dataset type id ${id} vanished`, null);
    return rec;
  }

  private normalizeDatasetType(t: DatasetType): DatasetType {
    if (typeof t?.name !== 'string' || !NAME_RE.test(t.name) || t.name.length > 128) {
      throw new RegistryArgumentError(
        `dataset type name ${JSON.stringify(t?.name)} is invalid; use letters, digits and underscores, starting with a letter (at most 128)`,
      );
    }
    if (
      typeof t.storageClass !== 'string' ||
      t.storageClass.length === 0 ||
      t.storageClass.length > 128
    ) {
      throw new RegistryArgumentError(
        `dataset type '${t.name}' needs a storage class name (1-128 characters)`,
      );
    }
    if (!Array.isArray(t.dimensions)) {
      throw new RegistryArgumentError(
        `dataset type '${t.name}': dimensions must be a list of dimension names`,
      );
    }
    const required = this.universe.requiredOf(t.dimensions);
    return {
      name: t.name,
      dimensions: required,
      storageClass: t.storageClass,
      ...(t.isCalibration === true ? { isCalibration: true } : {}),
    };
  }

  /**
   * Registers a dataset type. Its dimensions are normalized to the required set of their
   * closure in universe order (e.g. `['instrument', 'visit', 'detector', 'band']` becomes
   * `['instrument', 'detector', 'visit']`).
   *
   * @returns true when inserted, false when an identical definition exists.
   * @throws ConflictingDefinitionError when a different definition exists.
   */
  async registerDatasetType(t: DatasetType): Promise<boolean> {
    const norm = this.normalizeDatasetType(t);
    const tagTable = tagTableName(norm.dimensions);
    return this.write(async (x) => {
      const lock = this.shared.dialect.schemaLock;
      if (lock) await x.run(lock);
      const existing = await x.run(q`SELECT * FROM dataset_type WHERE name = ${norm.name}`);
      if (existing.length > 0) {
        const rec = Registry.recordFromRow(this.universe, this.shared.dialect, existing[0]!);
        this.checkSameDatasetType(rec.type, norm);
        return false;
      }
      for (const ddl of tagTableDdl(this.universe, this.shared.dialect, norm.dimensions))
        await x.exec(ddl);
      await x.run(
        q`INSERT INTO dataset_type (name, dimensions, storage_class, is_calibration, tag_table)
          VALUES (${norm.name}, ${JSON.stringify(norm.dimensions)}, ${norm.storageClass}, ${norm.isCalibration === true}, ${tagTable})`,
      );
      this.shared.datasetTypes.delete(norm.name);
      return true;
    });
  }

  private checkSameDatasetType(have: DatasetType, want: DatasetType): void {
    const diffs: string[] = [];
    if (have.dimensions.join(',') !== want.dimensions.join(',')) {
      diffs.push(`dimensions [${have.dimensions.join(', ')}] vs [${want.dimensions.join(', ')}]`);
    }
    if (have.storageClass !== want.storageClass) {
      diffs.push(`storage class ${have.storageClass} vs ${want.storageClass}`);
    }
    if ((have.isCalibration === true) !== (want.isCalibration === true)) {
      diffs.push(`isCalibration ${have.isCalibration === true} vs ${want.isCalibration === true}`);
    }
    if (diffs.length > 0) {
      throw new ConflictingDefinitionError(
        `dataset type '${have.name}' is already registered with a different definition (${diffs.join('; ')}); ` +
          'use another name, or remove the old type and its datasets first',
      );
    }
  }

  /** The registered dataset type `name`. @throws MissingDatasetTypeError */
  async getDatasetType(name: string): Promise<DatasetType> {
    return this.read(async (x) => (await this.datasetTypeRecord(x, name)).type);
  }

  /** Registered dataset types whose names match (glob with `*`/`?`, or RegExp), by name. */
  async queryDatasetTypes(pattern?: string | RegExp): Promise<DatasetType[]> {
    return this.read(async (x) => {
      await this.loadDatasetTypes(x);
      const all = [...this.shared.datasetTypes.values()].map((r) => r.type);
      if (pattern === undefined) return all;
      const re = typeof pattern === 'string' ? globToRegExp(pattern) : pattern;
      return all.filter((t) => re.test(t.name));
    });
  }

  // ---------------------------------------------------------------- collections

  private cacheCollection(rec: CollectionRecord): CollectionRecord {
    this.shared.collections.set(rec.name, rec);
    this.shared.collectionsById.set(rec.id, rec);
    return rec;
  }

  private static collectionFromRow(r: Row): CollectionRecord {
    return {
      id: Number(r.collection_id),
      name: String(r.name),
      type: String(r.type) as CollectionType,
    };
  }

  private async findCollection(x: Executor, name: string): Promise<CollectionRecord | null> {
    const c = this.shared.collections.get(name);
    if (c) return c;
    const rows = await x.run(
      q`SELECT collection_id, name, type FROM collection WHERE name = ${name}`,
    );
    return rows.length === 0 ? null : this.cacheCollection(Registry.collectionFromRow(rows[0]!));
  }

  private async collection(x: Executor, name: string): Promise<CollectionRecord> {
    if (typeof name !== 'string')
      throw new RegistryArgumentError(`collection names are strings, got ${typeof name}`);
    const c = await this.findCollection(x, name);
    if (!c) throw new MissingCollectionError(name);
    return c;
  }

  private async collectionById(x: Executor, id: number): Promise<CollectionRecord> {
    const c = this.shared.collectionsById.get(id);
    if (c) return c;
    const rows = await x.run(
      q`SELECT collection_id, name, type FROM collection WHERE collection_id = ${id}`,
    );
    if (rows.length === 0) throw new RegistryDatabaseError(`collection id ${id} vanished`, null);
    return this.cacheCollection(Registry.collectionFromRow(rows[0]!));
  }

  private async allCollections(x: Executor): Promise<CollectionRecord[]> {
    const rows = await x.run(q`SELECT collection_id, name, type FROM collection ORDER BY name`);
    return rows.map((r) => this.cacheCollection(Registry.collectionFromRow(r)));
  }

  private async chainChildren(x: Executor, parentId: number): Promise<CollectionRecord[]> {
    const rows = await x.run(
      q`SELECT c.collection_id, c.name, c.type FROM collection_chain ch JOIN collection c ON c.collection_id = ch.child
        WHERE ch.parent = ${parentId} ORDER BY ch.position`,
    );
    return rows.map((r) => this.cacheCollection(Registry.collectionFromRow(r)));
  }

  /** Every collection reachable from `rec` (itself included), depth-first in chain order. */
  private async descendants(
    x: Executor,
    rec: CollectionRecord,
    seen = new Set<number>(),
  ): Promise<CollectionRecord[]> {
    if (seen.has(rec.id)) return [];
    seen.add(rec.id);
    const out = [rec];
    if (rec.type === 'CHAINED') {
      for (const c of await this.chainChildren(x, rec.id))
        out.push(...(await this.descendants(x, c, seen)));
    }
    return out;
  }

  /**
   * The collections a search goes through, in order: names resolved, chains flattened,
   * duplicates dropped (first kept). Patterns (`*`, `?`) are allowed unless `ordered`.
   * CALIBRATION collections are skipped (no validity-range search is implemented).
   */
  private async searchPath(
    x: Executor,
    collections: string | readonly string[],
    ordered: boolean,
  ): Promise<CollectionRecord[]> {
    const names = asList(collections);
    const out: CollectionRecord[] = [];
    const seen = new Set<number>();
    let all: CollectionRecord[] | null = null;
    for (const n of names) {
      let recs: CollectionRecord[];
      if (isGlob(n)) {
        if (ordered) {
          throw new RegistryArgumentError(
            `collection pattern '${n}' cannot be used with findFirst (the search order must be explicit); name the collections`,
          );
        }
        all ??= await this.allCollections(x);
        const re = globToRegExp(n);
        recs = all.filter((c) => re.test(c.name));
      } else {
        recs = [await this.collection(x, n)];
      }
      for (const r of recs) {
        for (const d of await this.descendants(x, r)) {
          if (d.type === 'CHAINED' || d.type === 'CALIBRATION' || seen.has(d.id)) continue;
          seen.add(d.id);
          out.push(d);
        }
      }
    }
    return out;
  }

  private checkCollectionName(name: string): void {
    if (
      typeof name !== 'string' ||
      name.length === 0 ||
      name.length > 256 ||
      hasControlCharacters(name) ||
      /[*?]/.test(name)
    ) {
      throw new RegistryArgumentError(
        `collection name ${JSON.stringify(name)} is invalid; use 1-256 printable characters without '*' or '?'`,
      );
    }
  }

  /** Registers a RUN collection. @returns true when created. */
  async registerRun(name: string, doc?: string): Promise<boolean> {
    return this.registerCollection(name, 'RUN', doc);
  }

  /**
   * Registers a collection of a type.
   *
   * @returns true when created, false when it exists with the same type.
   * @throws ConflictingDefinitionError when it exists with another type.
   */
  async registerCollection(name: string, type: CollectionType, doc?: string): Promise<boolean> {
    this.checkCollectionName(name);
    if (!COLLECTION_TYPES.includes(type)) {
      throw new RegistryArgumentError(
        `collection type ${JSON.stringify(type)} is not one of ${COLLECTION_TYPES.join(', ')}`,
      );
    }
    return this.write(async (x) => {
      const rows = await x.run(
        q`INSERT INTO collection (name, type, doc) VALUES (${name}, ${type}, ${doc ?? null})
          ON CONFLICT (name) DO NOTHING RETURNING collection_id`,
      );
      if (rows.length > 0) {
        this.cacheCollection({ id: Number(rows[0]!.collection_id), name, type });
        return true;
      }
      this.shared.collections.delete(name);
      const existing = await this.collection(x, name);
      if (existing.type !== type) {
        throw new ConflictingDefinitionError(
          `collection '${name}' exists as ${existing.type}, not ${type}; choose another name`,
        );
      }
      return false;
    });
  }

  /** The type of collection `name`. @throws MissingCollectionError */
  async getCollectionType(name: string): Promise<CollectionType> {
    return this.read(async (x) => (await this.collection(x, name)).type);
  }

  /** The direct children of a CHAINED collection, in order. */
  async getCollectionChain(parent: string): Promise<string[]> {
    return this.read(async (x) => {
      const p = await this.collection(x, parent);
      if (p.type !== 'CHAINED') {
        throw new CollectionTypeError(
          parent,
          `collection '${parent}' is ${p.type}, not CHAINED; it has no chain`,
        );
      }
      return (await this.chainChildren(x, p.id)).map((c) => c.name);
    });
  }

  /**
   * Changes a CHAINED collection's children: `redefine` (default) replaces them, `prepend`
   * puts `children` first and `extend` last (moving any already present), `remove` drops
   * them, `pop` drops the children at the positions given as integers in `children`
   * (default the first; negative counts from the end).
   *
   * @throws CollectionCycleError when a child is the parent or contains it.
   */
  async setCollectionChain(
    parent: string,
    children: readonly string[],
    o: { mode?: ChainMode } = {},
  ): Promise<void> {
    const mode = o.mode ?? 'redefine';
    await this.write(async (x) => {
      const p = await this.collection(x, parent);
      if (p.type !== 'CHAINED') {
        throw new CollectionTypeError(
          parent,
          `collection '${parent}' is ${p.type}; only CHAINED collections have children`,
        );
      }
      await x.run(
        q`SELECT collection_id FROM collection WHERE collection_id = ${p.id}${raw(this.shared.dialect.lockRowsSuffix)}`,
      );
      const old = (await this.chainChildren(x, p.id)).map((c) => c.name);
      const uniq = [...new Set(children)];
      let next: string[];
      switch (mode) {
        case 'redefine':
          next = uniq;
          break;
        case 'prepend':
          next = [...uniq, ...old.filter((c) => !uniq.includes(c))];
          break;
        case 'extend':
          next = [...old.filter((c) => !uniq.includes(c)), ...uniq];
          break;
        case 'remove':
          next = old.filter((c) => !uniq.includes(c));
          break;
        case 'pop': {
          const idx = (uniq.length === 0 ? ['0'] : uniq).map((s) => {
            const n = Number(s);
            const i = n < 0 ? old.length + n : n;
            if (!Number.isInteger(n) || i < 0 || i >= old.length) {
              throw new RegistryArgumentError(
                `cannot pop position ${s} of chain '${parent}' (it has ${old.length} children); give integer positions`,
              );
            }
            return i;
          });
          next = old.filter((_, i) => !idx.includes(i));
          break;
        }
        default:
          throw new RegistryArgumentError(
            `unknown chain mode ${JSON.stringify(mode)}; use redefine, prepend, extend, remove or pop`,
          );
      }
      const recs: CollectionRecord[] = [];
      for (const name of next) {
        const c = await this.collection(x, name);
        if (c.id === p.id) throw new CollectionCycleError(parent, name);
        if (c.type === 'CHAINED') {
          const desc = await this.descendants(x, c);
          if (desc.some((d) => d.id === p.id)) throw new CollectionCycleError(parent, name);
        }
        recs.push(c);
      }
      await this.writeChain(
        x,
        p.id,
        recs.map((r) => r.id),
      );
    });
  }

  private async writeChain(
    x: Executor,
    parentId: number,
    childIds: readonly number[],
  ): Promise<void> {
    await x.run(q`DELETE FROM collection_chain WHERE parent = ${parentId}`);
    if (childIds.length === 0) return;
    await x.run(
      q`INSERT INTO collection_chain (parent, position, child) VALUES ${join(
        childIds.map((c, i) => q`(${parentId}, ${i}, ${c})`),
        ', ',
      )}`,
    );
  }

  /**
   * Collections matching `pattern` (glob or exact name; all when omitted) and `types`, by
   * name. With `flattenChains`, the descendants of matching CHAINED collections follow them.
   */
  async queryCollections(
    o: { pattern?: string; types?: CollectionType[]; flattenChains?: boolean } = {},
  ): Promise<CollectionInfo[]> {
    return this.read(async (x) => {
      const rows = await x.run(
        q`SELECT collection_id, name, type, doc FROM collection ORDER BY name`,
      );
      const docs = new Map<number, string>();
      const all = rows.map((r) => {
        if (r.doc !== null && r.doc !== undefined) docs.set(Number(r.collection_id), String(r.doc));
        return this.cacheCollection(Registry.collectionFromRow(r));
      });
      const re = o.pattern === undefined ? null : globToRegExp(o.pattern);
      const matched = all.filter((c) => re === null || re.test(c.name));
      const ordered: CollectionRecord[] = [];
      const seen = new Set<number>();
      for (const c of matched) {
        const list = o.flattenChains ? await this.descendants(x, c) : [c];
        for (const d of list) {
          if (seen.has(d.id)) continue;
          seen.add(d.id);
          ordered.push(d);
        }
      }
      const out: CollectionInfo[] = [];
      for (const c of ordered) {
        if (o.types && !o.types.includes(c.type)) continue;
        const doc = docs.get(c.id);
        const info: { name: string; type: CollectionType; children?: string[]; doc?: string } = {
          name: c.name,
          type: c.type,
        };
        if (c.type === 'CHAINED')
          info.children = (await this.chainChildren(x, c.id)).map((k) => k.name);
        if (doc !== undefined) info.doc = doc;
        out.push(info);
      }
      return out;
    });
  }

  /**
   * Removes a collection. A RUN takes its datasets with it (refused while the datastore
   * records files for them); a TAGGED collection loses its associations; a CHAINED one its
   * chain.
   *
   * @throws CollectionInUseError while a chain includes it; DatastoreRecordsExistError.
   */
  async removeCollection(name: string): Promise<void> {
    await this.write((x) => this.removeCollectionIn(x, name));
  }

  private async removeCollectionIn(x: Executor, name: string): Promise<void> {
    const c = await this.collection(x, name);
    const parents = await x.run(
      q`SELECT p.name FROM collection_chain ch JOIN collection p ON p.collection_id = ch.parent WHERE ch.child = ${c.id} ORDER BY p.name`,
    );
    if (parents.length > 0)
      throw new CollectionInUseError(
        name,
        parents.map((r) => String(r.name)),
      );
    if (c.type === 'RUN') {
      const held = await x.run(
        q`SELECT r.dataset_id FROM datastore_record r JOIN dataset d ON d.id = r.dataset_id WHERE d.run_id = ${c.id} LIMIT 5`,
      );
      if (held.length > 0)
        throw new DatastoreRecordsExistError(held.map((r) => String(r.dataset_id)));
      await x.run(q`DELETE FROM dataset WHERE run_id = ${c.id}`);
    }
    if (c.type === 'TAGGED' || c.type === 'RUN') {
      for (const t of await this.tagTables(x))
        await x.run(q`DELETE FROM ${ident(t)} WHERE collection_id = ${c.id}`);
    }
    await x.run(q`DELETE FROM collection WHERE collection_id = ${c.id}`);
    this.shared.collections.delete(c.name);
    this.shared.collectionsById.delete(c.id);
  }

  private async tagTables(x: Executor): Promise<string[]> {
    const rows = await x.run(q`SELECT DISTINCT tag_table FROM dataset_type ORDER BY tag_table`);
    return rows.map((r) => String(r.tag_table));
  }

  /**
   * Removes RUN collections and their datasets, first taking them out of any chains that
   * include them. Refused while the datastore records files for their datasets.
   */
  async removeRuns(names: readonly string[]): Promise<void> {
    await this.write(async (x) => {
      for (const name of names) {
        const c = await this.collection(x, name);
        if (c.type !== 'RUN') {
          throw new CollectionTypeError(
            name,
            `'${name}' is a ${c.type} collection, not a RUN; use removeCollection`,
          );
        }
        const parents = await x.run(
          q`SELECT DISTINCT parent FROM collection_chain WHERE child = ${c.id}`,
        );
        for (const p of parents) {
          const pid = Number(p.parent);
          const kids = (await this.chainChildren(x, pid)).filter((k) => k.id !== c.id);
          await this.writeChain(
            x,
            pid,
            kids.map((k) => k.id),
          );
        }
        await this.removeCollectionIn(x, name);
      }
    });
  }

  // ---------------------------------------------------------------- dimension records

  /**
   * Checks and converts one record for an element's table: keys and implied values by the
   * universe's rules; fields by type (int, float, string within length, bool, timestamp
   * normalized to ISO text, region as a convex polygon stored as JSON).
   */
  private normalizeRecord(
    e: DimensionElement,
    rec: Readonly<Record<string, unknown>>,
  ): { values: Map<string, unknown>; region: ConvexPolygon | null } {
    if (typeof rec !== 'object' || rec === null) {
      throw new RegistryArgumentError(`a ${e.name} record must be an object of column values`);
    }
    const known = new Set(e.columns.map((c) => c.name));
    const unknown = Object.keys(rec).filter((k) => !known.has(k));
    if (unknown.length > 0) {
      throw new RegistryArgumentError(
        `${e.name} record has unknown fields ${unknown.map((k) => `'${k}'`).join(', ')}; ` +
          `its columns are: ${[...known].join(', ')}`,
      );
    }
    const values = new Map<string, unknown>();
    let region: ConvexPolygon | null = null;
    for (const c of e.columns) {
      const v = rec[c.name];
      if (c.role !== 'field') {
        if (v === undefined || v === null) {
          throw new DataIdError(
            'DATAID_MISSING_KEYS',
            `${e.name} record ${formatDataId(rec)} lacks '${c.name}' (the ${c.dimension} value); give it`,
            [c.dimension!],
          );
        }
        values.set(c.name, this.universe.normalizeValue(c.dimension!, v));
        continue;
      }
      if (v === undefined || v === null) {
        values.set(c.name, null);
        continue;
      }
      const what = `${e.name}.${c.name}`;
      switch (c.type) {
        case 'int':
          if (!(typeof v === 'number' && Number.isSafeInteger(v))) {
            throw new RegistryArgumentError(`${what} must be an integer, got ${JSON.stringify(v)}`);
          }
          values.set(c.name, v);
          break;
        case 'float':
          if (!(typeof v === 'number' && Number.isFinite(v))) {
            throw new RegistryArgumentError(
              `${what} must be a finite number, got ${JSON.stringify(v)}`,
            );
          }
          values.set(c.name, v);
          break;
        case 'string':
          if (typeof v !== 'string' || (c.length !== null && v.length > c.length)) {
            throw new RegistryArgumentError(
              `${what} must be a string${c.length !== null ? ` of at most ${c.length} characters` : ''}, got ${JSON.stringify(v)}`,
            );
          }
          values.set(c.name, v);
          break;
        case 'bool':
          if (typeof v !== 'boolean')
            throw new RegistryArgumentError(
              `${what} must be true or false, got ${JSON.stringify(v)}`,
            );
          values.set(c.name, v);
          break;
        case 'timestamp':
          values.set(c.name, normalizeTimestamp(v, what));
          break;
        case 'region': {
          try {
            region =
              v instanceof ConvexPolygon
                ? v
                : ConvexPolygon.fromRaDec(v as ReadonlyArray<readonly [number, number]>);
          } catch (err) {
            if (err instanceof RegionError) throw new RegionError(`${what}: ${err.message}`);
            throw err;
          }
          values.set(c.name, regionToJson(region));
          break;
        }
      }
    }
    return { values, region };
  }

  private maxRows(columns: number): number {
    const d = this.shared.dialect;
    return Math.max(
      1,
      Math.min(d.maxRowsPerInsert, Math.floor(d.maxParameters / Math.max(1, columns)) - 1),
    );
  }

  private async insertRows(
    x: Executor,
    table: string,
    columns: readonly string[],
    rows: readonly (readonly unknown[])[],
    suffix: Sql = rawSql(''),
  ): Promise<Row[]> {
    const out: Row[] = [];
    const head = `INSERT INTO ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) VALUES (`;
    const n = columns.length;
    for (const batch of chunks(rows, this.maxRows(n))) {
      // Built directly (not with q``) because ingests send hundreds of thousands of values.
      const text: string[] = [head];
      const values: unknown[] = [];
      batch.forEach((r, i) => {
        for (let c = 0; c < n; c++) {
          values.push(r[c]);
          text.push(c < n - 1 ? ', ' : i < batch.length - 1 ? '), (' : ')');
        }
      });
      out.push(...(await x.run(q`${{ text, values }}${suffix}`)));
    }
    return out;
  }

  /**
   * Inserts dimension records of `element` (objects keyed by the element's columns, e.g. a
   * visit: `{instrument, id, physical_filter, day_obs, exposure_time, ..., region}`). Key-only
   * elements the records imply (band, day_obs) are created as needed.
   *
   * @throws ConflictingDefinitionError when a record exists (unless `skipExisting`);
   *   DataIdError when a referenced record (instrument, physical_filter, ...) is missing.
   */
  async insertDimensionData(
    element: string,
    records: readonly Record<string, unknown>[],
    o: { skipExisting?: boolean } = {},
  ): Promise<void> {
    const e = this.universe.element(element);
    const norm = records.map((r) => this.normalizeRecord(e, r));
    if (norm.length === 0) return;
    const keyCols = keyColumns(this.universe, e);
    const seen = new Set<string>();
    for (const n of norm) {
      const k = JSON.stringify(keyCols.map((c) => n.values.get(c)));
      if (seen.has(k) && o.skipExisting !== true) {
        throw new ConflictingDefinitionError(`${element} record ${k} appears twice in one insert`);
      }
      seen.add(k);
    }
    try {
      await this.write((x) => this.insertRecordsIn(x, e, norm, o.skipExisting === true));
    } catch (err) {
      throw await this.explainRecordError(err, e, norm);
    }
  }

  private async insertRecordsIn(
    x: Executor,
    e: DimensionElement,
    norm: ReadonlyArray<{ values: Map<string, unknown>; region: ConvexPolygon | null }>,
    skipExisting: boolean,
  ): Promise<number> {
    const u = this.universe;
    for (const imp of e.implies) {
      const ie = u.dimension(imp);
      if (!ie.populatedFromImplied) continue;
      const cols = keyColumns(u, ie);
      const tuples = new Map<string, unknown[]>();
      for (const n of norm) {
        const t = ie.keyDimensions.map((k) => n.values.get(u.columnFor(e, k)));
        tuples.set(JSON.stringify(t), t);
      }
      await this.insertRows(
        x,
        ie.name,
        cols,
        [...tuples.values()],
        rawSql(' ON CONFLICT DO NOTHING'),
      );
    }
    const cols = e.columns.map((c) => c.name);
    const keyCols = keyColumns(u, e);
    const rows = norm.map((n) => cols.map((c) => n.values.get(c)));
    let inserted: ReadonlyArray<{ values: Map<string, unknown>; region: ConvexPolygon | null }> =
      norm;
    if (skipExisting) {
      const back = await this.insertRows(
        x,
        e.name,
        cols,
        rows,
        q` ON CONFLICT DO NOTHING RETURNING ${raw(keyCols.map(quoteIdent).join(', '))}`,
      );
      const got = new Set(back.map((r) => JSON.stringify(keyCols.map((c) => r[c]))));
      inserted = norm.filter((n) => got.has(JSON.stringify(keyCols.map((c) => n.values.get(c)))));
    } else {
      await this.insertRows(x, e.name, cols, rows);
    }
    if (e.regionColumn !== null) {
      const pix: unknown[][] = [];
      for (const n of inserted) {
        if (!n.region) continue;
        const key = keyCols.map((c) => n.values.get(c));
        for (const p of this.shared.htm.envelope(n.region)) pix.push([...key, p]);
      }
      if (pix.length > 0)
        await this.insertRows(x, skypixTable(e), [...e.keyDimensions, 'skypix'], pix);
    }
    return inserted.length;
  }

  private async explainRecordError(
    err: unknown,
    e: DimensionElement,
    norm: ReadonlyArray<{ values: Map<string, unknown> }>,
  ): Promise<unknown> {
    const kind = this.shared.dialect.classifyError((err as { cause?: unknown })?.cause ?? err);
    if (kind === 'unique') {
      const keyCols = keyColumns(this.universe, e);
      const tuples = norm
        .slice(0, this.maxRows(keyCols.length))
        .map((n) => keyCols.map((c) => n.values.get(c)));
      const found = await this.read((x) =>
        x.run(
          q`SELECT ${raw(keyCols.map(quoteIdent).join(', '))} FROM ${ident(e.name)} WHERE ${this.shared.dialect.tupleIn(
            keyCols.map((c) => q`${ident(c)}`),
            tuples,
          )} LIMIT 1`,
        ),
      ).catch(() => []);
      const example = found[0] ?? Object.fromEntries(keyCols.map((c, i) => [c, tuples[0]?.[i]]));
      return new ConflictingDefinitionError(
        `a ${e.name} record with the same key as one being inserted already exists ` +
          `(${formatDataId(Object.fromEntries(keyCols.map((c) => [c, example[c]])))}); ` +
          'pass skipExisting: true to keep the existing records, or use syncDimensionData',
        { cause: err },
      );
    }
    if (kind === 'foreign_key') {
      const deps = [...e.requires, ...e.implies].filter(
        (d) => !this.universe.dimension(d).populatedFromImplied,
      );
      return new DataIdError(
        'DATAID_NO_RECORD',
        `a ${e.name} record refers to a ${deps.join(' / ')} record that does not exist; insert those records first`,
        deps,
      );
    }
    return err;
  }

  /**
   * Inserts a record if absent; if present, checks it is identical.
   *
   * @returns true when inserted, false when an identical record existed.
   * @throws ConflictingDefinitionError naming the fields that differ.
   */
  async syncDimensionData(element: string, record: Record<string, unknown>): Promise<boolean> {
    const e = this.universe.element(element);
    const n = this.normalizeRecord(e, record);
    const keyCols = keyColumns(this.universe, e);
    try {
      return await this.write(async (x) => {
        const where = and(keyCols.map((c) => q`${ident(c)} = ${n.values.get(c)}`));
        let rows = await x.run(q`SELECT * FROM ${ident(e.name)} WHERE ${where}`);
        if (rows.length === 0) {
          if ((await this.insertRecordsIn(x, e, [n], true)) === 1) return true;
          rows = await x.run(q`SELECT * FROM ${ident(e.name)} WHERE ${where}`);
        }
        const have = rows[0]!;
        const diffs: string[] = [];
        for (const c of e.columns) {
          const want = n.values.get(c.name);
          let got = have[c.name];
          if (c.type === 'bool' && got !== null && got !== undefined)
            got = this.shared.dialect.readBool(got);
          const same =
            (want === null || want === undefined) && (got === null || got === undefined)
              ? true
              : c.type === 'int' || c.type === 'float'
                ? Number(got) === Number(want)
                : String(got) === String(want);
          if (!same)
            diffs.push(`${c.name}: stored ${JSON.stringify(got)}, given ${JSON.stringify(want)}`);
        }
        if (diffs.length > 0) {
          throw new ConflictingDefinitionError(
            `${element} record ${formatDataId(Object.fromEntries(keyCols.map((c) => [c, n.values.get(c)])))} ` +
              `exists with different values (${diffs.join('; ')}); fix the input or remove the old record`,
          );
        }
        return false;
      });
    } catch (err) {
      throw await this.explainRecordError(err, e, [n]);
    }
  }

  /**
   * Fetches the records needed to expand many data IDs of `dimensions` and expands them
   * (implied values added, records checked). Batched: one query per element.
   */
  private async expandMany(
    x: Executor,
    dimensions: readonly string[],
    dataIds: readonly Readonly<Record<string, unknown>>[],
  ): Promise<DataId[]> {
    const u = this.universe;
    const closure = u.closure(dimensions);
    const norm = dataIds.map((d) => u.validateDataId(closure, d));
    const work = norm.map((d) => ({ ...d }) as Record<string, DataIdValue>);
    const records = new Map<string, Map<string, Row>>();
    const keyOf = (vals: readonly unknown[]): string => vals.join('\u001f');
    let suspect = false;
    // Implied dimensions come before the elements implying them, so walking backwards
    // fills visit -> physical_filter -> band before their records are fetched.
    for (let i = closure.length - 1; i >= 0; i--) {
      const e = u.dimension(closure[i]!);
      const cols = keyColumns(u, e);
      const tuples = new Map<string, DataIdValue[]>();
      for (const w of work) {
        const t = e.keyDimensions.map((k) => w[k]);
        if (t.every((v) => v !== undefined)) tuples.set(keyOf(t), t as DataIdValue[]);
        else suspect = true;
      }
      let byKey = this.shared.records.get(e.name);
      if (!byKey) {
        byKey = new Map<string, Row>();
        this.shared.records.set(e.name, byKey);
      }
      const needed = e.implies.length > 0 ? cols.concat(e.implies) : cols;
      const unknown = [...tuples].filter(([k]) => !byKey.has(k)).map(([, t]) => t);
      for (const batch of chunks(unknown, this.maxRows(cols.length))) {
        const rows = await x.run(
          q`SELECT ${raw(needed.map(quoteIdent).join(', '))} FROM ${ident(e.name)} WHERE ${this.shared.dialect.tupleIn(
            cols.map((c) => q`${ident(c)}`),
            batch,
          )}`,
        );
        for (const r of rows) byKey.set(keyOf(cols.map((c) => r[c])), r);
      }
      if (byKey.size > 200_000) this.shared.records.delete(e.name);
      records.set(e.name, byKey);
      for (const w of work) {
        const rec = byKey.get(keyOf(e.keyDimensions.map((k) => w[k])));
        if (!rec) {
          suspect = true;
          continue;
        }
        for (const imp of e.implies) {
          const v = rec[imp] as DataIdValue | null | undefined;
          if (v === null || v === undefined) continue;
          if (w[imp] === undefined) w[imp] = v;
          else if (w[imp] !== v) suspect = true;
        }
      }
    }
    if (suspect) {
      // Something is missing or contradicts a record: let the universe say what, exactly.
      const lookup = (el: DimensionElement, key: readonly DataIdValue[]) =>
        records.get(el.name)?.get(keyOf(key));
      for (const d of norm) u.expandDataId(closure, d, lookup);
    }
    return work.map((w) => {
      const out: Record<string, DataIdValue> = {};
      for (const d of closure) out[d] = w[d]!;
      return out;
    });
  }

  /**
   * A data ID with its implied values added (band from physical_filter, ...), after checking
   * that every dimension's record exists.
   *
   * @throws DataIdError (missing/unknown keys, bad values, missing records, contradictions)
   */
  async expandDataId(dataId: Readonly<Record<string, unknown>>): Promise<DataId> {
    const keys = Object.keys(dataId);
    const unknown = keys.filter((k) => !this.universe.isDimension(k));
    if (unknown.length > 0) this.universe.normalizeDataId(dataId);
    return this.read(async (x) => (await this.expandMany(x, keys, [dataId]))[0]!);
  }

  // ---------------------------------------------------------------- datasets

  private requiredPart(rec: DatasetTypeRecord, dataId: DataId): DataId {
    const out: Record<string, DataIdValue> = {};
    for (const d of rec.required) out[d] = dataId[d]!;
    return out;
  }

  private async runRecord(x: Executor, run: string): Promise<CollectionRecord> {
    const c = await this.collection(x, run);
    if (c.type !== 'RUN') {
      throw new CollectionTypeError(
        run,
        `'${run}' is a ${c.type} collection; datasets are inserted into RUN collections`,
      );
    }
    return c;
  }

  private async insertDatasetRows(
    x: Executor,
    rec: DatasetTypeRecord,
    run: CollectionRecord,
    refs: readonly DatasetRef[],
  ): Promise<void> {
    const now = normalTime(new Date());
    await this.insertRows(
      x,
      'dataset',
      ['id', 'dataset_type_id', 'run_id', 'ingest_date'],
      refs.map((r) => [r.id, rec.id, run.id, now]),
    );
    await this.insertRows(
      x,
      rec.tagTable,
      ['dataset_type_id', 'dataset_id', 'collection_id', ...rec.required],
      refs.map((r) => [rec.id, r.id, run.id, ...rec.required.map((d) => r.dataId[d])]),
    );
  }

  /**
   * Inserts new datasets of type `type` into RUN `run`, one per data ID (data IDs are
   * expanded; implied values may be given and are checked). Ids follow `idMode` (default
   * UNIQUE) or are given in `ids`.
   *
   * @throws ConflictingDefinitionError when the run already holds a dataset of this type and
   *   data ID (or an id exists); DataIdError; MissingDatasetTypeError; MissingCollectionError.
   */
  async insertDatasets(
    type: string,
    dataIds: readonly DataId[],
    run: string,
    o: { idMode?: IdGenerationMode; ids?: readonly string[] } = {},
  ): Promise<DatasetRef[]> {
    const mode = o.idMode ?? 'UNIQUE';
    if (!['UNIQUE', 'DATAID_TYPE', 'DATAID_TYPE_RUN'].includes(mode)) {
      throw new RegistryArgumentError(
        `idMode ${JSON.stringify(mode)} is not UNIQUE, DATAID_TYPE or DATAID_TYPE_RUN`,
      );
    }
    if (o.ids && o.ids.length !== dataIds.length) {
      throw new RegistryArgumentError(
        `got ${o.ids.length} ids for ${dataIds.length} data IDs; give one id per data ID`,
      );
    }
    const ids = o.ids?.map((id) => {
      const n = normalizeUuid(String(id));
      if (n === null)
        throw new RegistryArgumentError(`dataset id ${JSON.stringify(id)} is not a UUID`);
      return n;
    });
    let refs: DatasetRef[] = [];
    let rec: DatasetTypeRecord | undefined;
    try {
      return await this.write(async (x) => {
        rec = await this.datasetTypeRecord(x, type);
        const r = rec;
        const runRec = await this.runRecord(x, run);
        const expanded = await this.expandMany(x, r.type.dimensions, dataIds);
        const seen = new Map<string, number>();
        expanded.forEach((d, i) => {
          const k = r.required.map((c) => d[c]).join('\u001f');
          if (seen.has(k)) {
            throw new ConflictingDefinitionError(
              `data ID ${formatDataId(this.requiredPart(r, d))} appears twice (items ${seen.get(k)} and ${i}) in one insert of '${type}'`,
            );
          }
          seen.set(k, i);
        });
        refs = expanded.map((d, i) => ({
          id: ids?.[i] ?? datasetId(mode, r.type.name, this.requiredPart(r, d), run),
          datasetType: r.type,
          dataId: d,
          run,
        }));
        await this.insertDatasetRows(x, r, runRec, refs);
        return refs;
      });
    } catch (err) {
      throw await this.explainDatasetConflict(err, rec, run, refs);
    }
  }

  private async explainDatasetConflict(
    err: unknown,
    rec: DatasetTypeRecord | undefined,
    run: string,
    refs: readonly DatasetRef[],
  ): Promise<unknown> {
    if (rec === undefined || refs.length === 0) return err;
    const d = this.shared.dialect;
    const kind = d.classifyError((err as { cause?: unknown })?.cause ?? err);
    if (kind !== 'unique') return err;
    const r = rec;
    const clash = await this.read(async (x) => {
      const runRec = await this.collection(x, run);
      for (const batch of chunks(refs, this.maxRows(r.required.length))) {
        // A dimensionless type (a task config) has one dataset per run: any row clashes.
        const byDataId =
          r.required.length === 0
            ? rawSql('1=1')
            : d.tupleIn(
                r.required.map((c) => q`${ident(c)}`),
                batch.map((ref) => r.required.map((c) => ref.dataId[c])),
              );
        const rows = await x.run(
          q`SELECT ${raw([...r.required.map(quoteIdent), 'dataset_id'].join(', '))} FROM ${ident(r.tagTable)}
            WHERE dataset_type_id = ${r.id} AND collection_id = ${runRec.id} AND ${byDataId} LIMIT 1`,
        );
        if (rows.length > 0) return rows[0]!;
      }
      return null;
    });
    if (clash) {
      const dataId = Object.fromEntries(r.required.map((c) => [c, clash[c]]));
      return new ConflictingDefinitionError(
        `run '${run}' already holds a '${r.type.name}' dataset with data ID ${formatDataId(dataId)} ` +
          `(id ${String(clash.dataset_id)}); write to a new run, or remove the existing dataset first`,
        { cause: err },
      );
    }
    return new ConflictingDefinitionError(
      `a dataset id being inserted into '${run}' already exists (deterministic ids repeat for the same type and ` +
        'data ID: use idMode DATAID_TYPE_RUN to make them differ per run, or UNIQUE)',
      { cause: err },
    );
  }

  /**
   * Imports datasets with their given ids (export/import, transfers). Their dataset types
   * must be registered with the same definition and their runs must exist. Datasets already
   * present with the same id, type, run and data ID are skipped (re-imports are idempotent).
   *
   * @throws ConflictingDefinitionError for an id present with other details, or another
   *   dataset of the type and data ID in the run.
   */
  async importDatasets(refs: readonly DatasetRef[]): Promise<void> {
    await this.write(async (x) => {
      const groups = new Map<string, DatasetRef[]>();
      for (const r of refs) {
        if (!isUuid(normalizeUuid(String(r.id)) ?? '')) {
          throw new RegistryArgumentError(`dataset id ${JSON.stringify(r.id)} is not a UUID`);
        }
        const k = `${r.datasetType.name}\u0000${r.run}`;
        const g = groups.get(k) ?? [];
        groups.set(k, g);
        g.push(r);
      }
      for (const g of groups.values()) {
        const first = g[0]!;
        const rec = await this.datasetTypeRecord(x, first.datasetType.name);
        this.checkSameDatasetType(rec.type, this.normalizeDatasetType(first.datasetType));
        const run = await this.runRecord(x, first.run);
        const expanded = await this.expandMany(
          x,
          rec.type.dimensions,
          g.map((r) => r.dataId),
        );
        const wanted = g.map((r, i) => ({ ...r, id: normalizeUuid(r.id)!, dataId: expanded[i]! }));
        const existing = new Map<string, Row>();
        for (const batch of chunks(wanted, this.maxRows(1))) {
          const rows = await x.run(
            q`SELECT d.id, d.dataset_type_id, d.run_id FROM dataset d WHERE d.id IN (${join(
              batch.map((w) => q`${w.id}`),
              ', ',
            )})`,
          );
          for (const row of rows) existing.set(String(row.id), row);
        }
        const fresh: DatasetRef[] = [];
        for (const w of wanted) {
          const e = existing.get(w.id);
          if (!e) {
            fresh.push(w);
            continue;
          }
          if (Number(e.dataset_type_id) !== rec.id || Number(e.run_id) !== run.id) {
            throw new ConflictingDefinitionError(
              `dataset ${w.id} exists already with another type or run; it cannot be imported as ` +
                `'${rec.type.name}' in '${w.run}'`,
            );
          }
          const have = await x.run(
            // (a dimensionless type has no data ID columns: select the id itself)
            q`SELECT ${raw(rec.required.length ? rec.required.map(quoteIdent).join(', ') : 'dataset_id')} FROM ${ident(rec.tagTable)} WHERE dataset_id = ${w.id} AND collection_id = ${run.id}`,
          );
          const same = have.length === 1 && rec.required.every((d) => have[0]![d] === w.dataId[d]);
          if (!same) {
            throw new ConflictingDefinitionError(
              `dataset ${w.id} exists already with another data ID; it cannot be imported with ${formatDataId(w.dataId)}`,
            );
          }
        }
        if (fresh.length > 0) await this.insertDatasetRows(x, rec, run, fresh);
      }
    });
  }

  /**
   * The dataset of `type` and `dataId` in the first of `collections` (chains flattened,
   * in order) that has one, or null.
   */
  async findDataset(
    type: string,
    dataId: Readonly<Record<string, unknown>>,
    o: { collections: string | readonly string[] },
  ): Promise<DatasetRef | null> {
    return this.read(async (x) => {
      const rec = await this.datasetTypeRecord(x, type);
      const norm = this.universe.validateDataId(rec.closure, dataId);
      const path = await this.searchPath(x, o.collections, true);
      if (path.length === 0) return null;
      const refs = await this.runDatasetQuery(x, rec, path, {
        dimensions: rec.closure,
        dataId: norm,
        dataset: { record: rec, collections: path, findFirst: true },
      });
      return refs[0] ?? null;
    });
  }

  /** The dataset with this id, or null. */
  async getDataset(id: string): Promise<DatasetRef | null> {
    const norm = normalizeUuid(String(id));
    if (norm === null)
      throw new RegistryArgumentError(`dataset id ${JSON.stringify(id)} is not a UUID`);
    return this.read(async (x) => {
      const rows = await x.run(q`SELECT dataset_type_id, run_id FROM dataset WHERE id = ${norm}`);
      if (rows.length === 0) return null;
      const rec = await this.datasetTypeById(x, Number(rows[0]!.dataset_type_id));
      const run = await this.collectionById(x, Number(rows[0]!.run_id));
      const refs = await this.runDatasetQuery(x, rec, [run], {
        dimensions: rec.closure,
        dataset: { record: rec, collections: [run], findFirst: false },
        datasetConditions: [q`"t"."dataset_id" = ${norm}`],
      });
      return refs[0] ?? null;
    });
  }

  private async runDatasetQuery(
    x: Executor,
    rec: DatasetTypeRecord,
    path: readonly CollectionRecord[],
    spec: QuerySpec,
  ): Promise<DatasetRef[]> {
    const plan = new QueryPlan(this.universe, this.shared.dialect, this.shared.htm, spec);
    await plan.prepare(x);
    const selectRun = path.some((c) => c.type !== 'RUN');
    const rows = await x.run(
      plan.build({ distinct: false, selectRun, sqlLimit: this.canLimitInSql(plan, rec, path) }),
    );
    const results = plan.decode(rows, this.shared.dialect.readBool);
    const seen = new Set<string>();
    const refs: DatasetRef[] = [];
    for (const r of results) {
      const ds = r.dataset!;
      if (seen.has(ds.id)) continue;
      seen.add(ds.id);
      const run = await this.collectionById(x, ds.runId);
      refs.push({ id: ds.id, datasetType: rec.type, dataId: r.dataId, run: run.name });
    }
    return refs;
  }

  private canLimitInSql(
    plan: QueryPlan,
    rec: DatasetTypeRecord,
    path: readonly CollectionRecord[],
  ): boolean {
    if (plan.spec.limit === undefined || plan.needsRefinement) return false;
    const extra = plan.dimensions.length !== rec.closure.length;
    return !extra && (path.length === 1 || plan.spec.dataset?.findFirst === true);
  }

  /**
   * Associates datasets with a TAGGED collection (already-associated ones are left alone).
   *
   * @throws ConflictingDefinitionError when the collection holds another dataset of the
   *   same type and data ID; MissingDatasetError for unknown ids.
   */
  async associate(tagged: string, refs: readonly DatasetRef[]): Promise<void> {
    await this.write(async (x) => {
      const c = await this.collection(x, tagged);
      if (c.type !== 'TAGGED') {
        throw new CollectionTypeError(
          tagged,
          `'${tagged}' is a ${c.type} collection; only TAGGED collections take associations`,
        );
      }
      for (const [rec, ids] of await this.groupByType(x, refs)) {
        const cols = rec.required.map((d) => q`${ident('t', d)}`);
        try {
          for (const batch of chunks(ids, this.maxRows(1))) {
            const n = await x.run(
              q`SELECT count(*) AS n FROM ${ident(rec.tagTable)} t JOIN dataset d ON d.id = t.dataset_id AND d.run_id = t.collection_id
                WHERE t.dataset_id IN (${join(
                  batch.map((i) => q`${i}`),
                  ', ',
                )})`,
            );
            if (Number(n[0]!.n) !== batch.length) {
              const found = await x.run(
                q`SELECT id FROM dataset WHERE id IN (${join(
                  batch.map((i) => q`${i}`),
                  ', ',
                )})`,
              );
              const have = new Set(found.map((r) => String(r.id)));
              throw new MissingDatasetError(
                batch.filter((i) => !have.has(i)),
                'only registered datasets can be associated',
              );
            }
            await x.run(
              q`INSERT INTO ${ident(rec.tagTable)} (${raw(['dataset_type_id', 'dataset_id', 'collection_id', ...rec.required].map(quoteIdent).join(', '))})
                SELECT ${join([q`t.dataset_type_id`, q`t.dataset_id`, q`${c.id}`, ...cols], ', ')} FROM ${ident(rec.tagTable)} t
                JOIN dataset d ON d.id = t.dataset_id AND d.run_id = t.collection_id
                WHERE t.dataset_id IN (${join(
                  batch.map((i) => q`${i}`),
                  ', ',
                )})
                ON CONFLICT (dataset_id, collection_id) DO NOTHING`,
            );
          }
        } catch (err) {
          if (this.shared.dialect.classifyError(err) === 'unique') {
            throw new ConflictingDefinitionError(
              `collection '${tagged}' already holds another '${rec.type.name}' dataset with the same data ID as one ` +
                'being associated; disassociate it first',
              { cause: err },
            );
          }
          throw err;
        }
      }
    });
  }

  /** Removes datasets from a TAGGED collection. */
  async disassociate(tagged: string, refs: readonly DatasetRef[]): Promise<void> {
    await this.write(async (x) => {
      const c = await this.collection(x, tagged);
      if (c.type !== 'TAGGED') {
        throw new CollectionTypeError(
          tagged,
          `'${tagged}' is a ${c.type} collection; only TAGGED collections have associations`,
        );
      }
      for (const [rec, ids] of await this.groupByType(x, refs)) {
        for (const batch of chunks(ids, this.maxRows(1))) {
          await x.run(
            q`DELETE FROM ${ident(rec.tagTable)} WHERE collection_id = ${c.id} AND dataset_id IN (${join(
              batch.map((i) => q`${i}`),
              ', ',
            )})`,
          );
        }
      }
    });
  }

  private async groupByType(
    x: Executor,
    refs: readonly DatasetRef[],
  ): Promise<Map<DatasetTypeRecord, string[]>> {
    const out = new Map<DatasetTypeRecord, string[]>();
    for (const r of refs) {
      const id = normalizeUuid(String(r.id));
      if (id === null)
        throw new RegistryArgumentError(`dataset id ${JSON.stringify(r.id)} is not a UUID`);
      const rec = await this.datasetTypeRecord(x, r.datasetType.name);
      const l = out.get(rec) ?? [];
      out.set(rec, l);
      l.push(id);
    }
    return out;
  }

  /**
   * Removes datasets from the registry (from their run and every collection).
   *
   * @throws DatastoreRecordsExistError while the datastore records files for them.
   */
  async removeDatasets(refs: readonly DatasetRef[]): Promise<void> {
    const ids = refs.map((r) => {
      const id = normalizeUuid(String(r.id));
      if (id === null)
        throw new RegistryArgumentError(`dataset id ${JSON.stringify(r.id)} is not a UUID`);
      return id;
    });
    await this.write(async (x) => {
      for (const batch of chunks(ids, this.maxRows(1))) {
        const list = join(
          batch.map((i) => q`${i}`),
          ', ',
        );
        const held = await x.run(
          q`SELECT DISTINCT dataset_id FROM datastore_record WHERE dataset_id IN (${list})`,
        );
        if (held.length > 0)
          throw new DatastoreRecordsExistError(held.map((r) => String(r.dataset_id)));
        await x.run(q`DELETE FROM dataset WHERE id IN (${list})`);
      }
    });
  }

  // ---------------------------------------------------------------- datastore records

  /**
   * Records where the datastore keeps datasets (write in the same transaction as the
   * datasets). Component '' and an absent component are the same.
   *
   * @throws MissingDatasetError for unknown dataset ids; ConflictingDefinitionError when a
   *   record for the dataset and component exists.
   */
  async insertDatastoreRecords(records: readonly DatastoreRecord[]): Promise<void> {
    const rows = records.map((r) => {
      const id = normalizeUuid(String(r.datasetId));
      if (id === null)
        throw new RegistryArgumentError(
          `datastore record dataset id ${JSON.stringify(r.datasetId)} is not a UUID`,
        );
      if (typeof r.path !== 'string' || r.path.length === 0)
        throw new RegistryArgumentError('datastore record needs a path');
      if (!Number.isSafeInteger(r.size) || r.size < 0) {
        throw new RegistryArgumentError(
          `datastore record size must be a non-negative integer, got ${r.size}`,
        );
      }
      return [id, r.component ?? '', r.path, r.formatter, r.storageClass, r.checksum, r.size];
    });
    try {
      await this.write(async (x) => {
        await this.insertRows(
          x,
          'datastore_record',
          [
            'dataset_id',
            'component',
            'path',
            'formatter',
            'storage_class',
            'checksum',
            'file_size',
          ],
          rows,
        );
      });
    } catch (err) {
      const kind = this.shared.dialect.classifyError((err as { cause?: unknown })?.cause ?? err);
      if (kind === 'foreign_key') {
        throw new MissingDatasetError(
          rows.map((r) => String(r[0])),
          'insert the datasets (insertDatasets) before their datastore records',
        );
      }
      if (kind === 'unique') {
        throw new ConflictingDefinitionError(
          'a datastore record for one of these datasets (and component) exists already; remove it first',
          { cause: err },
        );
      }
      throw err;
    }
  }

  /** Datastore records of these datasets, ordered by dataset id and component. */
  async getDatastoreRecords(ids: readonly string[]): Promise<DatastoreRecord[]> {
    const norm = ids.map((i) => normalizeUuid(String(i))).filter((i): i is string => i !== null);
    return this.read(async (x) => {
      const out: DatastoreRecord[] = [];
      for (const batch of chunks(norm, this.maxRows(1))) {
        const rows = await x.run(
          q`SELECT * FROM datastore_record WHERE dataset_id IN (${join(
            batch.map((i) => q`${i}`),
            ', ',
          )}) ORDER BY dataset_id, component`,
        );
        for (const r of rows) {
          const rec: {
            datasetId: string;
            path: string;
            formatter: string;
            storageClass: string;
            checksum: string | null;
            size: number;
            component?: string;
          } = {
            datasetId: String(r.dataset_id),
            path: String(r.path),
            formatter: String(r.formatter),
            storageClass: String(r.storage_class),
            checksum: r.checksum === null || r.checksum === undefined ? null : String(r.checksum),
            size: Number(r.file_size),
          };
          if (r.component !== '' && r.component !== null) rec.component = String(r.component);
          out.push(rec);
        }
      }
      return out;
    });
  }

  /** Removes the datastore records of these datasets. */
  async removeDatastoreRecords(ids: readonly string[]): Promise<void> {
    const norm = ids.map((i) => normalizeUuid(String(i))).filter((i): i is string => i !== null);
    await this.write(async (x) => {
      for (const batch of chunks(norm, this.maxRows(1))) {
        await x.run(
          q`DELETE FROM datastore_record WHERE dataset_id IN (${join(
            batch.map((i) => q`${i}`),
            ', ',
          )})`,
        );
      }
    });
  }

  // ---------------------------------------------------------------- queries

  private async datasetTypesFor(
    x: Executor,
    types: string | readonly string[],
  ): Promise<DatasetTypeRecord[]> {
    const out: DatasetTypeRecord[] = [];
    for (const t of asList(types)) {
      if (isGlob(t)) {
        await this.loadDatasetTypes(x);
        const re = globToRegExp(t);
        for (const rec of this.shared.datasetTypes.values())
          if (re.test(rec.type.name) && !out.includes(rec)) out.push(rec);
      } else {
        const rec = await this.datasetTypeRecord(x, t);
        if (!out.includes(rec)) out.push(rec);
      }
    }
    return out;
  }

  private datasetSpec(
    rec: DatasetTypeRecord,
    path: readonly CollectionRecord[],
    o: QueryDatasetsOptions,
  ): QuerySpec {
    return {
      dimensions: rec.closure,
      where: o.where,
      bind: o.bind,
      dataId: o.dataId ? this.universe.normalizeDataId(o.dataId) : undefined,
      dataset: { record: rec, collections: path, findFirst: o.findFirst === true },
      limit: o.limit,
    };
  }

  /**
   * Datasets of the given types (names or glob patterns) in `collections` matching the
   * where-clause and data-ID constraint. With `findFirst`, one dataset per data ID: the one
   * from the earliest collection in the (flattened) search order. Results are sorted by
   * dataset type, then data ID (universe order), then collection order.
   */
  async queryDatasets(
    type: string | readonly string[],
    o: QueryDatasetsOptions,
  ): Promise<DatasetRef[]> {
    this.checkLimit(o.limit);
    return this.read(async (x) => {
      const recs = await this.datasetTypesFor(x, type);
      const path = await this.searchPath(x, o.collections, o.findFirst === true);
      if (path.length === 0) return [];
      const out: DatasetRef[] = [];
      for (const rec of recs) {
        const refs = await this.runDatasetQuery(x, rec, path, this.datasetSpec(rec, path, o));
        const order = new Map(path.map((c, i) => [c.name, i]));
        refs.sort(
          (a, b) =>
            this.compareDataIds(a.dataId, b.dataId) ||
            (order.get(a.run) ?? 0) - (order.get(b.run) ?? 0),
        );
        out.push(...refs);
      }
      return o.limit === undefined ? out : out.slice(0, o.limit);
    });
  }

  /** Sort order of data IDs: required dimensions (universe order), then the rest. */
  private compareDataIds(a: DataId, b: DataId): number {
    const keys = Object.keys(a);
    const sig = keys.join(',');
    let order = this.sortOrders.get(sig);
    if (!order) {
      const required = this.universe.requiredOf(keys);
      order = [...required, ...keys.filter((k) => !required.includes(k))];
      this.sortOrders.set(sig, order);
    }
    for (const d of order) {
      const c = compareValues(a[d], b[d]);
      if (c !== 0) return c;
    }
    return 0;
  }

  private readonly sortOrders = new Map<string, readonly string[]>();

  private checkLimit(limit: number | undefined): void {
    if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 0)) {
      throw new RegistryArgumentError(`limit must be a non-negative integer, got ${limit}`);
    }
  }

  private async dataIdsSpec(
    x: Executor,
    dimensions: readonly string[],
    o: QueryDataIdsOptions,
  ): Promise<QuerySpec> {
    const constraints = [];
    if (o.datasets !== undefined) {
      if (o.collections === undefined) {
        throw new RegistryArgumentError(
          'queryDataIds with datasets needs collections to look for them in',
        );
      }
      const path = await this.searchPath(x, o.collections, false);
      for (const rec of await this.datasetTypesFor(x, o.datasets)) {
        constraints.push({
          record: rec,
          collectionIds: path.length > 0 ? path.map((c) => c.id) : [-1],
        });
      }
    }
    return {
      dimensions: this.universe.closure(dimensions),
      where: o.where,
      bind: o.bind,
      dataId: o.dataId ? this.universe.normalizeDataId(o.dataId) : undefined,
      datasetConstraints: constraints,
      limit: o.limit,
    };
  }

  /**
   * Data IDs of `dimensions` (with their implied values) that have dimension records,
   * match the where-clause and data-ID constraint, and (with `datasets`) have such datasets
   * in `collections`. Sky and observation dimensions together are joined on region overlap.
   * Sorted by data ID.
   */
  async queryDataIds(
    dimensions: readonly string[],
    o: QueryDataIdsOptions = {},
  ): Promise<DataId[]> {
    this.checkLimit(o.limit);
    return this.read(async (x) => {
      const plan = new QueryPlan(
        this.universe,
        this.shared.dialect,
        this.shared.htm,
        await this.dataIdsSpec(x, dimensions, o),
      );
      await plan.prepare(x);
      const rows = await x.run(
        plan.build({
          distinct: true,
          selectRun: false,
          sqlLimit: !plan.needsRefinement && o.limit !== undefined,
        }),
      );
      return this.uniqueSorted(
        plan.decode(rows, this.shared.dialect.readBool).map((r) => r.dataId),
        o.limit,
      );
    });
  }

  private uniqueSorted(ids: DataId[], limit: number | undefined): DataId[] {
    const seen = new Set<string>();
    const out: DataId[] = [];
    for (const d of ids) {
      const k = JSON.stringify(d);
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(d);
    }
    out.sort((a, b) => this.compareDataIds(a, b));
    return limit === undefined ? out : out.slice(0, limit);
  }

  /**
   * Records of `element` (decoded: booleans, regions as [ra, dec] lists) matching the
   * where-clause and data-ID constraint, sorted by key.
   */
  async queryDimensionRecords(
    element: string,
    o: QueryRecordsOptions = {},
  ): Promise<Record<string, unknown>[]> {
    this.checkLimit(o.limit);
    const e = this.universe.element(element);
    return this.read(async (x) => {
      const plan = new QueryPlan(
        this.universe,
        this.shared.dialect,
        this.shared.htm,
        this.recordsSpec(e, o),
      );
      await plan.prepare(x);
      const rows = await x.run(plan.build({ distinct: true, selectRun: false, sqlLimit: false }));
      const results = plan.decode(rows, this.shared.dialect.readBool);
      const keyCols = keyColumns(this.universe, e);
      const seen = new Set<string>();
      const out: QueryResult[] = [];
      for (const r of results) {
        const k = JSON.stringify(keyCols.map((c) => r.record![c]));
        if (seen.has(k)) continue;
        seen.add(k);
        out.push(r);
      }
      out.sort((a, b) => this.compareDataIds(a.dataId, b.dataId));
      const recs = out.map((r) => r.record!);
      return o.limit === undefined ? recs : recs.slice(0, o.limit);
    });
  }

  private recordsSpec(e: DimensionElement, o: QueryRecordsOptions): QuerySpec {
    return {
      dimensions: e.keyDimensions,
      where: o.where,
      bind: o.bind,
      dataId: o.dataId ? this.universe.normalizeDataId(o.dataId) : undefined,
      recordElement: e,
    };
  }

  /**
   * The database's plan (EXPLAIN) for the SQL a query would run:
   * `explain('queryDatasets', type, options)` or `explain('queryDataIds', dimensions, options)`.
   */
  async explain(kind: 'queryDatasets', type: string, o: QueryDatasetsOptions): Promise<string>;
  async explain(
    kind: 'queryDataIds',
    dimensions: readonly string[],
    o?: QueryDataIdsOptions,
  ): Promise<string>;
  async explain(
    kind: 'queryDatasets' | 'queryDataIds',
    arg: string | readonly string[],
    o?: QueryDatasetsOptions | QueryDataIdsOptions,
  ): Promise<string> {
    return this.read(async (x) => {
      let plan: QueryPlan;
      let built: Sql;
      if (kind === 'queryDatasets') {
        const opts = o as QueryDatasetsOptions;
        const [rec] = await this.datasetTypesFor(x, arg as string);
        const path = await this.searchPath(x, opts.collections, opts.findFirst === true);
        if (!rec || path.length === 0) return 'no query: no dataset type or collection to search';
        plan = new QueryPlan(
          this.universe,
          this.shared.dialect,
          this.shared.htm,
          this.datasetSpec(rec, path, opts),
        );
        await plan.prepare(x);
        built = plan.build({
          distinct: false,
          selectRun: path.some((c) => c.type !== 'RUN'),
          sqlLimit: this.canLimitInSql(plan, rec, path),
        });
      } else if (kind === 'queryDataIds') {
        plan = new QueryPlan(
          this.universe,
          this.shared.dialect,
          this.shared.htm,
          await this.dataIdsSpec(x, arg as readonly string[], (o ?? {}) as QueryDataIdsOptions),
        );
        await plan.prepare(x);
        built = plan.build({ distinct: true, selectRun: false, sqlLimit: false });
      } else {
        throw new RegistryArgumentError(`explain: unknown query kind ${JSON.stringify(kind)}`);
      }
      const rows = await x.run(q`${raw(this.shared.dialect.explainPrefix)}${built}`);
      return this.shared.dialect.formatExplain(rows);
    });
  }
}

/** Runs `fn` in a write transaction on one connection of `open`. */
async function runWrite<T>(open: OpenDatabase, fn: (x: Executor) => Promise<T>): Promise<T> {
  return open.db.connection().execute(async (conn) => {
    const x = new Executor(conn, open.dialect);
    await x.exec(open.dialect.beginWrite);
    try {
      const r = await fn(x);
      await x.exec('COMMIT');
      return r;
    } catch (e) {
      try {
        await x.exec('ROLLBACK');
      } catch {
        // Nothing to roll back (the failure was BEGIN itself, or the connection is gone).
      }
      throw e;
    }
  });
}

/** Maps driver errors to registry errors (typed errors pass through). */
function mapError(d: SqlDialect, e: unknown, busyTimeoutMs: number): unknown {
  if (e instanceof RegistryError || e instanceof DimensionError || e instanceof ExprError) return e;
  const kind = d.classifyError(e);
  if (kind === 'busy') {
    return new RegistryBusyError(
      d.name === 'sqlite'
        ? `the SQLite registry stayed locked by another writer for more than ${busyTimeoutMs} ms; ` +
            'retry later, or open it with a larger busyTimeoutMs'
        : `PostgreSQL reported a lock timeout or deadlock (${(e as Error).message}); retry the operation`,
      { cause: e },
    );
  }
  if (kind === 'unique') {
    return new ConflictingDefinitionError(
      `the database refused a duplicate: ${(e as Error).message}`,
      { cause: e },
    );
  }
  if (e instanceof Error && typeof (e as { code?: unknown }).code === 'string') {
    return new RegistryDatabaseError(
      `database error: ${redactUrl(e.message)}`,
      String((e as { code?: unknown }).code),
      { cause: e },
    );
  }
  return e;
}
