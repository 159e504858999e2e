/**
 * Reports on a graph's execution (`pipetask report`): per task label, how many quanta succeeded,
 * found no work, were skipped, failed, were blocked by a failed upstream quantum, or have not
 * run, with the failures' messages. Read from the outcome files; a quantum without one counts as
 * succeeded when its `<label>_metadata` is registered (when a butler is given).
 */

import type { Butler } from '../../butler/butler.ts';
import { QuantumGraphReader } from '../graph/index.ts';
import type { StatusCounts } from './executor.ts';
import { outcomeDirOf, type QuantumOutcome, readOutcomes } from './outcomes.ts';

/** A report. */
export interface GraphReport {
  /** Counts per task label (graph order). */
  readonly perTask: Readonly<Record<string, StatusCounts>>;
  /** Failed quanta with their errors. */
  readonly failures: readonly QuantumOutcome[];
}

/** Builds the report of a graph file. */
export async function reportGraph(
  graphPath: string,
  o: { readonly butler?: Butler; readonly outcomesDir?: string } = {},
): Promise<GraphReport> {
  const reader = await QuantumGraphReader.open(graphPath);
  try {
    const outcomes = await readOutcomes(o.outcomesDir ?? outcomeDirOf(graphPath));
    const perTask: Record<string, StatusCounts> = {};
    for (const t of reader.header.pipeline.tasks) {
      perTask[t.label] = {
        succeeded: 0,
        'no-work': 0,
        skipped: 0,
        failed: 0,
        blocked: 0,
        interrupted: 0,
        'not-run': 0,
      };
    }
    const failures: QuantumOutcome[] = [];
    for (const n of await reader.nodes()) {
      const counts = perTask[n.label]!;
      const oc = outcomes.get(n.id);
      if (oc) {
        counts[oc.status]++;
        if (oc.status === 'failed') failures.push(oc);
        continue;
      }
      if (o.butler) {
        const q = await reader.readQuantum(n.id);
        const meta = q.outputs._metadata?.[0];
        if (meta && (await o.butler.registry.getDataset(meta.id))) {
          counts.succeeded++;
          continue;
        }
      }
      counts['not-run']++;
    }
    return { perTask, failures };
  } finally {
    await reader.close();
  }
}
