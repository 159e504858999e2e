/**
 * An in-memory QuantumContext: datasets live in a Map keyed by dataset UUID. It is a complete
 * implementation of the interface (reads, deferred reads with a `slice` parameter for arrays,
 * write-once puts, phase hooks), used by the pipe tests in place of a Butler.
 */

import { randomUUID } from 'node:crypto';
import type { DataId, DatasetRef, DatasetType } from '../../src/butler/refs.ts';
import {
  ButlerLogRecords,
  type DeferredDatasetHandle,
  type GetOptions,
  type QuantumContext,
  type QuantumPhase,
  type QuantumTimingHooks,
} from '../../src/pipe/index.ts';

/** A fresh ref. */
export function makeRef(datasetType: DatasetType, dataId: DataId, run = 'test/run'): DatasetRef {
  return { id: randomUUID(), datasetType, dataId, run };
}

/** Datasets by UUID, shared by the contexts of several quanta. */
export class MemoryStore {
  readonly values = new Map<string, unknown>();
  /** UUIDs in the order they were read (deferred reads included, when they happen). */
  readonly reads: string[] = [];

  /** Stores a value under a new ref and returns the ref. */
  add(datasetType: DatasetType, dataId: DataId, value: unknown): DatasetRef {
    const ref = makeRef(datasetType, dataId);
    this.values.set(ref.id, value);
    return ref;
  }
}

/** A QuantumContext over a {@link MemoryStore}. */
export class MemoryQuantumContext implements QuantumContext {
  readonly log: ButlerLogRecords;
  readonly timing: QuantumTimingHooks;
  readonly phases: { phase: QuantumPhase; event: 'start' | 'end'; value: string | number }[] = [];

  constructor(
    readonly store: MemoryStore,
    readonly dataId: DataId,
  ) {
    this.log = new ButlerLogRecords('test.quantum', { mdc: { DATAID: JSON.stringify(dataId) } });
    this.timing = {
      phaseStarted: (phase, utc) => {
        this.phases.push({ phase, event: 'start', value: utc });
      },
      phaseEnded: (phase, seconds) => {
        this.phases.push({ phase, event: 'end', value: seconds });
      },
    };
  }

  async get(ref: DatasetRef, options?: GetOptions): Promise<unknown> {
    if (!this.store.values.has(ref.id)) {
      throw new Error(
        `dataset ${ref.datasetType.name}@${JSON.stringify(ref.dataId)} (${ref.id}) is not in the store`,
      );
    }
    this.store.reads.push(ref.id);
    const value = this.store.values.get(ref.id);
    const slice = options?.parameters?.slice;
    if (slice !== undefined) {
      if (!Array.isArray(value) || !Array.isArray(slice))
        throw new Error('slice needs an array dataset');
      return value.slice(slice[0] as number, slice[1] as number);
    }
    return value;
  }

  getDeferred(ref: DatasetRef): DeferredDatasetHandle {
    return { ref, get: (options?: GetOptions) => this.get(ref, options) };
  }

  async put(value: unknown, ref: DatasetRef): Promise<void> {
    if (this.store.values.has(ref.id)) throw new Error(`dataset ${ref.id} was already written`);
    this.store.values.set(ref.id, value);
  }
}
