/**
 * The Butler's file datastore: stores datasets as files under a root (local directory,
 * S3 bucket prefix or WebDAV collection) at paths given by file templates, encoded by
 * formatters chosen per storage class, and describes each stored file by a
 * DatastoreRecord (path, formatter, storage class, checksum, size).
 *
 * Contract with the Butler (LSST's FileDatastore semantics):
 * - `put` writes the file completely and atomically and only then returns the record;
 *   the Butler inserts registry rows and the record in one transaction afterwards, and on
 *   a registry failure calls `remove(record)`. The datastore never touches the registry.
 * - A file that exists is never overwritten (DatasetExistsError); a crash between the
 *   write and the registry insert leaves an orphan file that `findLeftovers` reports.
 * - Checksums (BLAKE2b-512) are off by default, as in LSST; when on, they are recorded
 *   at put/ingest and verified on `get` when asked. The size is checked on every read.
 */

import { stat } from 'node:fs/promises';
import { extname, isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DatasetRef, DatasetType, DatastoreRecord } from '../refs.ts';
import {
  isUri,
  LocalBackend,
  openBackend,
  openFileUri,
  type StorageBackend,
  type StoredFile,
  TEMP_RE,
} from './backends/index.ts';
import { checksumOf, checksumOfFile, parseChecksum } from './checksum.ts';
import {
  AlreadyExistsError,
  ChecksumError,
  DatasetExistsError,
  DatastoreError,
  FileMissingError,
  FormatterError,
  NotFoundError,
  redactUrl,
  StorageError,
} from './errors.ts';
import {
  type Formatter,
  FormatterRegistry,
  type FormatterRegistryOptions,
  type ReadParameters,
} from './formatters/index.ts';
import { FileTemplates, type TemplatesConfig } from './templates.ts';

export * from './backends/index.ts';
export { CHECKSUM_ALGORITHM, checksumOf, checksumOfFile, parseChecksum } from './checksum.ts';
export * from './errors.ts';
export * from './formatters/index.ts';
export * from './templates.ts';

/** Options of {@link Datastore.fromUrl}. */
export interface DatastoreOptions {
  /** File template overrides (per dataset type, dimension set, storage class, default). */
  readonly templates?: TemplatesConfig;
  /** Record BLAKE2b-512 checksums on put/ingest/transfer (default false, as LSST). */
  readonly checksum?: boolean;
  /**
   * Write recipe per dataset type name or storage class (dataset type wins), e.g.
   * `{ ExposureF: 'noCompression' }`; the formatter's default recipe otherwise (ExposureF:
   * `lossless`, GZIP_2 tiles).
   */
  readonly recipes?: Readonly<Record<string, string>>;
  /** Formatter name per dataset type name or storage class, e.g. `{ Config: 'YamlFormatter' }`. */
  readonly formatters?: Readonly<Record<string, string>>;
  /** Extra formatters (for storage classes this module does not know). */
  readonly extraFormatters?: FormatterRegistryOptions['extra'];
}

/** Options of {@link Datastore.get}. */
export interface GetOptions {
  /** Read parameters (exposures: `bbox` in parent pixels, to read a sub-image). */
  readonly parameters?: ReadParameters;
  /** Verify the recorded checksum (the whole file is read first); default false. */
  readonly verifyChecksum?: boolean;
}

/**
 * How {@link Datastore.ingest} takes a file:
 * - `copy`: copied to its template path (atomically);
 * - `move`: moved there (rename on one file system, else copy then delete);
 * - `link`: hard-linked there, else symlinked (local datastores only);
 * - `direct`: left where it is; the record holds its absolute URI (the datastore never
 *   deletes such files);
 * - `auto`: a file already inside a local datastore's root is used in place (its
 *   relative path is recorded); anything else is copied.
 */
export type IngestMode = 'copy' | 'move' | 'link' | 'direct' | 'auto';

/** What {@link Datastore.findLeftovers} found. */
export interface Leftovers {
  /** Files under the root that no known record points to (e.g. a put whose registry insert failed). */
  readonly orphans: readonly StoredFile[];
  /** Temporary files of interrupted writes (`<name>.tmp-<uuid>`). */
  readonly tempFiles: readonly StoredFile[];
}

