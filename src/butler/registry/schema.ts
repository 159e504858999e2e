/**
 * The registry's database schema and its migrations.
 *
 * ## Design
 *
 * Static tables (created by migration 1, or later migrations):
 * - `butler_attributes(name, value)`: `schema_version`, the dimensions universe's
 *   `universe_namespace`, `universe_version` and full `universe_config` (JSON), so a
 *   repository is self-describing;
 * - `collection(collection_id, name, type, doc)` and `collection_chain(parent, position,
 *   child)` (ordered, nestable search paths);
 * - `dataset_type(dataset_type_id, name, dimensions, storage_class, is_calibration,
 *   tag_table)`;
 * - `dataset(id, dataset_type_id, run_id, ingest_date)`: one row per dataset, the UUID primary
 *   key and the RUN it was born in;
 * - `datastore_record(dataset_id, component, path, formatter, storage_class, checksum,
 *   file_size)` (migration 2);
 * - one table per dimension element (`instrument`, `visit`, `patch`, ...), keyed by the
 *   element's key dimensions, with foreign keys to the elements it requires and implies;
 * - `<element>_skypix(<key dimensions>, skypix)` for elements with a region: the HTM
 *   trixels (level 7) each region touches, indexed by trixel, for spatial candidate joins.
 *
 * Dynamic tables, one per **dimension group** (the required dimensions of dataset types;
 * calexp and src share `dataset_tags_instrument_detector_visit`), created when the first
 * dataset type with that group is registered:
 * `dataset_tags_<group>(dataset_type_id, dataset_id, collection_id, <one column per required
 * dimension>)`. A row says "dataset X with this data ID is in collection C"; a dataset has a
 * row for its RUN and one per TAGGED collection it is associated with. Constraints:
 * primary key (dataset_id, collection_id); UNIQUE (dataset_type_id, collection_id,
 * <non-governor dimensions>, <governors>) — which enforces "one dataset per type and data
 * ID in a collection" and is the index of the usual query (type + collections + data-ID
 * ranges); plus one index per further non-governor dimension (e.g. `visit`) for queries
 * that constrain only that one; foreign keys to the dimension tables, `dataset` (ON DELETE
 * CASCADE) and `collection`.
 *
 * This is LSST daf_butler's "tags table" design. It keeps data-ID values as typed, indexed
 * columns, so `visit IN (100..200) AND detector = 42` over a million datasets is an index
 * range scan returning a few hundred rows, and joins to dimension records (for
 * `visit.exposure_time > 20` or implied band) are primary-key lookups. A single dataset
 * table holding the data ID as JSON would have to scan and parse every row for such
 * queries (or grow expression indexes per key), and could not enforce uniqueness or
 * foreign keys per dimension.
 *
 * ## Migrations
 *
 * {@link MIGRATIONS} is an ordered list; migration N turns a version N-1 schema into version
 * N. Opening a repository applies the missing ones in one write transaction; creating one
 * applies all. A repository whose schema_version is newer than {@link SCHEMA_VERSION} is
 * refused with SchemaVersionError (upgrade gpu-drp).
 */

import { createHash } from 'node:crypto';
import type { DimensionElement, DimensionUniverse } from '../dimensions/universe.ts';
import type { SqlDialect } from './dialect.ts';
import { RepositoryNotFoundError, SchemaVersionError } from './errors.ts';
import type { Executor } from './exec.ts';
import { q, quoteIdent as qi } from './sql.ts';

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = 2;

/** One schema migration. */
export interface Migration {
  /** The schema version after this migration. */
  readonly version: number;
  readonly description: string;
  up(exec: Executor, universe: DimensionUniverse): Promise<void>;
}

/** Name of the skypix index table of a spatial element. */
export function skypixTable(element: DimensionElement): string {
  return `${element.name}_skypix`;
}

/** Names of the columns of an element's table, for its key dimensions, in order. */
export function keyColumns(universe: DimensionUniverse, element: DimensionElement): string[] {
  return element.keyDimensions.map((d) => universe.columnFor(element, d));
}

