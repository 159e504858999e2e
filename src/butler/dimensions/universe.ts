/**
 * The dimensions universe: the elements (instrument, visit, detector, skymap, tract,
 * patch, ...), their dependencies, record fields and regions, and data-ID validation.
 *
 * Semantics follow LSST daf_butler:
 * - a dimension's **required** dependencies are part of its primary key (a visit is unique
 *   within its instrument); its **implied** dependencies are values its record determines
 *   (a visit's physical_filter, whose record gives the band);
 * - the **closure** of a dimension set adds every required and implied dependency,
 *   recursively; it is kept in the universe's (dependency) order;
 * - the **required** subset of a set is the part not implied by another member; its values
 *   identify a data ID, the others follow from the records.
 */

import type { DataId, DataIdValue } from '../refs.ts';
import {
  type DimensionsConfig,
  type ElementConfig,
  parseDimensionsConfig,
  readDimensionsConfig,
} from './config.ts';
import { DataIdError, DimensionConfigError, UnknownElementError } from './errors.ts';

/** Types of a record field (and of the where-language column). */
export type FieldType = 'int' | 'float' | 'string' | 'bool' | 'timestamp' | 'region';

/** Types of a dimension key. */
export type KeyType = 'int' | 'string';

/** Role of a column in an element's table. */
export type ColumnRole = 'key' | 'required' | 'implied' | 'field';

/** One column of an element's record table. */
export interface ElementColumn {
  /** Column name: the dimension name for required/implied columns, the key name for the key. */
  readonly name: string;
  readonly type: FieldType;
  readonly role: ColumnRole;
  /** The dimension whose key value the column holds (key/required/implied), else null. */
  readonly dimension: string | null;
  /** Maximum length of string columns (characters), or null. */
  readonly length: number | null;
  readonly doc: string;
}

/** A dimension element: a dimension (visit) or a relation between dimensions. */
export interface DimensionElement {
  readonly name: string;
  readonly doc: string;
  /** Position in the universe's dependency order. */
  readonly index: number;
  /** True for dimensions users name in data IDs; false for relations (visit_detector_region). */
  readonly isDimension: boolean;
  /** The element's own key (null for relations). */
  readonly key: {
    readonly name: string;
    readonly type: KeyType;
    readonly length: number | null;
  } | null;
  /** Direct required dependencies, as configured. */
  readonly requires: readonly string[];
  /** Direct implied dependencies, as configured. */
  readonly implies: readonly string[];
  /** Governor dimensions (instrument, skymap) scope all others. */
  readonly governor: boolean;
  /** Key-only element whose records are created from the records that imply it. */
  readonly populatedFromImplied: boolean;
  /** Spatial family (`observation`, `skymap`) when the element has a region, else null. */
  readonly spatial: string | null;
  /**
   * Dimensions whose values form the element's primary key, in universe order: the
   * recursive closure of `requires`, plus the element itself for dimensions.
   */
  readonly keyDimensions: readonly string[];
  /** Columns of the record table: key dimensions, implied dimensions, then fields. */
  readonly columns: readonly ElementColumn[];
  /** Name of the region column, or null. */
  readonly regionColumn: string | null;
}

/** Looks up a dimension record by the values of the element's key dimensions. */
export type RecordLookup = (
  element: DimensionElement,
  key: readonly DataIdValue[],
) => Readonly<Record<string, unknown>> | undefined;

const RESERVED_TABLE_NAMES = new Set([
  'butler_attributes',
  'dataset_type',
  'dataset',
  'collection',
  'collection_chain',
  'datastore_record',
]);

/**
 * The set of dimension elements of a repository, built from a dimensions configuration
 * (see configs/dimensions.yaml). Immutable.
 */
export class DimensionUniverse {
  /** Configuration namespace (e.g. `gpu-drp`). */
  readonly namespace: string;
  /** Configuration version; repositories record it. */
  readonly version: number;
  /** The skypix pixelization used to index regions (HTM at `level`). */
  readonly skypix: { readonly system: 'htm'; readonly level: number };
  /** Every element in dependency order. */
  readonly elements: readonly DimensionElement[];
  /** Names of the dimensions (not relations), in dependency order. */
  readonly dimensionNames: readonly string[];
  /** The configuration this universe was built from (stored in repositories). */
  readonly config: DimensionsConfig;

  private readonly byName: ReadonlyMap<string, DimensionElement>;
  private readonly closureCache = new Map<string, readonly string[]>();
  private readonly validationCache = new Map<string, ValidationPlan>();

