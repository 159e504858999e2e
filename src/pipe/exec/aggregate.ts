/**
 * The aggregate step (LSST's `butler aggregate-graph`): after quantum-backed jobs (run-qbb,
 * gpu-job) wrote outputs through the datastore alone, register them in the registry: the refs
 * and records from the outcome files, plus the graph's predicted refs whose files exist for
 * quanta that completed (their metadata file exists) without an outcome file (a job killed
 * between its last put and its outcome file). Outputs of unfinished quanta are left out.
 * Registration is idempotent (deterministic ids; records inserted only where missing).
 */

import type { Butler } from '../../butler/butler.ts';
import type { DatasetRef, DatastoreRecord } from '../../butler/refs.ts';
import { MissingCollectionError } from '../../butler/registry/index.ts';
import { QuantumGraphReader, toDatasetRef } from '../graph/index.ts';
import { outcomeDirOf, readOutcomes } from './outcomes.ts';
import { registerDatasetTypes } from './session.ts';
import { predictedRecord, registerWithRecords } from './targets.ts';

/** What {@link aggregateGraph} did. */
export interface AggregateSummary {
  /** Datasets registered by this call or found registered already. */
  readonly datasets: number;
  /** Quanta whose outputs were registered. */
  readonly quanta: number;
  /** Quanta with no complete outputs (not run, failed, or unfinished). */
  readonly incomplete: number;
  /** Dataset types registered by this call. */
  readonly registeredDatasetTypes: readonly string[];
}

/**
 * Makes (or updates) the CHAINED collection `output` -> [run, ...inputs], keeping earlier runs
 * of the chain after the new one (as LSST's `-o` does).
 */
export async function updateOutputChain(
  butler: Butler,
  output: string,
  run: string,
  inputs: readonly string[],
): Promise<void> {
  let old: string[] = [];
  try {
    old = await butler.registry.getCollectionChain(output);
  } catch (e) {
    if (!(e instanceof MissingCollectionError)) throw e;
    await butler.registry.registerCollection(output, 'CHAINED');
  }
  const next = [run, ...old.filter((c) => c !== run)];
  for (const i of inputs) if (!next.includes(i)) next.push(i);
  await butler.registry.setCollectionChain(output, next);
}

/** Registers the outputs of quantum-backed execution of a graph. */
export async function aggregateGraph(
  butler: Butler,
  graphPath: string,
  o: { readonly registerDatasetTypes?: boolean; readonly outcomesDir?: string } = {},
): Promise<AggregateSummary> {
  const reader = await QuantumGraphReader.open(graphPath);
  try {
    const h = reader.header;
    const registered = await registerDatasetTypes(butler, h, o.registerDatasetTypes ?? false);
    await butler.registry.registerRun(h.outputRun);
    const outcomes = await readOutcomes(o.outcomesDir ?? outcomeDirOf(graphPath));
    const items: { ref: DatasetRef; records: readonly DatastoreRecord[] }[] = [];
    const ds = butler.datastore;
    for (const t of Object.values(h.initRefs)) {
      for (const sref of Object.values(t.outputs)) {
        const ref = toDatasetRef(h, sref);
        const rec = await predictedRecord(ds, ref);
        if (rec) items.push({ ref, records: [rec] });
      }
    }
    let quanta = 0;
    let incomplete = 0;
    for (const n of await reader.nodes()) {
      const oc = outcomes.get(n.id);
      if (oc && (oc.status === 'succeeded' || oc.status === 'no-work') && oc.outputs.length > 0) {
        for (const w of oc.outputs) items.push({ ref: toDatasetRef(h, w.ref), records: w.records });
        quanta++;
        continue;
      }
      const q = await reader.readQuantum(n.id);
      const meta = toDatasetRef(h, q.outputs._metadata![0]!);
      if (!(await predictedRecord(ds, meta))) {
        if (oc?.status !== 'skipped') incomplete++;
        continue;
      }
      for (const list of Object.values(q.outputs)) {
        for (const sref of list) {
          const ref = toDatasetRef(h, sref);
          const rec = await predictedRecord(ds, ref);
          if (rec) items.push({ ref, records: [rec] });
        }
      }
      quanta++;
    }
    for (let i = 0; i < items.length; i += 500) {
      await registerWithRecords(butler, items.slice(i, i + 500));
    }
    if (h.output) await updateOutputChain(butler, h.output, h.outputRun, h.inputCollections);
    return { datasets: items.length, quanta, incomplete, registeredDatasetTypes: registered };
  } finally {
    await reader.close();
  }
}
