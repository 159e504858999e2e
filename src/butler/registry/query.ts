/**
 * Query planning for queryDatasets / queryDataIds / queryDimensionRecords: which tables to
 * join, the `where` schema over them, spatial joins, find-first, and decoding of rows.
 *
 * A query has a dimension set D: the requested dimensions plus those the where-clause,
 * the data-ID constraint and the dataset type mention, closed over required and implied
 * dependencies. Every dimension of D gets one key expression (a column of the dataset
 * tags table if there is one, else of its own record table, else of a record table that
 * carries it as a required/implied column); every other column holding that dimension is
 * equated to it. Record tables are joined only when needed: for implied values, for
 * record fields the where-clause mentions, for records the caller wants, for regions, or
 * when nothing else provides the dimension's key.
 *
 * Spatial: where-clause `OVERLAPS` against a literal region is resolved before the main
 * query (HTM candidates from the skypix table, then the exact test in TypeScript) into an
 * exact list of matching keys, so it composes with NOT and OR. When D mixes the
 * observation family (visit_detector_region / visit) and the skymap family (patch /
 * tract), the two finest regions are joined through their skypix tables in SQL (shared
 * trixel) and each candidate pair is tested exactly afterwards.
 */

import type { DimensionElement, DimensionUniverse } from '../dimensions/universe.ts';
import {
  where as compileWhereText,
  type RegionLiteral,
  type ResolvedColumn,
  type SqlFragment,
  type WhereSchema,
} from '../expr/index.ts';
import type { CollectionType, DataId, DataIdValue, DatasetType } from '../refs.ts';
import type { SqlDialect } from './dialect.ts';
import { RegistryArgumentError } from './errors.ts';
import type { Executor, Row } from './exec.ts';
import { keyColumns, skypixTable } from './schema.ts';
import type { HtmPixelization } from './spatial/htm.ts';
import {
  type ConvexPolygon,
  parseStoredRegion,
  type Region,
  regionFromLiteral,
} from './spatial/regions.ts';
import { and, ident, join, q, quoteIdent, raw, rawSql, type Sql } from './sql.ts';

/** A registered dataset type as the registry keeps it. */
export interface DatasetTypeRecord {
  readonly id: number;
  readonly type: DatasetType;
  /** Required dimensions (the tags table's data-ID columns), universe order. */
  readonly required: readonly string[];
  /** Required + implied dimensions (the data-ID keys of its refs), universe order. */
  readonly closure: readonly string[];
  readonly tagTable: string;
}

/** A collection as the registry keeps it. */
export interface CollectionRecord {
  readonly id: number;
  readonly name: string;
  readonly type: CollectionType;
}

/** The main dataset relation of a queryDatasets query. */
export interface DatasetSource {
  readonly record: DatasetTypeRecord;
  /** Collections to search, in search order (RUN / TAGGED only). */
  readonly collections: readonly CollectionRecord[];
  readonly findFirst: boolean;
}

/** "A dataset of this type exists in these collections" constraints of queryDataIds. */
export interface DatasetConstraint {
  readonly record: DatasetTypeRecord;
  readonly collectionIds: readonly number[];
}

/** What to query. */
export interface QuerySpec {
  /** Dimensions whose values the results carry (closure taken). */
  readonly dimensions: readonly string[];
  readonly where?: string | undefined;
  readonly bind?: Readonly<Record<string, unknown>> | undefined;
  /** Normalized data-ID constraint (any dimensions). */
  readonly dataId?: DataId | undefined;
  readonly dataset?: DatasetSource | undefined;
  readonly datasetConstraints?: readonly DatasetConstraint[] | undefined;
  /** Element whose records are wanted (queryDimensionRecords). */
  readonly recordElement?: DimensionElement | undefined;
  /** Extra conditions on the dataset relation `t` (e.g. a dataset id). */
  readonly datasetConditions?: readonly Sql[] | undefined;
  readonly limit?: number | undefined;
}

/** One row of results. */
export interface QueryResult {
  /** Values of the result dimensions (closure of spec.dimensions, universe order). */
  readonly dataId: DataId;
  /** Dataset id, collection id and run id (queryDatasets). */
  readonly dataset?: { readonly id: string; readonly collectionId: number; readonly runId: number };
  /** The record's columns (queryDimensionRecords), decoded. */
  readonly record?: Record<string, unknown>;
}

