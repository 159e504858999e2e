/**
 * `gpu-job`: the GPU batch-job entrypoint a workload manager calls. Runs chosen quanta of a
 * saved graph in dependency order against the datastore alone (as `pipetask run-qbb`), with ONE
 * compute backend for the whole job handed to tasks as `ctx.backend`.
 *
 *   gpu-job GRAPH --repo REPO (--quanta IDS | --cluster LABEL:KEY=GLOB[,KEY=GLOB] | --index i/N)
 *           [--backend auto|webgpu|cpu] [--report FILE]
 *
 * `--cluster makeWarp:visit=12*` takes the quanta of the label(s) matching the first glob whose
 * data ID values match the others; `--index i/N` the i-th (0-based) of N contiguous slices of the
 * graph's execution order (jobs whose quanta depend on each other must be ordered by the
 * workload manager). Logs are JSON lines on stderr (job start, backend, quantum start/end with
 * outcome and timings, job end). `--report FILE` writes a JSON report of the job.
 *
 * Exit codes (what the batch system should do):
 *   0   every quantum succeeded, found no work or was done already;
 *   1   failures that will fail again (do not retry); also bad graph / repository;
 *   2   usage;
 *   3   no usable backend although `--backend webgpu` was demanded;
 *   4   GPU device lost or out of memory (retry, maybe elsewhere);
 *   75  transient failures (EX_TEMPFAIL: retry; finished quanta are skipped on retry);
 *   130 interrupted (SIGINT/SIGTERM; retry).
 * With several kinds of failure the most retryable wins (4, then 75, then 1): a retry skips the
 * finished quanta and makes progress; the permanent failures end the retries with 1.
 */

import { writeFile } from 'node:fs/promises';
import yargs from 'yargs';
import type { BackendChoice } from '../compute/backend.ts';
import { createBackend, parseBackendChoice } from '../compute/select.ts';
import {
  type ExecEvent,
  executeGraph,
  outcomeDirOf,
  type QuantumOutcome,
} from '../pipe/exec/index.ts';
import { type GraphNode, QuantumGraphReader } from '../pipe/graph/index.ts';
import { CliError, EXIT, runCli, usageFailure } from './main.ts';
import { packageVersion } from './version.ts';

/** Exit codes of gpu-job. */
export const GPU_JOB_EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  noBackend: 3,
  device: 4,
  transient: 75,
  interrupted: 130,
} as const;