function elementTableDdl(
  universe: DimensionUniverse,
  e: DimensionElement,
  d: SqlDialect,
): string[] {
  const cols = e.columns.map((c) => {
    const notNull = c.role === 'field' ? '' : ' NOT NULL';
    return `${qi(c.name)} ${d.columnType(c.type, c.length)}${notNull}`;
  });
  const pk = keyColumns(universe, e).map(qi).join(', ');
  const fks: string[] = [];
  for (const dep of [...e.requires, ...e.implies]) {
    const target = universe.dimension(dep);
    const from = target.keyDimensions.map((k) => qi(universe.columnFor(e, k))).join(', ');
    const to = keyColumns(universe, target).map(qi).join(', ');
    fks.push(`FOREIGN KEY (${from}) REFERENCES ${qi(dep)} (${to})`);
  }
  const out = [
    `CREATE TABLE ${qi(e.name)} (\n  ${[...cols, `PRIMARY KEY (${pk})`, ...fks].join(',\n  ')}\n)`,
  ];
  for (const imp of e.implies) {
    out.push(`CREATE INDEX ${qi(`${e.name}_by_${imp}`)} ON ${qi(e.name)} (${qi(imp)})`);
  }
  // The primary key serves lookups by its leading dimensions; later non-governor ones
  // (visit in visit_detector_region) get their own index.
  const laterKeys = e.keyDimensions.filter((k) => !universe.dimension(k).governor).slice(1);
  for (const k of laterKeys) {
    const c = universe.columnFor(e, k);
    out.push(`CREATE INDEX ${qi(`${e.name}_by_${k}`)} ON ${qi(e.name)} (${qi(c)})`);
  }
  if (e.regionColumn !== null) {
    const keyDefs = e.keyDimensions.map((k) => {
      const kd = universe.dimension(k).key!;
      return `${qi(k)} ${d.columnType(kd.type, kd.length)} NOT NULL`;
    });
    const keys = e.keyDimensions.map(qi).join(', ');
    const t = skypixTable(e);
    out.push(
      `CREATE TABLE ${qi(t)} (\n  ${[
        ...keyDefs,
        `${qi('skypix')} ${d.columnType('int', null)} NOT NULL`,
        `PRIMARY KEY (${keys}, ${qi('skypix')})`,
        `FOREIGN KEY (${keys}) REFERENCES ${qi(e.name)} (${pk}) ON DELETE CASCADE`,
      ].join(',\n  ')}\n)`,
    );
    out.push(`CREATE INDEX ${qi(`${t}_by_pixel`)} ON ${qi(t)} (${qi('skypix')})`);
    for (const k of laterKeys)
      out.push(`CREATE INDEX ${qi(`${t}_by_${k}`)} ON ${qi(t)} (${qi(k)})`);
  }
  return out;
}

/**
 * Name of the tags table of a dimension group (its required dimensions):
 * `dataset_tags_<dims joined by _>`, or a hashed name when that would exceed PostgreSQL's
 * 63-character identifiers.
 */
export function tagTableName(requiredDimensions: readonly string[]): string {
  const plain = `dataset_tags_${requiredDimensions.join('_') || 'none'}`;
  if (plain.length <= 60) return plain;
  const h = createHash('sha1').update(requiredDimensions.join(',')).digest('hex').slice(0, 12);
  return `dataset_tags_g${h}`;
}

/**
 * Order of the data-ID columns in a tags table's unique index: non-governor dimensions in
 * universe order, then governors (usually one value per repository, so they would only
 * dilute a leading index column).
 */
export function tagIndexOrder(universe: DimensionUniverse, required: readonly string[]): string[] {
  const gov = required.filter((x) => universe.dimension(x).governor);
  const rest = required.filter((x) => !universe.dimension(x).governor);
  return [...rest, ...gov];
}