interface Relation {
  readonly alias: string;
  readonly table: string;
  /** dimension -> column of this relation holding its key value. */
  readonly dims: ReadonlyMap<string, string>;
}

type PathTarget =
  | { readonly kind: 'key'; readonly dimension: string }
  | {
      readonly kind: 'field';
      readonly element: DimensionElement;
      readonly column: string;
      readonly type: ResolvedColumn['type'];
    };

function resolvePath(universe: DimensionUniverse, path: readonly string[]): PathTarget | undefined {
  if (path.length === 1) {
    const name = path[0]!;
    return universe.isDimension(name) ? { kind: 'key', dimension: name } : undefined;
  }
  if (path.length !== 2) return undefined;
  const [el, field] = path as [string, string];
  const element = universe.getElement(el);
  if (!element) return undefined;
  const c = element.columns.find((x) => x.name === field);
  if (!c) return undefined;
  if (c.role !== 'field') return { kind: 'key', dimension: c.dimension! };
  return { kind: 'field', element, column: c.name, type: c.type };
}

/** The element whose region a path means: `visit`, `visit.region`, `patch`. */
function regionElement(
  universe: DimensionUniverse,
  path: readonly string[],
): DimensionElement | undefined {
  const e = universe.getElement(path[0] ?? '');
  if (!e || e.regionColumn === null) return undefined;
  if (path.length === 1) return e;
  if (path.length === 2 && path[1] === e.regionColumn) return e;
  return undefined;
}

function knownNames(universe: DimensionUniverse): string[] {
  const out: string[] = [...universe.dimensionNames];
  for (const e of universe.elements) for (const c of e.columns) out.push(`${e.name}.${c.name}`);
  return out;
}

function keyTypeOf(universe: DimensionUniverse, dim: string): ResolvedColumn['type'] {
  return universe.dimension(dim).key!.type;
}

/** Phase 1: records what a where-clause needs, with placeholder SQL. */
class RecordingSchema implements WhereSchema {
  readonly dims = new Set<string>();
  readonly fields = new Set<string>();
  readonly overlapCalls: Array<{ element: DimensionElement; literal: RegionLiteral }> = [];
  constructor(private readonly universe: DimensionUniverse) {}
  column(path: readonly string[]): ResolvedColumn | undefined {
    const t = resolvePath(this.universe, path);
    if (!t) return undefined;
    if (t.kind === 'key') {
      this.dims.add(t.dimension);
      return {
        sql: quoteIdent(t.dimension),
        type: keyTypeOf(this.universe, t.dimension),
        element: t.dimension,
      };
    }
    this.fields.add(t.element.name);
    for (const d of t.element.keyDimensions) this.dims.add(d);
    return {
      sql: `${quoteIdent(t.element.name)}.${quoteIdent(t.column)}`,
      type: t.type,
      element: t.element.name,
    };
  }
  knownNames(): readonly string[] {
    return knownNames(this.universe);
  }
  overlaps(path: readonly string[], region: RegionLiteral): SqlFragment | undefined {
    const e = regionElement(this.universe, path);
    if (!e) return undefined;
    // Validate the literal now so a bad region fails before any SQL runs.
    regionFromLiteral(region);
    this.overlapCalls.push({ element: e, literal: region });
    for (const d of e.keyDimensions) this.dims.add(d);
    return { text: ['(1=1)'], values: [] };
  }
}

/** Phase 2: the real column SQL and the resolved overlaps. */
class PlanSchema implements WhereSchema {
  private overlapIndex = 0;
  constructor(
    private readonly universe: DimensionUniverse,
    private readonly plan: QueryPlan,
  ) {}
  column(path: readonly string[]): ResolvedColumn | undefined {
    const t = resolvePath(this.universe, path);
    if (!t) return undefined;
    if (t.kind === 'key') {
      return {
        sql: this.plan.keyText(t.dimension),
        type: keyTypeOf(this.universe, t.dimension),
        element: t.dimension,
      };
    }
    return {
      sql: `${quoteIdent(t.element.name)}.${quoteIdent(t.column)}`,
      type: t.type,
      element: t.element.name,
    };
  }
  knownNames(): readonly string[] {
    return knownNames(this.universe);
  }
  overlaps(path: readonly string[], _region: RegionLiteral): SqlFragment | undefined {
    const e = regionElement(this.universe, path);
    if (!e) return undefined;
    const resolved = this.plan.literalOverlaps[this.overlapIndex++];
    if (!resolved || resolved.element !== e) {
      throw new RegistryArgumentError(
        'internal: where-clause overlaps changed between compile passes',
      );
    }
    return this.plan.tupleCondition(e.keyDimensions, resolved.tuples!);
  }
}

