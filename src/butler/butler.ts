/**
 * The Butler: datasets by dataset type and data ID, never by path. It joins a registry
 * (SQL: what exists, where to look) and a datastore (files: the bytes), with LSST's
 * semantics (shared/reference/lsst.md section 1) in a TypeScript idiom.
 *
 * A repository is a directory holding `butler.yaml`:
 *   registry: { url: sqlite:gpu_drp.sqlite3 | postgres://user@host:port/db }
 *   datastore: { root: . | /path | s3://bucket/prefix | webdav://host/path, checksum, templates, recipes }
 * Relative paths there are relative to the repository directory, so it can move.
 *
 * Writes: the datastore writes the file completely (atomically) first; only then are the
 * dataset row and its datastore record inserted, in one registry transaction; when that
 * fails the file is removed. A crash between the two leaves an unregistered file, never
 * a registered dataset without its file; `check()` finds such leftovers.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import YAML from 'yaml';
import type { ReadParameters } from './datastore/formatters/index.ts';
import {
  Datastore,
  type DatastoreOptions,
  type IngestMode,
  type Leftovers,
} from './datastore/index.ts';
import {
  ButlerError,
  DatasetNotFoundError,
  ExportFormatError,
  MissingRunError,
  RepositoryConfigError,
} from './errors.ts';
import type { DataId, DatasetRef, DatasetType, DatastoreRecord } from './refs.ts';
import { datasetId, Registry, uuid7 } from './registry/index.ts';

/** The repository configuration file's name. */
export const CONFIG_FILE = 'butler.yaml';

/** What butler.yaml holds. */
export interface RepoConfig {
  readonly registry: { readonly url: string };
  readonly datastore: {
    readonly root: string;
    readonly checksum?: boolean;
    readonly templates?: DatastoreOptions['templates'];
    readonly recipes?: DatastoreOptions['recipes'];
  };
}

/** Options of {@link Butler.create}. */
export interface CreateOptions {
  /** Registry URL (default: SQLite `gpu_drp.sqlite3` in the repository). */
  readonly registry?: string;
  /** Datastore root (default: the repository directory itself). */
  readonly datastore?: string;
  /** Record checksums of stored files (default false, as LSST). */
  readonly checksum?: boolean;
  /** Datastore write recipes, e.g. `{ ExposureF: 'noCompression' }`. */
  readonly recipes?: DatastoreOptions['recipes'];
}

/** Options of {@link Butler.open}. */
export interface OpenOptions {
  /** Default output run of puts. */
  readonly run?: string;
  /** Default collections searched by gets and queries. */
  readonly collections?: string | readonly string[];
}

/** A handle that reads a dataset later, optionally in part (`parameters.bbox`). */
export interface DeferredDatasetHandle<T = unknown> {
  readonly ref: DatasetRef;
  get(parameters?: ReadParameters): Promise<T>;
}

/** One file to ingest with the dataset it is. */
export interface IngestItem {
  readonly path: string;
  readonly datasetType: string;
  readonly dataId: DataId;
}

/** The portable export format (YAML). */
export interface ExportFile {
  readonly description: 'gpu-drp butler export';
  readonly version: 1;
  readonly universe: { readonly namespace: string; readonly version: number };
  readonly dimensions: Readonly<Record<string, ReadonlyArray<Record<string, unknown>>>>;
  readonly datasetTypes: readonly DatasetType[];
  readonly runs: readonly string[];
  readonly collections: ReadonlyArray<{
    name: string;
    type: 'TAGGED' | 'CHAINED' | 'CALIBRATION';
    children?: string[];
    datasets?: string[];
  }>;
  readonly datasets: ReadonlyArray<{
    readonly id: string;
    readonly datasetType: string;
    readonly run: string;
    readonly dataId: DataId;
    readonly records: readonly DatastoreRecord[];
  }>;
}

function collectionList(c: string | readonly string[] | undefined): string[] {
  if (c === undefined) return [];
  return typeof c === 'string' ? [c] : [...c];
}

/** A repository: registry + datastore. */
export class Butler {
  private constructor(
    /** The repository directory (holding butler.yaml). */
    readonly root: string,
    readonly config: RepoConfig,
    readonly registry: Registry,
    readonly datastore: Datastore,
    private readonly defaults: { run?: string; collections: string[] },
  ) {}