  /**
   * Builds a universe from a validated configuration.
   *
   * @throws DimensionConfigError for dependency errors (unknown or later-declared
   *   dependencies, cycles, column clashes, implied dimensions outside the key's scope).
   */
  constructor(config: DimensionsConfig, path: string | null = null) {
    this.config = config;
    this.namespace = config.namespace;
    this.version = config.version;
    this.skypix = { system: config.skypix.system, level: config.skypix.level };
    const byName = new Map<string, DimensionElement>();
    const elements: DimensionElement[] = [];
    for (const [name, ec] of Object.entries(config.elements)) {
      const element = buildElement(name, ec, elements.length, byName, path);
      byName.set(name, element);
      elements.push(element);
    }
    this.byName = byName;
    this.elements = elements;
    this.dimensionNames = elements.filter((e) => e.isDimension).map((e) => e.name);
  }

  /** The universe of the shipped configs/dimensions.yaml (or of `path`). */
  static load(path?: string): DimensionUniverse {
    const config = path === undefined ? readDimensionsConfig() : readDimensionsConfig(path);
    return new DimensionUniverse(config, path ?? 'configs/dimensions.yaml');
  }

  /** A universe from a configuration object (e.g. read back from a repository). */
  static fromConfig(value: unknown): DimensionUniverse {
    return new DimensionUniverse(parseDimensionsConfig(value, null));
  }

  /** The element called `name`. @throws UnknownElementError */
  element(name: string): DimensionElement {
    const e = this.byName.get(name);
    if (!e) throw new UnknownElementError(name, [...this.byName.keys()]);
    return e;
  }

  /** The element called `name`, or undefined. */
  getElement(name: string): DimensionElement | undefined {
    return this.byName.get(name);
  }

  /** The dimension called `name` (not a relation). @throws UnknownElementError */
  dimension(name: string): DimensionElement {
    const e = this.byName.get(name);
    if (!e?.isDimension) throw new UnknownElementError(name, this.dimensionNames);
    return e;
  }

  /** True when `name` is a dimension of this universe. */
  isDimension(name: string): boolean {
    return this.byName.get(name)?.isDimension === true;
  }

  /** Names sorted in universe (dependency) order, duplicates removed. */
  sorted(names: Iterable<string>): string[] {
    const set = new Set(names);
    return [...set].sort((a, b) => this.element(a).index - this.element(b).index);
  }

  /**
   * The closure of a set of dimensions: the dimensions plus all their required and implied
   * dependencies, recursively, in universe order.
   *
   * @throws UnknownElementError for a name that is not a dimension.
   */
  closure(dimensions: Iterable<string>): string[] {
    const list = Array.isArray(dimensions) ? (dimensions as readonly string[]) : [...dimensions];
    const key = list.join(',');
    let cached = this.closureCache.get(key);
    if (!cached) {
      const out = new Set<string>();
      const visit = (name: string): void => {
        if (out.has(name)) return;
        const e = this.dimension(name);
        out.add(name);
        for (const r of e.requires) visit(r);
        for (const i of e.implies) visit(i);
      };
      for (const d of list) visit(d);
      cached = this.sorted(out);
      this.closureCache.set(key, cached);
    }
    return [...cached];
  }

  /**
   * The required subset of a dimension set's closure: the members not implied (directly or
   * through other implied dimensions) by another member. Their values identify a data ID.
   */
  requiredOf(dimensions: Iterable<string>): string[] {
    return [...this.validationPlan(dimensions).required];
  }

  /** Closure, required subset and allowed keys of a dimension set (memoized). */
  private validationPlan(dimensions: Iterable<string>): ValidationPlan {
    const list = Array.isArray(dimensions) ? (dimensions as readonly string[]) : [...dimensions];
    const key = list.join(',');
    let plan = this.validationCache.get(key);
    if (!plan) {
      const closure = this.closure(list);
      plan = { closure, required: this.computeRequired(closure), allowed: new Set(closure) };
      this.validationCache.set(key, plan);
    }
    return plan;
  }

  private computeRequired(all: readonly string[]): string[] {
    const implied = new Set<string>();
    for (const d of all) {
      for (const i of this.impliedClosure(d)) implied.add(i);
    }
    return all.filter((d) => !implied.has(d));
  }

  /** The implied subset of a dimension set's closure (closure minus {@link requiredOf}). */
  impliedOf(dimensions: Iterable<string>): string[] {
    const required = new Set(this.requiredOf(dimensions));
    return this.closure(dimensions).filter((d) => !required.has(d));
  }

