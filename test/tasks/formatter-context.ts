/**
 * An in-memory QuantumContext whose datasets pass through the datastore's formatters
 * (src/butler/datastore/formatters): a put encodes the value as the repository would
 * store it (ExposureF -> FITS, SourceCatalog -> Parquet, StructuredDataDict -> JSON,
 * SkyMap -> JSON, Bytes as is) and a get decodes it, so tasks see what they would read
 * from a Butler. It carries a compute backend as an executor would (`ctx.backend`).
 */
import { randomUUID } from 'node:crypto';
import { FormatterRegistry } from '../../src/butler/datastore/formatters/index.ts';
import type { DataId, DatasetRef, DatasetType } from '../../src/butler/refs.ts';
import type { Backend } from '../../src/compute/select.ts';
import {
  ButlerLogRecords,
  type DeferredDatasetHandle,
  type GetOptions,
  type QuantumContext,
} from '../../src/pipe/index.ts';

/** Encoded datasets by UUID, shared by several quanta. */
export class EncodedStore {
  readonly bytes = new Map<string, Uint8Array>();
  readonly refs = new Map<string, DatasetRef>();
  readonly formatters = new FormatterRegistry();

  /** A new ref (not stored yet). */
  ref(datasetType: DatasetType, dataId: DataId): DatasetRef {
    return { id: randomUUID(), datasetType, dataId, run: 'test/tasks' };
  }

  /** Encodes and stores `value` under `ref`. */
  async put(value: unknown, ref: DatasetRef): Promise<void> {
    if (this.bytes.has(ref.id)) throw new Error(`dataset ${ref.id} was already written`);
    const f = this.formatters.forDatasetType(ref.datasetType);
    if (!f.accepts(value)) {
      throw new Error(`${ref.datasetType.name}: ${f.name} needs ${f.accepted}`);
    }
    this.bytes.set(ref.id, await f.toBytes(value));
    this.refs.set(ref.id, ref);
  }

  /** Stores `value` under a fresh ref and returns it. */
  async add(datasetType: DatasetType, dataId: DataId, value: unknown): Promise<DatasetRef> {
    const ref = this.ref(datasetType, dataId);
    await this.put(value, ref);
    return ref;
  }

  /** Decodes the dataset of `ref`. */
  async get(ref: DatasetRef, options?: GetOptions): Promise<unknown> {
    const b = this.bytes.get(ref.id);
    if (!b) throw new Error(`dataset ${ref.datasetType.name} ${ref.id} is not in the store`);
    const f = this.formatters.forDatasetType(ref.datasetType);
    return f.fromBytes(b, (options?.parameters ?? {}) as never);
  }

  /** Refs stored of one dataset type. */
  refsOf(name: string): DatasetRef[] {
    return [...this.refs.values()].filter((r) => r.datasetType.name === name);
  }
}

/** A QuantumContext over an {@link EncodedStore}, with the executor's backend. */
export class EncodedQuantumContext implements QuantumContext {
  readonly log: ButlerLogRecords;

  constructor(
    readonly store: EncodedStore,
    readonly dataId: DataId,
    readonly backend: Backend,
  ) {
    this.log = new ButlerLogRecords('test.tasks', { mdc: { DATAID: JSON.stringify(dataId) } });
  }

  get(ref: DatasetRef, options?: GetOptions): Promise<unknown> {
    return this.store.get(ref, options);
  }

  getDeferred(ref: DatasetRef): DeferredDatasetHandle {
    return { ref, get: (options?: GetOptions) => this.store.get(ref, options) };
  }

  put(value: unknown, ref: DatasetRef): Promise<void> {
    return this.store.put(value, ref);
  }
}
