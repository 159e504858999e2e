/**
 * Running fragments: an {@link Executor} binds a kysely instance (the pool, or one
 * connection inside a transaction) to the dialect's value conversions.
 */

import type { Kysely } from 'kysely';
import type { SqlDialect } from './dialect.ts';
import { rawSql, type Sql, toKysely } from './sql.ts';

/** A result row. */
export type Row = Record<string, unknown>;

/** Runs SQL fragments on one kysely instance. */
export class Executor {
  constructor(
    readonly kdb: Kysely<Record<string, never>>,
    readonly dialect: SqlDialect,
  ) {}

  /** Runs a fragment and returns its rows (empty for statements without results). */
  async run(f: Sql): Promise<Row[]> {
    const r = await toKysely<Row>(f, this.dialect.bindValue).execute(this.kdb);
    return r.rows;
  }

  /** Runs a fragment and returns the number of rows it changed. */
  async change(f: Sql): Promise<number> {
    const r = await toKysely<Row>(f, this.dialect.bindValue).execute(this.kdb);
    return Number(r.numAffectedRows ?? 0);
  }

  /** Runs fixed SQL text (no values). */
  async exec(text: string): Promise<Row[]> {
    return this.run(rawSql(text));
  }
}