/** DDL of a dimension group's tags table (see the module comment). */
export function tagTableDdl(
  universe: DimensionUniverse,
  d: SqlDialect,
  required: readonly string[],
): string[] {
  const t = tagTableName(required);
  const cols = [
    // No foreign key on dataset_type_id: the dataset row (referenced below) carries the
    // checked one, and every avoided check counts at a million rows.
    `${qi('dataset_type_id')} INTEGER NOT NULL`,
    `${qi('dataset_id')} ${d.uuidType} NOT NULL REFERENCES ${qi('dataset')} (${qi('id')}) ON DELETE CASCADE`,
    `${qi('collection_id')} INTEGER NOT NULL REFERENCES ${qi('collection')} (${qi('collection_id')})`,
  ];
  for (const dim of required) {
    const k = universe.dimension(dim).key!;
    cols.push(`${qi(dim)} ${d.columnType(k.type, k.length)} NOT NULL`);
  }
  const order = tagIndexOrder(universe, required);
  const constraints = [
    `PRIMARY KEY (${qi('dataset_id')}, ${qi('collection_id')})`,
    `CONSTRAINT ${qi(`${t}_unique`)} UNIQUE (${[qi('dataset_type_id'), qi('collection_id'), ...order.map(qi)].join(', ')})`,
  ];
  // Foreign keys for the "leaf" dimensions only: visit's key (instrument, visit) already
  // pins the instrument, whose own key the visit table references.
  const covered = new Set(
    required.flatMap((dim) => universe.dimension(dim).keyDimensions.filter((k) => k !== dim)),
  );
  for (const dim of required.filter((x) => !covered.has(x))) {
    const target = universe.dimension(dim);
    const from = target.keyDimensions.map(qi).join(', ');
    const to = keyColumns(universe, target).map(qi).join(', ');
    constraints.push(`FOREIGN KEY (${from}) REFERENCES ${qi(dim)} (${to})`);
  }
  const out = [
    `CREATE TABLE IF NOT EXISTS ${qi(t)} (\n  ${[...cols, ...constraints].join(',\n  ')}\n)`,
  ];
  const nonGov = order.filter((x) => !universe.dimension(x).governor);
  for (const dim of nonGov.slice(1)) {
    out.push(
      `CREATE INDEX IF NOT EXISTS ${qi(`${t}_by_${dim}`)} ON ${qi(t)} (${qi(dim)}, ${qi('dataset_type_id')}, ${qi('collection_id')})`,
    );
  }
  out.push(
    `CREATE INDEX IF NOT EXISTS ${qi(`${t}_by_collection`)} ON ${qi(t)} (${qi('collection_id')})`,
  );
  return out;
}

async function execAll(exec: Executor, statements: readonly string[]): Promise<void> {
  for (const s of statements) await exec.exec(s);
}

async function setAttribute(exec: Executor, name: string, value: string): Promise<void> {
  await exec.run(
    q`INSERT INTO butler_attributes (name, value) VALUES (${name}, ${value})
      ON CONFLICT (name) DO UPDATE SET value = excluded.value`,
  );
}

