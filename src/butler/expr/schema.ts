/**
 * What the `where` compiler needs from the registry: how names resolve to SQL columns, how a
 * region overlap is written in SQL, and the parameterized SQL fragments it produces.
 */

/** Value types of `where` columns and expressions. */
export type ColumnType = 'int' | 'float' | 'string' | 'bool' | 'timestamp' | 'region';

/** A name resolved by the schema to a SQL column. */
export interface ResolvedColumn {
  /** SQL text for the column, already quoted by the resolver (you insert it verbatim). */
  readonly sql: string;
  readonly type: ColumnType;
  /** The dimension element this column belongs to (so the caller knows which tables to join). */
  readonly element: string;
}

/** A sky region written in a `where` expression; all angles in degrees (ICRS ra, dec). */
export type RegionLiteral =
  | { kind: 'point'; ra: number; dec: number }
  | { kind: 'circle'; ra: number; dec: number; radius: number }
  | { kind: 'box'; ra: number; dec: number; width: number; height: number }
  | { kind: 'polygon'; vertices: ReadonlyArray<readonly [ra: number, dec: number]> };

/**
 * A parameterized SQL fragment: text.length === values.length + 1, like a tagged template's
 * strings and values. The SQL is `text[0] + p(0) + text[1] + ... + p(n-1) + text[n]` with p(i)
 * the dialect's placeholder for `values[i]` (`?` in SQLite, `$k` in PostgreSQL).
 */
export interface SqlFragment {
  readonly text: readonly string[];
  readonly values: readonly unknown[];
}

/** The registry's view of names for the `where` compiler. */
export interface WhereSchema {
  /** ['visit'] -> the visit key column; ['visit','exposure_time'] -> a record field; undefined when unknown. */
  column(path: readonly string[]): ResolvedColumn | undefined;
  /**
   * Names to suggest in "unknown name" errors (did you mean ...?): bare names (`visit`, `band`)
   * and dotted fields (`visit.exposure_time`); a dotted name lists a field of its element.
   */
  knownNames(): readonly string[];
  /** SQL for "region of <path> overlaps <literal>"; undefined when <path> has no region. */
  overlaps(path: readonly string[], region: RegionLiteral): SqlFragment | undefined;
}

/** The result of compiling a `where` expression. */
export interface CompiledWhere {
  /**
   * A boolean SQL condition. It is self-contained (parenthesised when it has a top-level
   * AND / OR), so it can be combined with others by `joinFragments(parts, ' AND ')`.
   */
  readonly fragment: SqlFragment;
  /** Dimension elements referenced (from ResolvedColumn.element and overlaps paths' first segment). */
  readonly elements: ReadonlySet<string>;
}