  /**
   * Create a repository at `root` (a local directory, made if needed) and its registry
   * schema. @throws RepositoryConfigError when a repository is already there.
   */
  static async create(root: string, o: CreateOptions = {}): Promise<Butler> {
    const dir = resolve(root);
    const cfgPath = join(dir, CONFIG_FILE);
    if (existsSync(cfgPath)) {
      throw new RepositoryConfigError(
        `a repository already exists at ${dir} (${CONFIG_FILE}); open it instead, or choose another directory`,
      );
    }
    await mkdir(dir, { recursive: true });
    const config: RepoConfig = {
      registry: { url: o.registry ?? 'sqlite:gpu_drp.sqlite3' },
      datastore: {
        root: o.datastore ?? '.',
        ...(o.checksum !== undefined ? { checksum: o.checksum } : {}),
        ...(o.recipes ? { recipes: o.recipes } : {}),
      },
    };
    const registry = await Registry.open(resolveRegistryUrl(config.registry.url, dir), {
      create: true,
    });
    try {
      const tmp = `${cfgPath}.tmp-${randomBytes(4).toString('hex')}`;
      await writeFile(tmp, YAML.stringify(config));
      await rename(tmp, cfgPath);
    } catch (e) {
      await registry.close();
      throw e;
    }
    return new Butler(dir, config, registry, openDatastore(config, dir), { collections: [] });
  }

  /** Open the repository at `root` (its directory or its butler.yaml). */
  static async open(root: string, o: OpenOptions = {}): Promise<Butler> {
    let dir = resolve(root);
    if (dir.endsWith('.yaml')) dir = resolve(dir, '..');
    const cfgPath = join(dir, CONFIG_FILE);
    let config: RepoConfig;
    try {
      config = YAML.parse(readFileSync(cfgPath, 'utf8')) as RepoConfig;
    } catch (e) {
      throw new RepositoryConfigError(
        existsSync(cfgPath)
          ? `cannot read ${cfgPath}: ${(e as Error).message}`
          : `no repository at ${dir} (no ${CONFIG_FILE}); create one with \`butler create ${root}\``,
        { cause: e },
      );
    }
    if (!config?.registry?.url || !config.datastore?.root) {
      throw new RepositoryConfigError(
        `${cfgPath} needs registry.url and datastore.root; it has ${JSON.stringify(config)}`,
      );
    }
    const registry = await Registry.open(resolveRegistryUrl(config.registry.url, dir));
    return new Butler(dir, config, registry, openDatastore(config, dir), {
      ...(o.run ? { run: o.run } : {}),
      collections: collectionList(o.collections),
    });
  }

  /** Close the registry connection. */
  async close(): Promise<void> {
    await this.registry.close();
  }

  /** The default output run of puts. */
  get run(): string | undefined {
    return this.defaults.run;
  }

  /** The default search collections. */
  get collections(): readonly string[] {
    return this.defaults.collections;
  }

  private searchPath(collections?: string | readonly string[]): string[] {
    const c = collections === undefined ? this.defaults.collections : collectionList(collections);
    if (c.length === 0) {
      if (this.defaults.run) return [this.defaults.run];
      throw new MissingRunError(
        'no collections to search: pass collections (--collections) or open the butler with some',
      );
    }
    return c;
  }

  private outputRun(run?: string): string {
    const r = run ?? this.defaults.run;
    if (!r) {
      throw new MissingRunError(
        'no output run: pass run (--output-run) or open the butler with a default run',
      );
    }
    return r;
  }

  /** The required-dimension values of `dataId` for `type` (what deterministic ids hash). */
  private requiredOf(type: DatasetType, dataId: DataId): DataId {
    const req = this.registry.universe.requiredOf(type.dimensions);
    return Object.fromEntries(req.map((k) => [k, dataId[k] as string | number]));
  }

  /** Register a dataset type (checks its file template is unique first). */
  async registerDatasetType(t: DatasetType): Promise<boolean> {
    this.datastore.validateDatasetType(t);
    return this.registry.registerDatasetType(t);
  }