/** A where-literal overlap and, once resolved, the keys of the element rows it matches. */
interface LiteralOverlap {
  readonly element: DimensionElement;
  readonly region: Region;
  tuples?: DataIdValue[][];
}

/** A pair of spatial elements joined on region overlap. */
interface SpatialJoin {
  readonly a: DimensionElement;
  readonly b: DimensionElement;
}

/**
 * Row limit of SQL condition lists built from resolved overlaps; larger lists are refused
 * with a message asking for a smaller region.
 */
const MAX_OVERLAP_TUPLES = 5000;

/** Plans one query. Create, `prepare()` (resolves literal overlaps), then `build()`. */
export class QueryPlan {
  readonly universe: DimensionUniverse;
  readonly dialect: SqlDialect;
  readonly spec: QuerySpec;
  /** The query's dimensions (closure), universe order. */
  readonly dimensions: readonly string[];
  /** The result dimensions (closure of spec.dimensions). */
  readonly resultDimensions: readonly string[];
  readonly literalOverlaps: LiteralOverlap[];
  readonly spatialJoins: readonly SpatialJoin[];
  private readonly relations: Relation[] = [];
  private readonly keyExpr = new Map<string, string>();
  private readonly htm: HtmPixelization;

  constructor(
    universe: DimensionUniverse,
    dialect: SqlDialect,
    htm: HtmPixelization,
    spec: QuerySpec,
  ) {
    this.universe = universe;
    this.dialect = dialect;
    this.spec = spec;
    this.htm = htm;
    const rec = new RecordingSchema(universe);
    if (spec.where !== undefined && spec.where.trim() !== '')
      compileWhereText(spec.where, rec, spec.bind ?? {});
    this.literalOverlaps = rec.overlapCalls.map((c) => ({
      element: c.element,
      region: regionFromLiteral(c.literal),
    }));
    const base = new Set<string>([
      ...spec.dimensions,
      ...rec.dims,
      ...Object.keys(spec.dataId ?? {}),
    ]);
    if (spec.dataset) for (const d of spec.dataset.record.required) base.add(d);
    if (spec.recordElement) for (const d of spec.recordElement.keyDimensions) base.add(d);
    this.dimensions = universe.closure(base);
    this.resultDimensions = universe.closure(spec.dimensions);
    // Spatial join between families (observation x skymap), finest elements first.
    const spatial = universe.spatialElementsOf(this.dimensions);
    const joins: SpatialJoin[] = [];
    for (let i = 0; i < spatial.length; i++) {
      for (let j = i + 1; j < spatial.length; j++) joins.push({ a: spatial[i]!, b: spatial[j]! });
    }
    this.spatialJoins = joins;
    const forced = new Set<string>(rec.fields);
    if (spec.recordElement) forced.add(spec.recordElement.name);
    for (const s of joins) {
      forced.add(s.a.name);
      forced.add(s.b.name);
    }
    this.chooseRelations(forced);
  }