/** Options of {@link Datastore.findLeftovers}. */
export interface FindLeftoversOptions {
  /**
   * Report temporary files only when at least this old, ms (default 0: all). A write in
   * progress has a fresh temporary file; use e.g. 3_600_000 on a live repository.
   */
  readonly tempMinAgeMs?: number;
  /**
   * Paths (or directory prefixes ending in `/`) that are not datasets and must not be
   * reported, e.g. `['butler.yaml', 'gen3.sqlite3']` when the repository root is the
   * datastore root.
   */
  readonly exclude?: readonly string[];
}

function describe(obj: unknown): string {
  if (obj === null) return 'null';
  if (typeof obj !== 'object') return typeof obj;
  return (obj as { constructor?: { name?: string } }).constructor?.name ?? 'object';
}

/** A file datastore over one storage backend (see the module comment). */
export class Datastore {
  /** The storage under the root. */
  readonly backend: StorageBackend;
  /** Path templates. */
  readonly templates: FileTemplates;
  /** Formatters by storage class and by name. */
  readonly formatters: FormatterRegistry;
  /** Whether checksums are recorded. */
  readonly checksums: boolean;
  private readonly recipes: Readonly<Record<string, string>>;

  private constructor(backend: StorageBackend, options: DatastoreOptions) {
    this.backend = backend;
    this.templates = new FileTemplates(options.templates ?? {});
    this.formatters = new FormatterRegistry({
      ...(options.formatters ? { overrides: options.formatters } : {}),
      ...(options.extraFormatters ? { extra: options.extraFormatters } : {}),
    });
    this.checksums = options.checksum ?? false;
    this.recipes = { ...(options.recipes ?? {}) };
  }

  /**
   * A datastore rooted at `root`: a local path or `file:///` URL, `s3://bucket/prefix`,
   * `webdav://host:port/path`, `davs://host/path` or `http(s)://host/path`.
   * Templates, formatter overrides and recipes are checked here (TemplateError,
   * FormatterError). Nothing is created until the first write.
   */
  static fromUrl(root: string, options: DatastoreOptions = {}): Datastore {
    return new Datastore(openBackend(root), options);
  }

  /** A datastore over an existing backend (e.g. one with explicit credentials). */
  static fromBackend(backend: StorageBackend, options: DatastoreOptions = {}): Datastore {
    return new Datastore(backend, options);
  }

  /** The root URI (credentials removed). */
  get root(): string {
    return this.backend.root;
  }

  /**
   * Checks that the template chosen for `datasetType` gives unique paths (call when a
   * dataset type is registered). @throws TemplateError
   */
  validateDatasetType(datasetType: DatasetType): void {
    this.templates.validate(datasetType);
  }

  /** The formatter that {@link put} uses for `datasetType`. */
  formatterFor(datasetType: DatasetType): Formatter {
    return this.formatters.forDatasetType(datasetType);
  }

  /** Relative path (extension included) that {@link put} would write `ref` to. */
  pathFor(ref: DatasetRef, component?: string): string {
    const f = this.formatterFor(ref.datasetType);
    return this.templates.pathFor(ref, component) + f.extension;
  }

  private recipeFor(datasetType: DatasetType, formatter: Formatter): string | undefined {
    const recipe = this.recipes[datasetType.name] ?? this.recipes[datasetType.storageClass];
    if (recipe !== undefined && !formatter.recipes.includes(recipe)) {
      throw new FormatterError(
        'DATASTORE_FORMATTER',
        formatter.name,
        `unknown write recipe '${recipe}' for ${datasetType.name}; ${
          formatter.recipes.length > 0
            ? `use one of ${formatter.recipes.join(', ')}`
            : 'this formatter takes no recipes'
        }`,
      );
    }
    return recipe;
  }