  /**
   * Store `obj` as `datasetType` with `dataId` in `run` (default: the butler's run).
   * @throws ConflictingDefinitionError the run has that dataset already (nothing written)
   */
  async put(
    obj: unknown,
    datasetType: string,
    dataId: DataId,
    o: { run?: string; id?: string } = {},
  ): Promise<DatasetRef> {
    const run = this.outputRun(o.run);
    const type = await this.registry.getDatasetType(datasetType);
    const expanded = await this.registry.expandDataId(dataId);
    await this.registry.registerRun(run);
    const existing = await this.registry.findDataset(type.name, expanded, { collections: [run] });
    if (existing) {
      throw new ButlerError(
        'DATASET_EXISTS',
        `${type.name} ${JSON.stringify(expanded)} is already in run ${run} (dataset ${existing.id}); put it in another run, or remove it first (butler prune-datasets)`,
      );
    }
    const ref: DatasetRef = {
      id: o.id ?? uuid7(),
      datasetType: type,
      dataId: expanded,
      run,
    };
    const record = await this.datastore.put(obj, ref);
    await this.registerStored([{ ref, records: [record] }]);
    return ref;
  }

  /** Insert refs (with their ids) and records in one transaction; on failure remove the files. */
  private async registerStored(
    items: ReadonlyArray<{ ref: DatasetRef; records: readonly DatastoreRecord[] }>,
  ): Promise<void> {
    try {
      await this.registry.transaction(async (tx) => {
        await tx.importDatasets(items.map((i) => i.ref));
        await tx.insertDatastoreRecords(items.flatMap((i) => i.records));
      });
    } catch (e) {
      await this.discard(items);
      throw e;
    }
  }

  /** Best-effort removal of files written for datasets that will not be registered. */
  private async discard(
    items: ReadonlyArray<{ readonly records: readonly DatastoreRecord[] }>,
  ): Promise<void> {
    for (const i of items)
      for (const r of i.records) await this.datastore.remove(r).catch(() => false);
  }

  /** The ref of `datasetType` + `dataId` first found in `collections`. */
  async findDataset(
    datasetType: string,
    dataId: DataId,
    o: { collections?: string | readonly string[] } = {},
  ): Promise<DatasetRef | null> {
    return this.registry.findDataset(datasetType, dataId, {
      collections: this.searchPath(o.collections),
    });
  }

  private async resolveRef(
    what: string | DatasetRef,
    dataId: DataId | undefined,
    collections: string | readonly string[] | undefined,
  ): Promise<DatasetRef> {
    if (typeof what !== 'string') return what;
    const search = this.searchPath(collections);
    const ref = await this.registry.findDataset(what, dataId ?? {}, { collections: search });
    if (!ref) {
      throw new DatasetNotFoundError(
        `no ${what} with data ID ${JSON.stringify(dataId ?? {})} in collections ${search.join(', ')}; list what is there with \`butler query-datasets REPO ${what} --collections ${search.join(',')}\``,
      );
    }
    return ref;
  }

  private async recordsOf(ref: DatasetRef): Promise<DatastoreRecord[]> {
    const records = await this.registry.getDatastoreRecords([ref.id]);
    if (records.length === 0) {
      throw new DatasetNotFoundError(
        `dataset ${ref.id} (${ref.datasetType.name}) is registered but has no stored file (it was pruned with --unstore, or its put failed); remove it with \`butler prune-datasets --purge\``,
      );
    }
    return records;
  }

  /** Read a dataset (by ref, or by type + data ID searched in `collections`). */
  async get<T = unknown>(
    what: string | DatasetRef,
    dataId?: DataId,
    o: {
      collections?: string | readonly string[];
      parameters?: ReadParameters;
      verifyChecksum?: boolean;
    } = {},
  ): Promise<T> {
    const ref = await this.resolveRef(what, dataId, o.collections);
    const [record] = await this.recordsOf(ref);
    return this.datastore.get<T>(record as DatastoreRecord, {
      ...(o.parameters ? { parameters: o.parameters } : {}),
      ...(o.verifyChecksum ? { verifyChecksum: true } : {}),
    });
  }

  /** A handle that reads the dataset when asked (for `deferLoad` inputs and sub-box reads). */
  async getDeferred<T = unknown>(
    what: string | DatasetRef,
    dataId?: DataId,
    o: { collections?: string | readonly string[] } = {},
  ): Promise<DeferredDatasetHandle<T>> {
    const ref = await this.resolveRef(what, dataId, o.collections);
    const [record] = await this.recordsOf(ref);
    return {
      ref,
      get: (parameters?: ReadParameters) =>
        this.datastore.get<T>(record as DatastoreRecord, parameters ? { parameters } : {}),
    };
  }