/** The ordered migrations; migration N produces schema version N. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'attributes, collections, dataset types, datasets, dimension element tables',
    async up(exec, universe) {
      const d = exec.dialect;
      const statements = [
        `CREATE TABLE butler_attributes (name VARCHAR(64) PRIMARY KEY, value TEXT NOT NULL)`,
        `CREATE TABLE collection (
  collection_id ${d.serialPrimaryKey},
  name TEXT NOT NULL UNIQUE,
  type VARCHAR(16) NOT NULL CHECK (type IN ('RUN', 'TAGGED', 'CHAINED', 'CALIBRATION')),
  doc TEXT
)`,
        `CREATE TABLE collection_chain (
  parent INTEGER NOT NULL REFERENCES collection (collection_id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  child INTEGER NOT NULL REFERENCES collection (collection_id),
  PRIMARY KEY (parent, position),
  UNIQUE (parent, child)
)`,
        `CREATE INDEX collection_chain_by_child ON collection_chain (child)`,
        `CREATE TABLE dataset_type (
  dataset_type_id ${d.serialPrimaryKey},
  name VARCHAR(128) NOT NULL UNIQUE,
  dimensions TEXT NOT NULL,
  storage_class VARCHAR(128) NOT NULL,
  is_calibration ${d.columnType('bool', null)} NOT NULL,
  tag_table VARCHAR(64) NOT NULL
)`,
        `CREATE TABLE dataset (
  id ${d.uuidType} PRIMARY KEY,
  dataset_type_id INTEGER NOT NULL REFERENCES dataset_type (dataset_type_id),
  run_id INTEGER NOT NULL REFERENCES collection (collection_id),
  ingest_date VARCHAR(32) NOT NULL
)`,
        `CREATE INDEX dataset_by_run ON dataset (run_id)`,
      ];
      for (const e of universe.elements) statements.push(...elementTableDdl(universe, e, d));
      await execAll(exec, statements);
      await setAttribute(exec, 'universe_namespace', universe.namespace);
      await setAttribute(exec, 'universe_version', String(universe.version));
      await setAttribute(exec, 'universe_config', JSON.stringify(universe.config));
    },
  },
  {
    version: 2,
    description: 'datastore records',
    async up(exec) {
      const d = exec.dialect;
      await execAll(exec, [
        `CREATE TABLE datastore_record (
  dataset_id ${d.uuidType} NOT NULL REFERENCES dataset (id),
  component VARCHAR(64) NOT NULL DEFAULT '',
  path TEXT NOT NULL,
  formatter VARCHAR(256) NOT NULL,
  storage_class VARCHAR(128) NOT NULL,
  checksum VARCHAR(256),
  file_size ${d.columnType('int', null)} NOT NULL,
  PRIMARY KEY (dataset_id, component)
)`,
      ]);
    },
  },
];

/** What {@link inspectSchema} found. */
export interface SchemaState {
  /** Schema version, or null when the database holds no repository. */
  readonly version: number | null;
  /** Attributes (name -> value). */
  readonly attributes: ReadonlyMap<string, string>;
}

/** Reads the repository's schema version and attributes. */
export async function inspectSchema(exec: Executor): Promise<SchemaState> {
  const tables = new Set((await exec.run(exec.dialect.listTables)).map((r) => String(r.name)));
  if (!tables.has('butler_attributes')) return { version: null, attributes: new Map() };
  const rows = await exec.run(q`SELECT name, value FROM butler_attributes`);
  const attributes = new Map(rows.map((r) => [String(r.name), String(r.value)]));
  const v = attributes.get('schema_version');
  return { version: v === undefined ? null : Number(v), attributes };
}

/**
 * Applies migrations after `from` up to `target` (default {@link SCHEMA_VERSION}) and
 * records the new version. Call inside a write transaction.
 */
export async function migrate(
  exec: Executor,
  universe: DimensionUniverse,
  from: number,
  target: number = SCHEMA_VERSION,
): Promise<void> {
  for (const m of MIGRATIONS) {
    if (m.version <= from || m.version > target) continue;
    await m.up(exec, universe);
    await setAttribute(exec, 'schema_version', String(m.version));
  }
}

/**
 * Checks a repository's versions against this code (and against `expected`, a universe the
 * caller insists on) and returns the repository's universe config (JSON text).
 *
 * @throws SchemaVersionError for a newer schema, or a universe of another namespace/version.
 * @throws RepositoryNotFoundError when there is no repository.
 */
export function checkVersions(
  state: SchemaState,
  where: string,
  expected: DimensionUniverse | undefined,
): string {
  if (state.version === null) throw new RepositoryNotFoundError(where);
  if (state.version > SCHEMA_VERSION) {
    throw new SchemaVersionError(
      `the registry at ${where} has schema version ${state.version}, written by a newer gpu-drp; ` +
        `this gpu-drp reads versions up to ${SCHEMA_VERSION}. Upgrade gpu-drp to open it`,
    );
  }
  const ns = state.attributes.get('universe_namespace');
  const ver = Number(state.attributes.get('universe_version'));
  const config = state.attributes.get('universe_config');
  if (ns === undefined || config === undefined || !Number.isInteger(ver)) {
    throw new SchemaVersionError(
      `the registry at ${where} records no dimensions universe; it is damaged or not a gpu-drp repository`,
    );
  }
  if (expected && (expected.namespace !== ns || expected.version !== ver)) {
    throw new SchemaVersionError(
      `the registry at ${where} uses dimensions universe ${ns} v${ver}, not ${expected.namespace} ` +
        `v${expected.version}; open it without a universe to use its own, or convert the repository`,
    );
  }
  return config;
}