  /**
   * Writes `obj` as dataset `ref` and returns its record. The file is complete (and
   * fsynced, on local disks) before this returns; on any failure nothing is left
   * behind.
   *
   * @param component store one component only (LSST's disassembled composites)
   * @throws DatasetExistsError the target file exists (nothing is written)
   * @throws FormatterError the object is not what the storage class's formatter writes,
   *   or encoding failed
   * @throws TemplateError the template is not unique for the dataset type, or the data
   *   ID lacks a required value
   * @throws StorageError the storage failed
   */
  async put(obj: unknown, ref: DatasetRef, component?: string): Promise<DatastoreRecord> {
    const dt = ref.datasetType;
    const formatter = this.formatterFor(dt);
    if (!formatter.accepts(obj)) {
      throw new FormatterError(
        'DATASTORE_FORMATTER',
        formatter.name,
        `cannot store a value of type ${describe(obj)} as dataset type ${dt.name} (storage class ${dt.storageClass}): ` +
          `${formatter.problem?.(obj) ?? `it needs ${formatter.accepted}`}`,
      );
    }
    const path = this.templates.pathFor(ref, component) + formatter.extension;
    const recipe = this.recipeFor(dt, formatter);
    // Fail before encoding (which can take seconds for a big image) when the file exists.
    if (await this.backend.exists(path)) {
      throw new DatasetExistsError(ref.id, this.backend.uri(path));
    }
    const encodeFailure = (e: unknown): Error =>
      e instanceof DatastoreError
        ? e
        : new FormatterError(
            'DATASTORE_FORMATTER',
            formatter.name,
            `cannot encode dataset ${ref.id} (${dt.name}): ${(e as Error).message}`,
            { cause: e },
          );
    let size: number;
    let checksum: string | null = null;
    try {
      if (formatter.toFile && !this.checksums && this.backend instanceof LocalBackend) {
        // Straight to a temporary file: no whole-file copy in memory (large images).
        const toFile = formatter.toFile.bind(formatter);
        size = await this.backend.writeAtomicWith(path, async (tmp) => {
          try {
            await toFile(obj, tmp, recipe);
          } catch (e) {
            throw encodeFailure(e);
          }
        });
      } else {
        let bytes: Uint8Array;
        try {
          bytes = await formatter.toBytes(obj, recipe);
        } catch (e) {
          throw encodeFailure(e);
        }
        checksum = this.checksums ? checksumOf(bytes) : null;
        await this.backend.writeAtomic(path, bytes);
        size = bytes.length;
      }
    } catch (e) {
      if (e instanceof AlreadyExistsError) throw new DatasetExistsError(ref.id, e.uri);
      throw e;
    }
    return {
      datasetId: ref.id,
      path,
      formatter: formatter.name,
      storageClass: dt.storageClass,
      checksum,
      size,
      ...(component === undefined ? {} : { component }),
    };
  }

  /** The backend and path a record's file lives at. */
  private locate(record: DatastoreRecord): { backend: StorageBackend; path: string } {
    if (isUri(record.path) || record.path.startsWith('/')) {
      const { backend, name } = openFileUri(record.path);
      return { backend, path: name };
    }
    return { backend: this.backend, path: record.path };
  }

  /** Reads the whole file of `record`, checking its size (and checksum when asked). */
  private async readChecked(record: DatastoreRecord, verifyChecksum: boolean): Promise<Uint8Array> {
    const { backend, path } = this.locate(record);
    let bytes: Uint8Array;
    try {
      bytes = await backend.read(path);
    } catch (e) {
      if (e instanceof NotFoundError)
        throw new FileMissingError(record.datasetId, backend.uri(path));
      throw e;
    }
    if (bytes.length !== record.size) {
      throw new ChecksumError(
        'DATASTORE_SIZE_MISMATCH',
        record.datasetId,
        backend.uri(path),
        `${record.size} bytes`,
        `${bytes.length} bytes`,
      );
    }
    if (verifyChecksum && record.checksum) this.verify(record, bytes, backend.uri(path));
    return bytes;
  }

  private verify(record: DatastoreRecord, bytes: Uint8Array, where: string): void {
    const parsed = parseChecksum(record.checksum!);
    if (!parsed) {
      throw new DatastoreError(
        'DATASTORE_CHECKSUM_MISMATCH',
        `dataset ${record.datasetId}: cannot verify checksum '${record.checksum}' (unknown algorithm); read it without verifyChecksum`,
      );
    }
    const actual = checksumOf(bytes, parsed.algorithm);
    if (actual.slice(parsed.algorithm.length + 1) !== parsed.hex) {
      throw new ChecksumError(
        'DATASTORE_CHECKSUM_MISMATCH',
        record.datasetId,
        where,
        record.checksum!,
        actual,
      );
    }
  }