function globToRegExp(glob: string): RegExp {
  const esc = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${esc}$`);
}

/** The quanta a job selects. @throws CliError (usage) for malformed selections. */
export function selectQuanta(
  nodes: readonly GraphNode[],
  o: { quanta?: string[]; cluster?: string; index?: string },
): string[] {
  const given = [o.quanta?.length ? 1 : 0, o.cluster ? 1 : 0, o.index ? 1 : 0].reduce(
    (a, b) => a + b,
    0,
  );
  if (given !== 1) {
    throw new CliError('USAGE', 'give exactly one of --quanta, --cluster, --index', EXIT.usage);
  }
  if (o.quanta?.length) return o.quanta;
  if (o.cluster) {
    const colon = o.cluster.indexOf(':');
    const labelGlob = globToRegExp(colon < 0 ? o.cluster : o.cluster.slice(0, colon));
    const conds = (colon < 0 ? '' : o.cluster.slice(colon + 1))
      .split(',')
      .filter(Boolean)
      .map((c) => {
        const eq = c.indexOf('=');
        if (eq < 1) throw new CliError('USAGE', `--cluster: '${c}' is not KEY=GLOB`, EXIT.usage);
        return [c.slice(0, eq), globToRegExp(c.slice(eq + 1))] as const;
      });
    return nodes
      .filter(
        (n) =>
          labelGlob.test(n.label) &&
          conds.every(([k, re]) => n.dataId[k] !== undefined && re.test(String(n.dataId[k]))),
      )
      .map((n) => n.id);
  }
  const m = /^(\d+)\/(\d+)$/.exec(o.index ?? '');
  if (!m || Number(m[1]) >= Number(m[2])) {
    throw new CliError('USAGE', `--index takes i/N with 0 <= i < N, got '${o.index}'`, EXIT.usage);
  }
  const i = Number(m[1]);
  const n = Number(m[2]);
  const per = Math.ceil(nodes.length / n);
  return nodes.slice(i * per, (i + 1) * per).map((x) => x.id);
}

/** The exit code of a finished job. */
export function jobExitCode(outcomes: readonly QuantumOutcome[], interrupted: boolean): number {
  if (interrupted) return GPU_JOB_EXIT.interrupted;
  const failed = outcomes.filter((o) => o.status === 'failed');
  if (failed.some((o) => o.error?.kind === 'device')) return GPU_JOB_EXIT.device;
  if (failed.some((o) => o.error?.kind === 'transient')) return GPU_JOB_EXIT.transient;
  if (failed.length > 0) return GPU_JOB_EXIT.failed;
  return GPU_JOB_EXIT.ok;
}

function logLine(record: Record<string, unknown>): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
}

/** Run `gpu-job` with `argv` (without node and script). */
export async function gpuJobCli(argv: string[]): Promise<void> {
  await runCli('gpu-job', async () => {
    let code: number = GPU_JOB_EXIT.ok;
    await yargs(argv)
      .scriptName('gpu-job')
      .command(
        '$0 <graph>',
        'run chosen quanta of a saved graph with one compute backend (quantum-backed: no registry)',
        (y) =>
          y
            .positional('graph', { type: 'string', demandOption: true })
            .option('repo', { type: 'string', demandOption: true, describe: 'repository' })
            .option('quanta', { type: 'string', array: true, describe: 'quantum ids' })
            .option('cluster', { type: 'string', describe: 'LABEL:KEY=GLOB[,KEY=GLOB]' })
            .option('index', { type: 'string', describe: 'i/N: the i-th of N slices' })
            .option('backend', {
              type: 'string',
              describe: 'auto (default, or $GPU_DRP_BACKEND), webgpu or cpu',
            })
            .option('report', { type: 'string', describe: 'write a JSON job report here' }),
        async (a) => {
          const t0 = performance.now();
          const graph = a.graph as string;
          const reader = await QuantumGraphReader.open(graph);
          let nodes: GraphNode[];
          try {
            nodes = await reader.nodes();
          } finally {
            await reader.close();
          }
          const ids = selectQuanta(nodes, {
            ...(a.quanta ? { quanta: a.quanta.flatMap((q) => q.split(',')).filter(Boolean) } : {}),
            ...(a.cluster ? { cluster: a.cluster } : {}),
            ...(a.index ? { index: a.index } : {}),
          });
          const choice: BackendChoice | undefined = parseBackendChoice(a.backend);
          let selection: Awaited<ReturnType<typeof createBackend>>;
          try {
            selection = await createBackend(choice ? { backend: choice } : {});
          } catch (e) {
            logLine({ event: 'backend-unavailable', error: (e as Error).message });
            if (choice === 'webgpu') {
              throw new CliError(
                (e as { code?: string }).code ?? 'NO_WEBGPU_ADAPTER',
                (e as Error).message,
                GPU_JOB_EXIT.noBackend,
              );
            }
            throw e;
          }
          const backend = selection.backend;
          logLine({
            event: 'job-start',
            graph,
            quanta: ids.length,
            backend: backend.kind,
            reason: selection.reason,
            pid: process.pid,
          });
          const ac = new AbortController();
          const stop = () => ac.abort();
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
          let outcomes: readonly QuantumOutcome[] = [];
          let interrupted = false;
          try {
            const s = await executeGraph(
              { repo: a.repo, mode: 'qbb', graphPath: graph, outcomesDir: outcomeDirOf(graph) },
              {
                quantumIds: ids,
                backend,
                signal: ac.signal,
                onEvent: (e: ExecEvent) => {
                  if (e.event === 'quantum-start') {
                    logLine({
                      event: 'quantum-start',
                      quantumId: e.quantumId,
                      label: e.label,
                      dataId: e.dataId,
                    });
                  } else {
                    const o = e.outcome;
                    logLine({
                      event: 'quantum-end',
                      quantumId: o.quantumId,
                      label: o.label,
                      dataId: o.dataId,
                      status: o.status,
                      wallTime: o.wallTime,
                      ...(o.error ? { error: o.error } : {}),
                      ...(o.message ? { message: o.message } : {}),
                    });
                  }
                },
              },
            );
            outcomes = s.outcomes;
            interrupted = s.interrupted;
          } finally {
            await backend.dispose();
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
          }
          code = jobExitCode(outcomes, interrupted);
          const wallTime = (performance.now() - t0) / 1000;
          const counts: Record<string, number> = {};
          for (const o of outcomes) counts[o.status] = (counts[o.status] ?? 0) + 1;
          logLine({ event: 'job-end', exitCode: code, wallTime, counts });
          if (a.report) {
            await writeFile(
              a.report,
              `${JSON.stringify(
                {
                  graph,
                  repo: a.repo,
                  backend: backend.kind,
                  backendReason: selection.reason,
                  exitCode: code,
                  interrupted,
                  wallTime,
                  counts,
                  quanta: outcomes.map((o) => ({
                    id: o.quantumId,
                    label: o.label,
                    dataId: o.dataId,
                    status: o.status,
                    wallTime: o.wallTime,
                    ...(o.error ? { error: o.error } : {}),
                  })),
                },
                null,
                2,
              )}\n`,
            );
          }
        },
      )
      .strict()
      .version(packageVersion())
      .epilog(
        'Exit codes: 0 ok; 1 failures that will fail again; 2 usage; 3 no backend (--backend webgpu); 4 device lost / out of memory (retry); 75 transient (retry); 130 interrupted.',
      )
      .fail(usageFailure('gpu-job'))
      .parseAsync();
    return code;
  });
}