  /** Whether the dataset is registered, and whether its file is there. */
  async exists(
    what: string | DatasetRef,
    dataId?: DataId,
    o: { collections?: string | readonly string[] } = {},
  ): Promise<{ registered: boolean; stored: boolean }> {
    let ref: DatasetRef;
    try {
      ref = await this.resolveRef(what, dataId, o.collections);
    } catch (e) {
      if (e instanceof DatasetNotFoundError) return { registered: false, stored: false };
      throw e;
    }
    const records = await this.registry.getDatastoreRecords([ref.id]);
    if (records.length === 0) return { registered: true, stored: false };
    for (const r of records)
      if (!(await this.datastore.exists(r))) return { registered: true, stored: false };
    return { registered: true, stored: true };
  }

  /** Where the dataset's file is (a path or URI). */
  async getURI(
    what: string | DatasetRef,
    dataId?: DataId,
    o: { collections?: string | readonly string[] } = {},
  ): Promise<string> {
    const ref = await this.resolveRef(what, dataId, o.collections);
    const [record] = await this.recordsOf(ref);
    return this.datastore.uri(record as DatastoreRecord);
  }

  /**
   * Ingest existing files as datasets of `run` (copy, move, link or direct: the file
   * stays where it is). All or nothing: on a failure no dataset is registered and the
   * files written so far are removed (direct ingests leave the originals alone).
   */
  async ingest(
    items: readonly IngestItem[],
    o: { run?: string; transfer?: IngestMode; idMode?: 'UNIQUE' | 'DATAID_TYPE_RUN' } = {},
  ): Promise<DatasetRef[]> {
    const run = this.outputRun(o.run);
    await this.registry.registerRun(run);
    const stored: Array<{ ref: DatasetRef; records: DatastoreRecord[] }> = [];
    try {
      for (const item of items) {
        const type = await this.registry.getDatasetType(item.datasetType);
        const dataId = await this.registry.expandDataId(item.dataId);
        const ref: DatasetRef = {
          id: datasetId(o.idMode ?? 'UNIQUE', type.name, this.requiredOf(type, dataId), run),
          datasetType: type,
          dataId,
          run,
        };
        const record = await this.datastore.ingest(item.path, ref, o.transfer ?? 'copy');
        stored.push({ ref, records: [record] });
      }
    } catch (e) {
      // Moved files are the only copy: keep them (a direct ingest's file is never removed).
      if (o.transfer !== 'move') await this.discard(stored);
      throw e;
    }
    await this.registerStored(stored);
    return stored.map((s) => s.ref);
  }

  /** Dataset refs matching a query (LSST's query_datasets). */
  async queryDatasets(
    datasetType: string | readonly string[],
    o: {
      collections?: string | readonly string[];
      where?: string;
      bind?: Record<string, unknown>;
      findFirst?: boolean;
      limit?: number;
    } = {},
  ): Promise<DatasetRef[]> {
    return this.registry.queryDatasets(datasetType, {
      collections: this.searchPath(o.collections),
      ...(o.where !== undefined ? { where: o.where } : {}),
      ...(o.bind ? { bind: o.bind } : {}),
      ...(o.findFirst !== undefined ? { findFirst: o.findFirst } : {}),
      ...(o.limit !== undefined ? { limit: o.limit } : {}),
    });
  }