  private chooseRelations(forced: ReadonlySet<string>): void {
    const sourced = new Set<string>();
    const ds = this.spec.dataset;
    if (ds) {
      const dims = new Map(ds.record.required.map((d) => [d, d] as const));
      this.relations.push({ alias: 't', table: ds.record.tagTable, dims });
      for (const d of ds.record.required) sourced.add(d);
    }
    const addElement = (e: DimensionElement): void => {
      const dims = new Map<string, string>();
      for (const k of e.keyDimensions) dims.set(k, this.universe.columnFor(e, k));
      for (const i of e.implies) dims.set(i, i);
      this.relations.push({ alias: e.name, table: e.name, dims });
      for (const d of dims.keys()) sourced.add(d);
    };
    for (const name of forced) {
      const e = this.universe.element(name);
      if (!e.isDimension) addElement(e);
    }
    for (let i = this.dimensions.length - 1; i >= 0; i--) {
      const e = this.universe.dimension(this.dimensions[i]!);
      if (forced.has(e.name) || e.implies.length > 0 || !sourced.has(e.name)) addElement(e);
    }
    for (const d of this.dimensions) {
      let expr: string | undefined;
      const t = this.relations.find((r) => r.alias === 't');
      if (t?.dims.has(d)) expr = `"t".${quoteIdent(d)}`;
      const own = this.relations.find((r) => r.alias === d);
      if (expr === undefined && own) expr = `${quoteIdent(d)}.${quoteIdent(own.dims.get(d)!)}`;
      if (expr === undefined) {
        const any = this.relations.find((r) => r.dims.has(d));
        if (any) expr = `${quoteIdent(any.alias)}.${quoteIdent(any.dims.get(d)!)}`;
      }
      if (expr === undefined)
        throw new RegistryArgumentError(`internal: no source for dimension ${d}`);
      this.keyExpr.set(d, expr);
    }
    // Spatial joins: the two elements' skypix index rows sharing a trixel (candidates; the
    // exact test follows in decode()). Joined as relations so the planner can start from
    // whichever side is constrained.
    this.spatialJoins.forEach((j, i) => {
      for (const [side, e] of [
        ['sa', j.a],
        ['sb', j.b],
      ] as const) {
        this.relations.push({
          alias: `${side}_${i}`,
          table: skypixTable(e),
          dims: new Map(e.keyDimensions.map((d) => [d, d] as const)),
        });
      }
    });
  }

  /** SQL text of a dimension's key expression. */
  keyText(dim: string): string {
    const e = this.keyExpr.get(dim);
    if (e === undefined)
      throw new RegistryArgumentError(`internal: dimension ${dim} is not in the query`);
    return e;
  }

  private key(dim: string): Sql {
    return rawSql(this.keyText(dim));
  }

  /** `(keys...) IN (tuples)` over key expressions, `1=0` for none. */
  tupleCondition(dims: readonly string[], tuples: readonly DataIdValue[][]): Sql {
    if (tuples.length === 0) return rawSql('(1=0)');
    return q`(${this.dialect.tupleIn(
      dims.map((d) => this.key(d)),
      tuples,
    )})`;
  }

  /**
   * Resolves where-literal overlaps: candidate rows from the skypix index, exact test here.
   */
  async prepare(exec: Executor): Promise<void> {
    for (const lo of this.literalOverlaps) {
      const e = lo.element;
      const pixels = this.htm.envelope(lo.region);
      const cols = keyColumns(this.universe, e);
      const s = skypixTable(e);
      const corr = e.keyDimensions.map((d, i) => q`${ident('s', d)} = ${ident('e', cols[i]!)}`);
      const rows = await exec.run(
        q`SELECT ${join(
          cols.map((c) => q`${ident('e', c)}`),
          ', ',
        )}, ${ident('e', e.regionColumn!)} AS ${ident('region')}
          FROM ${ident(e.name)} AS ${ident('e')}
          WHERE EXISTS (SELECT 1 FROM ${ident(s)} AS ${ident('s')} WHERE ${and([...corr, pixelCondition(q`${ident('s', 'skypix')}`, pixels)])})`,
      );
      const tuples: DataIdValue[][] = [];
      for (const r of rows) {
        if (r.region === null || r.region === undefined) continue;
        if (!parseStoredRegion(r.region).overlaps(lo.region)) continue;
        tuples.push(cols.map((c) => r[c] as DataIdValue));
      }
      if (
        tuples.length * cols.length >
        Math.min(MAX_OVERLAP_TUPLES * 3, this.dialect.maxParameters / 2)
      ) {
        throw new RegistryArgumentError(
          `the region in the where-clause overlaps ${tuples.length} ${e.name} records; ` +
            'use a smaller region or add other constraints',
        );
      }
      lo.tuples = tuples;
    }
  }

  /** Names of the output columns. */
  private alias(kind: 'k' | 'r' | 'sa' | 'sb', name: string): string {
    return `${kind}_${name}`;
  }

  /** Whether rows need post-processing that can drop rows (so SQL LIMIT cannot be used). */
  get needsRefinement(): boolean {
    return this.spatialJoins.length > 0;
  }