  /** Elements (dimensions and relations) whose key dimensions all lie in `dimensions`. */
  elementsWithin(dimensions: Iterable<string>): DimensionElement[] {
    const set = new Set(this.closure(dimensions));
    return this.elements.filter((e) => e.keyDimensions.every((d) => set.has(d)));
  }

  /** Everything `name` implies, recursively (not including itself). */
  private impliedClosure(name: string): string[] {
    const out: string[] = [];
    const stack = [...this.dimension(name).implies];
    while (stack.length > 0) {
      const d = stack.pop()!;
      if (out.includes(d)) continue;
      out.push(d);
      stack.push(...this.dimension(d).implies);
    }
    return out;
  }

  /**
   * Checks and normalizes one key value: integers (or decimal integer strings) for int
   * keys; non-empty strings without control characters, within the key's length, for string
   * keys. Numbers given for string keys are converted to their decimal text.
   *
   * @throws DataIdError DATAID_BAD_VALUE
   */
  normalizeValue(dimension: string, value: unknown): DataIdValue {
    const e = this.dimension(dimension);
    const key = e.key!;
    if (key.type === 'int') {
      if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
      if (typeof value === 'bigint' && value >= BigInt(Number.MIN_SAFE_INTEGER)) {
        if (value <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(value);
      }
      if (typeof value === 'string' && /^[+-]?\d{1,16}$/.test(value.trim())) {
        const n = Number(value.trim());
        if (Number.isSafeInteger(n)) return n;
      }
      throw new DataIdError(
        'DATAID_BAD_VALUE',
        `data ID value for '${dimension}' must be an integer, got ${describe(value)}; ` +
          `pass a whole number such as ${dimension}=42`,
        [dimension],
      );
    }
    let text: string;
    if (typeof value === 'string') text = value;
    else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
    else {
      throw new DataIdError(
        'DATAID_BAD_VALUE',
        `data ID value for '${dimension}' must be a string, got ${describe(value)}`,
        [dimension],
      );
    }
    if (text.length === 0 || hasControlCharacters(text)) {
      throw new DataIdError(
        'DATAID_BAD_VALUE',
        `data ID value for '${dimension}' must be a non-empty string without control characters, got ${describe(value)}`,
        [dimension],
      );
    }
    if (key.length !== null && text.length > key.length) {
      throw new DataIdError(
        'DATAID_BAD_VALUE',
        `data ID value for '${dimension}' is ${text.length} characters long; the limit is ${key.length}`,
        [dimension],
      );
    }
    return text;
  }

  /**
   * Validates the keys and values of a data ID without requiring any key: every key must
   * be a dimension, every value of the right type. Returns the normalized data ID with
   * keys in universe order (used for query constraints).
   *
   * @throws DataIdError DATAID_UNKNOWN_KEYS or DATAID_BAD_VALUE
   */
  normalizeDataId(dataId: Readonly<Record<string, unknown>>): DataId {
    const unknown = Object.keys(dataId).filter((k) => !this.isDimension(k));
    if (unknown.length > 0) {
      throw new DataIdError(
        'DATAID_UNKNOWN_KEYS',
        `data ID ${formatDataId(dataId)} has unknown keys ${unknown.map((k) => `'${k}'`).join(', ')}; ` +
          `dimensions are: ${this.dimensionNames.join(', ')}`,
        unknown,
      );
    }
    const out: Record<string, DataIdValue> = {};
    for (const k of this.sorted(Object.keys(dataId))) out[k] = this.normalizeValue(k, dataId[k]);
    return out;
  }

  /**
   * Validates a data ID for a set of dimensions: all required keys present, no key outside
   * the set's closure, values of the right types. Implied keys may be given (they are
   * checked against the records on expansion). Returns the normalized data ID (universe
   * order).
   *
   * @throws DataIdError DATAID_MISSING_KEYS, DATAID_UNKNOWN_KEYS or DATAID_BAD_VALUE
   */
  validateDataId(dimensions: Iterable<string>, dataId: Readonly<Record<string, unknown>>): DataId {
    const { closure, required, allowed } = this.validationPlan(dimensions);
    const keys = Object.keys(dataId);
    const extra = keys.filter((k) => !allowed.has(k));
    if (extra.length > 0) {
      const unknown = extra.filter((k) => !this.isDimension(k));
      throw new DataIdError(
        'DATAID_UNKNOWN_KEYS',
        `data ID ${formatDataId(dataId)} has keys ${extra.map((k) => `'${k}'`).join(', ')} that ` +
          `${unknown.length === extra.length ? 'are not dimensions' : 'are not dimensions of this data ID'}; ` +
          `expected keys: ${closure.join(', ')}`,
        extra,
      );
    }
    const missing = required.filter((k) => dataId[k] === undefined || dataId[k] === null);
    if (missing.length > 0) {
      throw new DataIdError(
        'DATAID_MISSING_KEYS',
        `data ID ${formatDataId(dataId)} lacks required keys ${missing.map((k) => `'${k}'`).join(', ')}; ` +
          `dimensions ${required.join(', ')} must all be given`,
        missing,
      );
    }
    const out: Record<string, DataIdValue> = {};
    for (const k of closure) {
      const v = dataId[k];
      if (v !== undefined && v !== null) out[k] = this.normalizeValue(k, v);
    }
    return out;
  }

  /**
   * Expands a validated data ID of `dimensions` with its implied values, taken from the
   * records `lookup` returns, and checks that a record exists for every dimension that has
   * one. Returns required + implied values in universe order.
   *
   * @throws DataIdError DATAID_NO_RECORD when a record is missing, DATAID_INCONSISTENT when
   *   a given implied value contradicts a record.
   */
  expandDataId(dimensions: Iterable<string>, dataId: DataId, lookup: RecordLookup): DataId {
    const closure = this.validationPlan(dimensions).closure;
    const values: Record<string, DataIdValue> = { ...this.validateDataId(dimensions, dataId) };
    // Implied dimensions are declared before the elements implying them, so walking the
    // closure backwards resolves chains (visit -> physical_filter -> band).
    for (let i = closure.length - 1; i >= 0; i--) {
      const name = closure[i]!;
      const e = this.dimension(name);
      if (values[name] === undefined) {
        throw new DataIdError(
          'DATAID_NO_RECORD',
          `cannot determine '${name}' for data ID ${formatDataId(values)}; give it explicitly`,
          [name],
        );
      }
      const key = e.keyDimensions.map((d) => values[d]!);
      const record = lookup(e, key);
      if (record === undefined) {
        throw new DataIdError(
          'DATAID_NO_RECORD',
          `no ${name} record for ${formatDataId(pick(values, e.keyDimensions))}; ` +
            `insert the ${name} record first (insertDimensionData('${name}', ...)) or fix the data ID`,
          [name],
        );
      }
      for (const imp of e.implies) {
        const v = record[imp];
        if (v === undefined || v === null) continue;
        const norm = this.normalizeValue(imp, v);
        const given = values[imp];
        if (given !== undefined && given !== norm) {
          throw new DataIdError(
            'DATAID_INCONSISTENT',
            `data ID gives ${imp}=${JSON.stringify(given)} but the ${name} record of ` +
              `${formatDataId(pick(values, e.keyDimensions))} says ${imp}=${JSON.stringify(norm)}; ` +
              `drop '${imp}' from the data ID or fix it`,
            [imp],
          );
        }
        values[imp] = norm;
      }
    }
    const out: Record<string, DataIdValue> = {};
    for (const d of closure) if (values[d] !== undefined) out[d] = values[d]!;
    return out;
  }

  /**
   * Spatial elements usable for a dimension set, one per spatial family: the element of the
   * family with the most key dimensions among those whose keys lie within the set
   * (visit_detector_region before visit, patch before tract).
   */
  spatialElementsOf(dimensions: Iterable<string>): DimensionElement[] {
    const within = this.elementsWithin(dimensions).filter((e) => e.spatial !== null);
    const best = new Map<string, DimensionElement>();
    for (const e of within) {
      const cur = best.get(e.spatial!);
      if (!cur || e.keyDimensions.length > cur.keyDimensions.length) best.set(e.spatial!, e);
    }
    return [...best.values()].sort((a, b) => a.index - b.index);
  }

  /** Column of `element`'s table holding the key value of `dimension`. */
  columnFor(element: DimensionElement, dimension: string): string {
    if (dimension === element.name && element.key) return element.key.name;
    return dimension;
  }
}

/** Memoized facts about a dimension set. */
interface ValidationPlan {
  readonly closure: readonly string[];
  readonly required: readonly string[];
  readonly allowed: ReadonlySet<string>;
}

function buildElement(
  name: string,
  ec: ElementConfig,
  index: number,
  known: ReadonlyMap<string, DimensionElement>,
  path: string | null,
): DimensionElement {
  if (RESERVED_TABLE_NAMES.has(name) || name.startsWith('dataset_') || name.endsWith('_skypix')) {
    throw new DimensionConfigError(
      `element name '${name}' clashes with the registry's tables`,
      path,
    );
  }
  const isDimension = ec.dimension !== false;
  if (isDimension && !ec.key) {
    throw new DimensionConfigError(`dimension '${name}' needs a key`, path);
  }
  if (!isDimension && ec.key) {
    throw new DimensionConfigError(`relation '${name}' (dimension: false) cannot have a key`, path);
  }
  const requires = ec.requires ?? [];
  const implies = ec.implies ?? [];
  for (const dep of [...requires, ...implies]) {
    const d = known.get(dep);
    if (!d) {
      throw new DimensionConfigError(
        `'${name}' depends on '${dep}', which is not declared above it`,
        path,
      );
    }
    if (!d.isDimension) {
      throw new DimensionConfigError(
        `'${name}' depends on relation '${dep}'; depend on dimensions`,
        path,
      );
    }
  }
  const keyDims = new Set<string>();
  for (const r of requires) for (const d of known.get(r)!.keyDimensions) keyDims.add(d);
  if (isDimension) keyDims.add(name);
  const order = (d: string): number => (d === name ? index : known.get(d)!.index);
  const keyDimensions = [...keyDims].sort((a, b) => order(a) - order(b));
  for (const i of implies) {
    const scope = known.get(i)!.keyDimensions.filter((d) => d !== i);
    const outside = scope.filter((d) => !keyDims.has(d));
    if (outside.length > 0) {
      throw new DimensionConfigError(
        `'${name}' implies '${i}', whose key needs ${outside.join(', ')} that '${name}' does not require`,
        path,
      );
    }
  }
  const columns: ElementColumn[] = [];
  for (const d of keyDimensions) {
    if (d === name) {
      const k = ec.key!;
      columns.push({
        name: k.name,
        type: k.type,
        role: 'key',
        dimension: name,
        length: k.length ?? null,
        doc: `the ${name} key`,
      });
    } else {
      const k = known.get(d)!.key!;
      columns.push({
        name: d,
        type: k.type,
        role: 'required',
        dimension: d,
        length: k.length ?? null,
        doc: `the ${d} key`,
      });
    }
  }
  for (const i of implies) {
    const k = known.get(i)!.key!;
    columns.push({
      name: i,
      type: k.type,
      role: 'implied',
      dimension: i,
      length: k.length ?? null,
      doc: `the implied ${i}`,
    });
  }
  let regionColumn: string | null = null;
  for (const f of ec.fields ?? []) {
    columns.push({
      name: f.name,
      type: f.type,
      role: 'field',
      dimension: null,
      length: f.length ?? null,
      doc: f.doc ?? '',
    });
    if (f.type === 'region') {
      if (regionColumn !== null) {
        throw new DimensionConfigError(`'${name}' has more than one region field`, path);
      }
      regionColumn = f.name;
    }
  }
  const names = columns.map((c) => c.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) {
    throw new DimensionConfigError(`'${name}' has two columns called '${dup}'`, path);
  }
  if ((ec.spatial !== undefined) !== (regionColumn !== null)) {
    throw new DimensionConfigError(
      `'${name}': an element has a spatial family exactly when it has a region field`,
      path,
    );
  }
  if (ec.populated_from_implied && (ec.fields ?? []).length > 0) {
    throw new DimensionConfigError(
      `'${name}' is populated from implied values, so it cannot have fields`,
      path,
    );
  }
  return {
    name,
    doc: ec.doc ?? '',
    index,
    isDimension,
    key: ec.key ? { name: ec.key.name, type: ec.key.type, length: ec.key.length ?? null } : null,
    requires,
    implies,
    governor: ec.governor === true,
    populatedFromImplied: ec.populated_from_implied === true,
    spatial: ec.spatial ?? null,
    keyDimensions,
    columns,
    regionColumn,
  };
}

function pick(values: Readonly<Record<string, DataIdValue>>, keys: readonly string[]): DataId {
  const out: Record<string, DataIdValue> = {};
  for (const k of keys) if (values[k] !== undefined) out[k] = values[k]!;
  return out;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return `a ${Array.isArray(value) ? 'list' : 'object'}`;
  return String(value);
}

/** True when `s` holds a C0 control character or DEL. */
export function hasControlCharacters(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** A data ID as `{instrument: 'SimCam', visit: 12}` text for messages. */
export function formatDataId(dataId: Readonly<Record<string, unknown>>): string {
  const parts = Object.entries(dataId).map(([k, v]) => `${k}: ${describe(v)}`);
  return `{${parts.join(', ')}}`;
}

let defaultUniverse: DimensionUniverse | undefined;

/** The universe of the shipped configs/dimensions.yaml, loaded once. */
export function getDefaultUniverse(): DimensionUniverse {
  defaultUniverse ??= DimensionUniverse.load();
  return defaultUniverse;
}