  /**
   * Write an export file for `refs`: their dimension records, dataset types, runs and
   * datastore records (paths relative to the datastore root). With `directory`, the
   * files are copied there too (same relative paths), making the export self-contained.
   */
  async export(
    file: string,
    refs: readonly DatasetRef[],
    o: { directory?: string; collections?: readonly string[] } = {},
  ): Promise<ExportFile> {
    const dimensions = await this.dimensionRecordsFor(refs);
    const types = new Map<string, DatasetType>();
    for (const r of refs) types.set(r.datasetType.name, r.datasetType);
    const datasets: Array<ExportFile['datasets'][number]> = [];
    const records = await this.registry.getDatastoreRecords(refs.map((r) => r.id));
    const byId = new Map<string, DatastoreRecord[]>();
    for (const rec of records) byId.set(rec.datasetId, [...(byId.get(rec.datasetId) ?? []), rec]);
    let target: Datastore | null = null;
    if (o.directory) {
      await mkdir(o.directory, { recursive: true });
      target = Datastore.fromUrl(resolve(o.directory), datastoreOptions(this.config));
    }
    for (const r of refs) {
      const recs = byId.get(r.id) ?? [];
      const out: DatastoreRecord[] = [];
      for (const rec of recs)
        out.push(target ? await target.transferFrom(this.datastore, rec, r) : rec);
      datasets.push({
        id: r.id,
        datasetType: r.datasetType.name,
        run: r.run,
        dataId: r.dataId,
        records: out,
      });
    }
    const collections: Array<ExportFile['collections'][number]> = [];
    for (const name of o.collections ?? []) {
      const type = await this.registry.getCollectionType(name);
      if (type === 'CHAINED')
        collections.push({ name, type, children: await this.registry.getCollectionChain(name) });
      else if (type === 'TAGGED' || type === 'CALIBRATION') {
        const members = await this.registry.queryDatasets([...types.keys()], {
          collections: [name],
        });
        collections.push({ name, type, datasets: members.map((m) => m.id) });
      }
    }
    const universe = this.registry.universe;
    const content: ExportFile = {
      description: 'gpu-drp butler export',
      version: 1,
      universe: { namespace: universe.namespace, version: universe.version },
      dimensions,
      datasetTypes: [...types.values()],
      runs: [...new Set(refs.map((r) => r.run))].sort(),
      collections,
      datasets,
    };
    const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
    await writeFile(
      tmp,
      /\.json$/i.test(file) ? JSON.stringify(content, null, 1) : YAML.stringify(content),
    );
    await rename(tmp, file);
    return content;
  }

  /** Every dimension record the refs' data IDs need (their elements, plus visit-detector regions). */
  private async dimensionRecordsFor(
    refs: readonly DatasetRef[],
  ): Promise<Record<string, Array<Record<string, unknown>>>> {
    const universe = this.registry.universe;
    const out: Record<string, Array<Record<string, unknown>>> = {};
    const seen = new Set<string>();
    for (const ref of refs) {
      const dims = Object.keys(ref.dataId).filter((d) => universe.isDimension(d));
      for (const e of universe.elementsWithin(dims)) {
        const element = e.name;
        const keys = e.keyDimensions;
        const dataId = Object.fromEntries(keys.map((k) => [k, ref.dataId[k] as string | number]));
        if (keys.some((k) => ref.dataId[k] === undefined)) continue;
        const tag = `${element}:${JSON.stringify(dataId)}`;
        if (seen.has(tag)) continue;
        seen.add(tag);
        const recs = await this.registry.queryDimensionRecords(element, { dataId });
        out[element] = [...(out[element] ?? []), ...recs];
      }
    }
    return out;
  }