  /**
   * Reads the dataset of `record`. Local files are decoded in place (an exposure `bbox`
   * reads only the rows it needs); remote ones are downloaded, then decoded (and cut).
   *
   * @throws FileMissingError the file is gone
   * @throws ChecksumError the size (always checked) or checksum (when asked) differs
   * @throws FormatterError unknown formatter, unsupported parameter, undecodable file
   */
  async get<T = unknown>(record: DatastoreRecord, options: GetOptions = {}): Promise<T> {
    const formatter = this.formatters.get(record.formatter);
    const parameters = options.parameters ?? {};
    for (const [k, v] of Object.entries(parameters)) {
      if (v === undefined) continue;
      if (!formatter.parameters.includes(k as keyof ReadParameters)) {
        throw new FormatterError(
          'DATASTORE_BAD_PARAMETER',
          formatter.name,
          `read parameter '${k}' is not supported for storage class ${record.storageClass}${
            formatter.parameters.length > 0
              ? ` (supported: ${formatter.parameters.join(', ')})`
              : ''
          }`,
        );
      }
    }
    const verify = (options.verifyChecksum ?? false) && record.checksum !== null;
    const { backend, path } = this.locate(record);
    const local = backend.localPath(path);
    if (local !== null && !verify) {
      let size: number;
      try {
        size = (await stat(local)).size;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
          throw new FileMissingError(record.datasetId, backend.uri(path));
        }
        throw new StorageError(
          'DATASTORE_IO',
          backend.uri(path),
          `cannot stat ${backend.uri(path)}: ${(e as Error).message}`,
          {
            cause: e,
          },
        );
      }
      if (size !== record.size) {
        throw new ChecksumError(
          'DATASTORE_SIZE_MISMATCH',
          record.datasetId,
          backend.uri(path),
          `${record.size} bytes`,
          `${size} bytes`,
        );
      }
      return (await formatter.fromFile(local, parameters)) as T;
    }
    const bytes = await this.readChecked(record, verify);
    return (await formatter.fromBytes(bytes, parameters)) as T;
  }

  /** Whether the file of `record` exists. */
  async exists(record: DatastoreRecord): Promise<boolean> {
    const { backend, path } = this.locate(record);
    return backend.exists(path);
  }

  /**
   * Deletes the file of `record` (idempotent: false when it was already gone). Files of
   * 'direct' ingests (absolute URIs) belong to their owner and are never deleted.
   */
  async remove(record: DatastoreRecord): Promise<boolean> {
    if (isUri(record.path) || record.path.startsWith('/')) return false;
    return this.backend.remove(record.path);
  }

  /** Absolute URI of the file of `record` (credentials removed). */
  uri(record: DatastoreRecord): string {
    if (isUri(record.path) || record.path.startsWith('/')) {
      return isUri(record.path) ? redactUrl(record.path) : pathToFileURL(record.path).toString();
    }
    return this.backend.uri(record.path);
  }

  /**
   * Takes an existing local file into the datastore as dataset `ref` (see
   * {@link IngestMode}). The formatter is the storage class's, or an interchangeable one
   * matching the file's extension (`.yaml` for configs). The file is not decoded.
   *
   * @throws DatasetExistsError the target exists
   * @throws StorageError the file is missing or unreadable, or `link` on remote storage
   */
  async ingest(localFile: string, ref: DatasetRef, mode: IngestMode): Promise<DatastoreRecord> {
    const src = resolve(localFile.startsWith('file://') ? fileURLToPath(localFile) : localFile);
    let size: number;
    try {
      const st = await stat(src);
      if (!st.isFile()) throw new Error('not a regular file');
      size = st.size;
    } catch (e) {
      throw new StorageError(
        'DATASTORE_IO',
        pathToFileURL(src).toString(),
        `cannot ingest ${src}: ${(e as Error).message}; check the path`,
      );
    }
    const dt = ref.datasetType;
    const formatter = this.formatters.forIngest(dt, extname(src));
    const checksum = this.checksums ? await checksumOfFile(src) : null;
    const record = (path: string): DatastoreRecord => ({
      datasetId: ref.id,
      path,
      formatter: formatter.name,
      storageClass: dt.storageClass,
      checksum,
      size,
    });
    if (mode === 'direct') return record(pathToFileURL(src).toString());
    if (mode === 'auto' && this.backend instanceof LocalBackend) {
      const rel = relative(this.backend.rootDir, src);
      if (rel !== '' && !isAbsolute(rel) && !rel.split(sep).includes('..')) {
        return record(rel.split(sep).join('/'));
      }
    }
    const path = this.templates.pathFor(ref) + formatter.extension;
    try {
      switch (mode) {
        case 'auto':
        case 'copy':
          await this.backend.copyFrom(src, path);
          break;
        case 'move':
          await this.backend.moveFrom(src, path);
          break;
        case 'link':
          await this.backend.linkFrom(src, path);
          break;
        default:
          throw new DatastoreError(
            'DATASTORE_UNSUPPORTED',
            `unknown ingest mode '${String(mode)}'; use copy, move, link, direct or auto`,
          );
      }
    } catch (e) {
      if (e instanceof AlreadyExistsError) throw new DatasetExistsError(ref.id, e.uri);
      throw e;
    }
    return record(path);
  }

  /**
   * Copies the file of `record` from `other` into this datastore as dataset `ref` (the
   * same dataset in this repository; `butler transfer-datasets`). Bytes are copied, not
   * re-encoded; the size, and the checksum when one was recorded, are verified on the way.
   * Returns this datastore's record.
   *
   * @throws FileMissingError the source file is gone
   * @throws ChecksumError the source file is corrupt
   * @throws DatasetExistsError the target exists
   */
  async transferFrom(
    other: Datastore,
    record: DatastoreRecord,
    ref: DatasetRef,
  ): Promise<DatastoreRecord> {
    const formatter = this.formatters.get(record.formatter);
    const path = this.templates.pathFor(ref, record.component) + formatter.extension;
    if (await this.backend.exists(path))
      throw new DatasetExistsError(ref.id, this.backend.uri(path));
    const { backend: srcBackend, path: srcPath } = other.locate(record);
    const srcLocal = srcBackend.localPath(srcPath);
    let checksum = record.checksum;
    try {
      if (srcLocal !== null) {
        let size: number;
        try {
          size = (await stat(srcLocal)).size;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
            throw new FileMissingError(record.datasetId, srcBackend.uri(srcPath));
          }
          throw e;
        }
        if (size !== record.size) {
          throw new ChecksumError(
            'DATASTORE_SIZE_MISMATCH',
            record.datasetId,
            srcBackend.uri(srcPath),
            `${record.size} bytes`,
            `${size} bytes`,
          );
        }
        if (record.checksum || this.checksums) {
          const parsed = record.checksum ? parseChecksum(record.checksum) : null;
          const actual = await checksumOfFile(srcLocal, parsed?.algorithm);
          if (parsed && actual.slice(parsed.algorithm.length + 1) !== parsed.hex) {
            throw new ChecksumError(
              'DATASTORE_CHECKSUM_MISMATCH',
              record.datasetId,
              srcBackend.uri(srcPath),
              record.checksum!,
              actual,
            );
          }
          checksum = record.checksum ?? actual;
        }
        await this.backend.copyFrom(srcLocal, path);
      } else {
        const bytes = await other.readChecked(record, true);
        if (checksum === null && this.checksums) checksum = checksumOf(bytes);
        await this.backend.writeAtomic(path, bytes);
      }
    } catch (e) {
      if (e instanceof AlreadyExistsError) throw new DatasetExistsError(ref.id, e.uri);
      throw e;
    }
    return {
      datasetId: ref.id,
      path,
      formatter: record.formatter,
      storageClass: record.storageClass,
      checksum,
      size: record.size,
      ...(record.component === undefined ? {} : { component: record.component }),
    };
  }

  /**
   * Files under the root that no record points to, and temporary files of interrupted
   * writes: what a crash between a write and the registry insert leaves (for a `check`
   * command). `knownPaths` holds the `path` of every record of this datastore
   * (absolute-URI records are ignored).
   */
  async findLeftovers(
    knownPaths: ReadonlySet<string>,
    options: FindLeftoversOptions = {},
  ): Promise<Leftovers> {
    const minAge = options.tempMinAgeMs ?? 0;
    const exclude = options.exclude ?? [];
    const now = Date.now();
    const orphans: StoredFile[] = [];
    const tempFiles: StoredFile[] = [];
    for (const f of await this.backend.list('')) {
      if (exclude.some((x) => (x.endsWith('/') ? f.path.startsWith(x) : f.path === x))) continue;
      if (TEMP_RE.test(f.path)) {
        if (minAge <= 0 || f.mtimeMs === null || now - f.mtimeMs >= minAge) tempFiles.push(f);
      } else if (!knownPaths.has(f.path)) {
        orphans.push(f);
      }
    }
    return { orphans, tempFiles };
  }

  /**
   * Deletes files by relative path (leftovers reported by {@link findLeftovers}); returns
   * how many were there to delete. Never pass paths that records point to.
   */
  async removeFiles(paths: Iterable<string>): Promise<number> {
    let n = 0;
    for (const p of paths) if (await this.backend.remove(p)) n++;
    return n;
  }
}
