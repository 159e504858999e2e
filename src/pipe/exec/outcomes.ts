/**
 * Per-quantum outcome (provenance) files: one JSON file per executed quantum in the graph's
 * outcome folder (`<graph>.outcomes/<quantum id>.json`), written atomically. They say what
 * happened (status, error, timings, backend) and, for QBB runs, which files were written (the
 * refs with their datastore records) so that `butler aggregate-graph` can register them.
 */

import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataId, DatastoreRecord } from '../../butler/refs.ts';
import type { StoredRef } from '../graph/index.ts';

/**
 * What happened to a quantum:
 * - `succeeded`: ran, outputs written;
 * - `no-work`: the task found nothing to do (NoWorkFound: not a failure; metadata and log written);
 * - `skipped`: done before (its metadata exists where --skip-existing-in looks, or QBB files);
 * - `failed`: the task raised (see `error`);
 * - `blocked`: not run because an upstream quantum failed;
 * - `interrupted`: the run was stopped before or while it ran.
 */
export type QuantumStatus =
  | 'succeeded'
  | 'no-work'
  | 'skipped'
  | 'failed'
  | 'blocked'
  | 'interrupted';

/** The error of a failed quantum. */
export interface QuantumFailure {
  /** Stable code (`PIPE_REPEATABLE_FAILURE`, `GPU_DEVICE_LOST`, `UNCLASSIFIED`, ...). */
  readonly code: string;
  /** The message. */
  readonly message: string;
  /** Whether a retry may help. */
  readonly retryable: boolean;
  /** `device` (GPU lost / out of memory), `transient`, or `permanent`. */
  readonly kind: 'device' | 'transient' | 'permanent';
}

/** One output written by a quantum. */
export interface WrittenOutput {
  readonly ref: StoredRef;
  readonly records: readonly DatastoreRecord[];
}

/** The outcome of one quantum. */
export interface QuantumOutcome {
  readonly quantumId: string;
  readonly label: string;
  readonly dataId: DataId;
  readonly status: QuantumStatus;
  /** For `failed`; for `no-work`, the reason in `message`. */
  readonly error?: QuantumFailure;
  /** Why a quantum was skipped, blocked or found no work. */
  readonly message?: string;
  /** ISO 8601 UTC start, or null when it never started. */
  readonly startUtc: string | null;
  /** Wall time in seconds (0 when not run). */
  readonly wallTime: number;
  /** Compute backend kind the executor gave the task, if any. */
  readonly backend?: string;
  /** Outputs written (with their records). */
  readonly outputs: readonly WrittenOutput[];
  /** Host and process that ran it. */
  readonly host?: string;
  readonly pid?: number;
}

/** The outcome folder of a graph file. */
export function outcomeDirOf(graphPath: string): string {
  return `${graphPath}.outcomes`;
}

/** Writes an outcome file atomically (temporary name + rename). */
export async function writeOutcome(dir: string, outcome: QuantumOutcome): Promise<void> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${outcome.quantumId}.json`);
  const tmp = `${file}.tmp-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, `${JSON.stringify(outcome)}\n`);
  await rename(tmp, file);
}

/** Reads every outcome file of a folder (missing folder: none), by quantum id. */
export async function readOutcomes(dir: string): Promise<Map<string, QuantumOutcome>> {
  const out = new Map<string, QuantumOutcome>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return out;
  }
  for (const n of names) {
    if (!n.endsWith('.json')) continue;
    try {
      const o = JSON.parse(await readFile(join(dir, n), 'utf8')) as QuantumOutcome;
      out.set(o.quantumId, o);
    } catch {
      // a file being replaced right now; the next read sees it
    }
  }
  return out;
}