  /**
   * Import an export file: dimension records, dataset types, runs, datasets with their
   * ids, datastore records and collections. `directory`: where the exported files are
   * (copied into this datastore); without it the records' paths must already resolve in
   * this datastore (same root).
   */
  async import(file: string, o: { directory?: string } = {}): Promise<DatasetRef[]> {
    let content: ExportFile;
    try {
      const text = readFileSync(file, 'utf8');
      content = (/\.json$/i.test(file) ? JSON.parse(text) : YAML.parse(text)) as ExportFile;
    } catch (e) {
      throw new ExportFormatError(`cannot read export file ${file}: ${(e as Error).message}`, {
        cause: e,
      });
    }
    if (content?.description !== 'gpu-drp butler export' || content.version !== 1) {
      throw new ExportFormatError(
        `${file} is not a gpu-drp butler export (version 1); make it with \`butler export\``,
      );
    }
    const universe = this.registry.universe;
    if (
      content.universe.namespace !== universe.namespace ||
      content.universe.version > universe.version
    ) {
      throw new ExportFormatError(
        `${file} was written with dimension universe ${content.universe.namespace} v${content.universe.version}; this repository has ${universe.namespace} v${universe.version}`,
      );
    }
    const source = o.directory
      ? Datastore.fromUrl(resolve(o.directory), datastoreOptions(this.config))
      : null;
    for (const element of universe.sorted(Object.keys(content.dimensions))) {
      const recs = content.dimensions[element] ?? [];
      if (recs.length)
        await this.registry.insertDimensionData(element, recs, { skipExisting: true });
    }
    for (const t of content.datasetTypes) await this.registerDatasetType(t);
    for (const run of content.runs) await this.registry.registerRun(run);
    const types = new Map(content.datasetTypes.map((t) => [t.name, t]));
    const stored: Array<{ ref: DatasetRef; records: DatastoreRecord[] }> = [];
    try {
      for (const d of content.datasets) {
        const datasetType = types.get(d.datasetType);
        if (!datasetType)
          throw new ExportFormatError(`dataset ${d.id} has unknown dataset type ${d.datasetType}`);
        const ref: DatasetRef = { id: d.id, datasetType, dataId: d.dataId, run: d.run };
        const records: DatastoreRecord[] = [];
        for (const rec of d.records)
          records.push(source ? await this.datastore.transferFrom(source, rec, ref) : rec);
        stored.push({ ref, records });
      }
    } catch (e) {
      if (source) await this.discard(stored);
      throw e;
    }
    if (source) await this.registerStored(stored);
    else {
      await this.registry.transaction(async (tx) => {
        await tx.importDatasets(stored.map((s) => s.ref));
        await tx.insertDatastoreRecords(stored.flatMap((s) => s.records));
      });
    }
    const byId = new Map(stored.map((s) => [s.ref.id, s.ref]));
    for (const c of content.collections) {
      await this.registry.registerCollection(c.name, c.type);
      if (c.type === 'CHAINED') await this.registry.setCollectionChain(c.name, c.children ?? []);
      else if (c.datasets?.length)
        await this.registry.associate(
          c.name,
          c.datasets.map((id) => byId.get(id)).filter((r): r is DatasetRef => r !== undefined),
        );
    }
    return stored.map((s) => s.ref);
  }

  /**
   * Copy datasets from another butler (another repository, another facility): dimension
   * records, dataset types and runs as needed, the files (copied and verified), and the
   * registry rows with the same dataset ids. Datasets already here are skipped.
   */
  async transferFrom(
    source: Butler,
    refs: readonly DatasetRef[],
    o: { registerDatasetTypes?: boolean; transferDimensions?: boolean; dryRun?: boolean } = {},
  ): Promise<{ transferred: DatasetRef[]; skipped: DatasetRef[] }> {
    const skipped: DatasetRef[] = [];
    const todo: DatasetRef[] = [];
    for (const r of refs) ((await this.registry.getDataset(r.id)) ? skipped : todo).push(r);
    if (o.dryRun || todo.length === 0) return { transferred: todo, skipped };
    if (o.transferDimensions ?? true) {
      const dims = await source.dimensionRecordsFor(todo);
      for (const element of this.registry.universe.sorted(Object.keys(dims))) {
        await this.registry.insertDimensionData(element, dims[element] ?? [], {
          skipExisting: true,
        });
      }
    }
    for (const t of new Map(todo.map((r) => [r.datasetType.name, r.datasetType])).values()) {
      if (o.registerDatasetTypes ?? true) await this.registerDatasetType(t);
      else await this.registry.getDatasetType(t.name);
    }
    for (const run of new Set(todo.map((r) => r.run))) await this.registry.registerRun(run);
    const records = await source.registry.getDatastoreRecords(todo.map((r) => r.id));
    const stored: Array<{ ref: DatasetRef; records: DatastoreRecord[] }> = [];
    try {
      for (const ref of todo) {
        const recs = records.filter((r) => r.datasetId === ref.id);
        const out: DatastoreRecord[] = [];
        for (const rec of recs)
          out.push(await this.datastore.transferFrom(source.datastore, rec, ref));
        stored.push({ ref, records: out });
      }
    } catch (e) {
      await this.discard(stored);
      throw e;
    }
    await this.registerStored(stored);
    return { transferred: todo, skipped };
  }