  /** Builds the SELECT. */
  build(o: { distinct: boolean; selectRun: boolean; sqlLimit: boolean }): Sql {
    const spec = this.spec;
    const selects: Sql[] = [];
    const outDims = new Set<string>(this.resultDimensions);
    if (
      this.needsRefinement ||
      (spec.dataset?.findFirst && (spec.dataset.collections.length ?? 0) > 1)
    ) {
      for (const d of this.universe.requiredOf(this.dimensions)) outDims.add(d);
    }
    for (const d of this.universe.sorted(outDims))
      selects.push(q`${this.key(d)} AS ${ident(this.alias('k', d))}`);
    if (spec.dataset) {
      selects.push(q`"t"."dataset_id" AS "ds_id"`, q`"t"."collection_id" AS "ds_coll"`);
      if (o.selectRun) selects.push(q`"d"."run_id" AS "ds_run"`);
    }
    if (spec.recordElement) {
      const e = spec.recordElement;
      for (const c of e.columns)
        selects.push(q`${ident(e.name, c.name)} AS ${ident(this.alias('r', c.name))}`);
    }
    this.spatialJoins.forEach((j, i) => {
      selects.push(q`${ident(j.a.name, j.a.regionColumn!)} AS ${ident(`sa_${i}`)}`);
      selects.push(q`${ident(j.b.name, j.b.regionColumn!)} AS ${ident(`sb_${i}`)}`);
    });

    const from: Sql[] = this.relations.map((r) => q`${ident(r.table)} AS ${ident(r.alias)}`);
    if (spec.dataset && o.selectRun) from.push(q`"dataset" AS "d"`);

    const conds: Sql[] = [];
    for (const r of this.relations) {
      for (const [dim, column] of r.dims) {
        const expr = `${quoteIdent(r.alias)}.${quoteIdent(column)}`;
        const k = this.keyText(dim);
        if (expr !== k) conds.push(q`${raw(expr)} = ${raw(k)}`);
      }
    }
    if (spec.dataset) {
      const ds = spec.dataset;
      conds.push(q`"t"."dataset_type_id" = ${ds.record.id}`);
      const ids = ds.collections.map((c) => c.id);
      conds.push(
        ids.length === 1
          ? q`"t"."collection_id" = ${ids[0]}`
          : q`"t"."collection_id" IN (${join(
              ids.map((id) => q`${id}`),
              ', ',
            )})`,
      );
      if (o.selectRun) conds.push(q`"d"."id" = "t"."dataset_id"`);
      for (const c of spec.datasetConditions ?? []) conds.push(c);
    }
    for (const [k, v] of Object.entries(spec.dataId ?? {})) conds.push(q`${this.key(k)} = ${v}`);
    if (spec.where !== undefined && spec.where.trim() !== '') {
      const compiled = compileWhereText(
        spec.where,
        new PlanSchema(this.universe, this),
        spec.bind ?? {},
      );
      conds.push(compiled.fragment);
    }
    for (const c of spec.datasetConstraints ?? []) {
      const corr = c.record.required
        .filter((d) => this.keyExpr.has(d))
        .map((d) => q`${ident('x', d)} = ${this.key(d)}`);
      conds.push(
        q`EXISTS (SELECT 1 FROM ${ident(c.record.tagTable)} AS "x" WHERE "x"."dataset_type_id" = ${c.record.id}
          AND "x"."collection_id" IN (${join(
            c.collectionIds.map((id) => q`${id}`),
            ', ',
          )})${corr.length > 0 ? q` AND ${and(corr)}` : rawSql('')})`,
      );
    }
    this.spatialJoins.forEach((_, i) => {
      conds.push(q`${ident(`sa_${i}`, 'skypix')} = ${ident(`sb_${i}`, 'skypix')}`);
    });

    const distinct = o.distinct && !this.needsRefinement ? 'DISTINCT ' : '';
    // An empty dimension set (queryDataIds([])) selects one constant row, from no table.
    if (selects.length === 0) selects.push(q`1 AS "k_"`);
    const fromSql = from.length > 0 ? q` FROM ${join(from, ', ')}` : rawSql('');
    let body = q`SELECT ${raw(distinct)}${join(selects, ', ')}${fromSql} WHERE ${and(conds)}`;
    const ds = spec.dataset;
    if (ds?.findFirst && ds.collections.length > 1) {
      const partition = this.universe.requiredOf(this.dimensions).map((d) => this.key(d));
      const rank = q`CASE "t"."collection_id" ${join(
        ds.collections.map((c, i) => q`WHEN ${c.id} THEN ${raw(String(i))}`),
        ' ',
      )} END`;
      const inner = q`SELECT ${join(selects, ', ')}, ROW_NUMBER() OVER (${partition.length > 0 ? q`PARTITION BY ${join(partition, ', ')} ` : rawSql('')}ORDER BY ${rank}) AS "ff_rank"
        ${fromSql} WHERE ${and(conds)}`;
      body = q`SELECT * FROM (${inner}) AS "ff" WHERE "ff"."ff_rank" = 1`;
    }
    if (o.sqlLimit && spec.limit !== undefined && !this.needsRefinement) {
      const order = this.universe
        .sorted(outDims)
        .filter((d) => this.resultDimensions.includes(d))
        .map((d) => q`${ident(this.alias('k', d))}`);
      if (spec.dataset) order.push(q`"ds_id"`);
      body = q`${body} ORDER BY ${join(order, ', ')} LIMIT ${spec.limit}`;
    }
    return body;
  }

  /** Turns rows into results: exact spatial refinement, then projection. */
  decode(rows: readonly Row[], readBool: (v: unknown) => boolean): QueryResult[] {
    const cache = new Map<string, ConvexPolygon | null>();
    const region = (v: unknown): ConvexPolygon | null => {
      if (typeof v !== 'string') return null;
      let p = cache.get(v);
      if (p === undefined) {
        p = parseStoredRegion(v);
        cache.set(v, p);
      }
      return p;
    };
    const out: QueryResult[] = [];
    for (const r of rows) {
      let keep = true;
      for (let i = 0; i < this.spatialJoins.length && keep; i++) {
        const a = region(r[`sa_${i}`]);
        const b = region(r[`sb_${i}`]);
        keep = a !== null && b !== null && a.overlaps(b);
      }
      if (!keep) continue;
      const dataId: Record<string, DataIdValue> = {};
      for (const d of this.resultDimensions) {
        const v = r[this.alias('k', d)];
        if (v !== null && v !== undefined) dataId[d] = v as DataIdValue;
      }
      const res: {
        dataId: DataId;
        dataset?: { id: string; collectionId: number; runId: number };
        record?: Record<string, unknown>;
      } = { dataId };
      if (this.spec.dataset) {
        const coll = Number(r.ds_coll);
        res.dataset = {
          id: String(r.ds_id),
          collectionId: coll,
          runId: r.ds_run === undefined ? coll : Number(r.ds_run),
        };
      }
      if (this.spec.recordElement) {
        res.record = decodeRecord(this.spec.recordElement, (c) => r[this.alias('r', c)], readBool);
      }
      out.push(res);
    }
    return out;
  }
}

/**
 * A record's columns decoded from database values: booleans as booleans, regions as
 * [ra, dec] vertex lists, NULL fields left out.
 */
export function decodeRecord(
  e: DimensionElement,
  get: (column: string) => unknown,
  readBool: (v: unknown) => boolean,
): Record<string, unknown> {
  const rec: Record<string, unknown> = {};
  for (const c of e.columns) {
    const v = get(c.name);
    if (v === null || v === undefined) continue;
    if (c.type === 'bool') rec[c.name] = readBool(v);
    else if (c.type === 'region') rec[c.name] = JSON.parse(String(v)) as unknown;
    else if (c.type === 'int' || c.type === 'float') rec[c.name] = Number(v);
    else rec[c.name] = String(v);
  }
  return rec;
}

/**
 * SQL condition "column holds one of these trixel ids": runs of 4+ consecutive ids become
 * BETWEEN ranges, the rest an IN list.
 */
export function pixelCondition(column: Sql, ids: readonly number[]): Sql {
  if (ids.length === 0) return rawSql('(1=0)');
  const singles: number[] = [];
  const ranges: Array<[number, number]> = [];
  let i = 0;
  while (i < ids.length) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j]! + 1) j++;
    if (j - i >= 3) ranges.push([ids[i]!, ids[j]!]);
    else for (let k = i; k <= j; k++) singles.push(ids[k]!);
    i = j + 1;
  }
  const parts: Sql[] = ranges.map(([a, b]) => q`${column} BETWEEN ${a} AND ${b}`);
  if (singles.length > 0) {
    parts.push(
      q`${column} IN (${join(
        singles.map((s) => q`${s}`),
        ', ',
      )})`,
    );
  }
  return q`(${join(parts, ' OR ')})`;
}