  /**
   * Remove RUN collections and their datasets; with `unstore` (default) their files too.
   * Files go after the rows, so a crash leaves unregistered files for `check()`, never
   * registered datasets without files.
   */
  async removeRuns(names: readonly string[], o: { unstore?: boolean } = {}): Promise<number> {
    let removed = 0;
    for (const run of names) {
      if ((await this.registry.getCollectionType(run)) !== 'RUN') {
        throw new ButlerError(
          'NOT_A_RUN',
          `${run} is not a RUN collection; remove it with removeCollection`,
        );
      }
      const types = await this.registry.queryDatasetTypes();
      const refs = types.length
        ? await this.registry.queryDatasets(
            types.map((t) => t.name),
            { collections: [run] },
          )
        : [];
      const records = await this.registry.getDatastoreRecords(refs.map((r) => r.id));
      await this.registry.transaction(async (tx) => {
        await tx.removeDatastoreRecords(refs.map((r) => r.id));
        await tx.removeRuns([run]);
      });
      if (o.unstore ?? true) await this.discard([{ records }]);
      removed += refs.length;
    }
    return removed;
  }

  /**
   * Prune datasets: `disassociate` from TAGGED collections `tags`; `unstore` deletes the
   * files (rows stay, so they can be re-made); `purge` removes rows and files.
   */
  async pruneDatasets(
    refs: readonly DatasetRef[],
    o: {
      purge?: boolean;
      unstore?: boolean;
      disassociate?: boolean;
      tags?: readonly string[];
    } = {},
  ): Promise<void> {
    if (o.disassociate) for (const tag of o.tags ?? []) await this.registry.disassociate(tag, refs);
    if (!o.purge && !o.unstore) return;
    const records = await this.registry.getDatastoreRecords(refs.map((r) => r.id));
    await this.registry.transaction(async (tx) => {
      await tx.removeDatastoreRecords(refs.map((r) => r.id));
      if (o.purge) await tx.removeDatasets(refs);
    });
    await this.discard([{ records }]);
  }

  /**
   * Consistency check: files no record points to and stale temporary files (what a crash
   * between a write and its registry insert leaves), and records whose file is missing.
   * `fix`: delete the leftovers (never a registered file).
   */
  async check(
    o: { fix?: boolean; tempMinAgeMs?: number } = {},
  ): Promise<Leftovers & { missing: DatastoreRecord[] }> {
    const types = await this.registry.queryDatasetTypes();
    const runs = (await this.registry.queryCollections({ types: ['RUN'] })).map((c) => c.name);
    const refs =
      types.length && runs.length
        ? await this.registry.queryDatasets(
            types.map((t) => t.name),
            { collections: runs },
          )
        : [];
    const records = await this.registry.getDatastoreRecords(refs.map((r) => r.id));
    const known = new Set(records.map((r) => r.path));
    const leftovers = await this.datastore.findLeftovers(known, {
      exclude: [CONFIG_FILE, ...localRegistryFiles(this.config)],
      ...(o.tempMinAgeMs !== undefined ? { tempMinAgeMs: o.tempMinAgeMs } : {}),
    });
    const missing: DatastoreRecord[] = [];
    for (const r of records) if (!(await this.datastore.exists(r))) missing.push(r);
    if (o.fix) {
      await this.datastore.removeFiles(
        [...leftovers.orphans, ...leftovers.tempFiles].map((f) => f.path),
      );
    }
    return { ...leftovers, missing };
  }
}

/** SQLite URLs relative to the repository resolve against it. */
function resolveRegistryUrl(url: string, dir: string): string {
  const m = /^sqlite:(?!\/\/)(.*)$/.exec(url);
  if (m && m[1] !== ':memory:' && m[1] && !isAbsolute(m[1])) return `sqlite:${join(dir, m[1])}`;
  return url;
}

/** Registry files inside the repository (kept out of leftover reports). */
function localRegistryFiles(config: RepoConfig): string[] {
  const m = /^sqlite:(?!\/\/)(.*)$/.exec(config.registry.url);
  if (!m?.[1] || isAbsolute(m[1])) return [];
  return [m[1], `${m[1]}-wal`, `${m[1]}-shm`, `${m[1]}-journal`];
}

function datastoreOptions(config: RepoConfig): DatastoreOptions {
  return {
    ...(config.datastore.checksum !== undefined ? { checksum: config.datastore.checksum } : {}),
    ...(config.datastore.templates ? { templates: config.datastore.templates } : {}),
    ...(config.datastore.recipes ? { recipes: config.datastore.recipes } : {}),
  };
}

function openDatastore(config: RepoConfig, dir: string): Datastore {
  const root = config.datastore.root;
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(root) || isAbsolute(root) ? root : resolve(dir, root);
  return Datastore.fromUrl(url, datastoreOptions(config));
}
