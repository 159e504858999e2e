/**
 * Graph executors: quanta in dependency order, in this process (`jobs: 1`) or in `jobs` child
 * processes (child_process.fork of `worker.ts`; each child opens the repository and the graph
 * file once and runs one quantum at a time). A quantum is started when every upstream quantum
 * of the selection has finished without failing; a failed quantum blocks its dependents
 * (reported as `blocked`); NoWorkFound is not a failure (dependents run on what exists).
 */

import { type ChildProcess, fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { DataId } from '../../butler/refs.ts';
import type { Backend } from '../../compute/select.ts';
import { type GraphNode, loadPipelineGraph, QuantumGraphReader } from '../graph/index.ts';
import { ExecError } from './errors.ts';
import type { QuantumOutcome, QuantumStatus } from './outcomes.ts';
import { ExecutionSession, registerDatasetTypes } from './session.ts';
import { ButlerTarget, type ExecutionTarget, QbbTarget } from './targets.ts';

/** What an executor (or a worker) needs to open: serializable, so children get it too. */
export interface ExecSpec {
  /** Repository directory. */
  readonly repo: string;
  /** `butler`: registry writes at the end of each quantum; `qbb`: datastore only. */
  readonly mode: 'butler' | 'qbb';
  /** The saved graph. */
  readonly graphPath: string;
  /** Skip quanta whose metadata exists in these collections (mode `butler`). */
  readonly skipExistingIn?: readonly string[];
  /** Remove registered outputs of unfinished quanta before re-running them (mode `butler`). */
  readonly clobberOutputs?: boolean;
  /** Outcome folder (null: none). */
  readonly outcomesDir?: string | null;
}

/** Progress events. */
export type ExecEvent =
  | {
      readonly event: 'quantum-start';
      readonly quantumId: string;
      readonly label: string;
      readonly dataId: DataId;
      readonly utc: string;
    }
  | { readonly event: 'quantum-end'; readonly outcome: QuantumOutcome };

/** Options of {@link executeGraph}. */
export interface ExecuteOptions {
  /** Processes (1: in this process; default 1). */
  readonly jobs?: number;
  /** Run only these quanta (their upstream outside the selection is taken as done). */
  readonly quantumIds?: readonly string[];
  /** The compute backend tasks get as `ctx.backend` (in-process execution only). */
  readonly backend?: Backend;
  /** Stops dispatching (and kills children) when aborted. */
  readonly signal?: AbortSignal;
  /** Progress callback. */
  readonly onEvent?: (e: ExecEvent) => void;
  /** Write the init-outputs of the selected tasks first (default true). */
  readonly writeInitOutputs?: boolean;
  /**
   * Mode `butler`: register the graph's dataset types that are missing (else they must exist:
   * EXEC_MISSING_DATASET_TYPE). The output run is registered in any case.
   */
  readonly registerDatasetTypes?: boolean;
}

/** Counts per status. */
export type StatusCounts = Record<QuantumStatus | 'not-run', number>;

/** What an execution did. */
export interface ExecutionSummary {
  /** Outcomes in completion order (quanta never started are absent). */
  readonly outcomes: readonly QuantumOutcome[];
  /** Per task label. */
  readonly perTask: Readonly<Record<string, StatusCounts>>;
  /** Totals. */
  readonly totals: StatusCounts;
  /** True when stopped by the signal. */
  readonly interrupted: boolean;
  /** Wall time of the whole execution, seconds. */
  readonly wallTime: number;
}

function emptyCounts(): StatusCounts {
  return {
    succeeded: 0,
    'no-work': 0,
    skipped: 0,
    failed: 0,
    blocked: 0,
    interrupted: 0,
    'not-run': 0,
  };
}

/** Opens the target of a spec. */
export async function openTarget(spec: ExecSpec): Promise<ExecutionTarget> {
  if (spec.mode === 'qbb') return QbbTarget.open(spec.repo);
  return ButlerTarget.open(spec.repo, {
    ...(spec.skipExistingIn ? { skipExistingIn: spec.skipExistingIn } : {}),
    ...(spec.clobberOutputs ? { clobberOutputs: true } : {}),
  });
}

/** Opens a session over a spec (graph header + pipeline + target). The caller closes both. */
export async function openSession(
  spec: ExecSpec,
  backend?: Backend,
): Promise<{ session: ExecutionSession; reader: QuantumGraphReader }> {
  const reader = await QuantumGraphReader.open(spec.graphPath);
  try {
    const target = await openTarget(spec);
    const universe =
      target instanceof ButlerTarget ? { universe: target.butler.registry.universe } : {};
    const pipeline = await loadPipelineGraph(reader.header, universe.universe);
    const session = new ExecutionSession(reader.header, pipeline, target, {
      outcomesDir: spec.outcomesDir ?? null,
      ...(backend ? { backend } : {}),
    });
    return { session, reader };
  } catch (e) {
    await reader.close();
    throw e;
  }
}

/** Quanta selected and their dependencies within the selection. */
function selection(nodes: readonly GraphNode[], ids?: readonly string[]): GraphNode[] {
  if (ids === undefined) return [...nodes];
  const want = new Set(ids);
  const known = new Set(nodes.map((n) => n.id));
  const unknown = [...want].filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new ExecError(
      'EXEC_REPOSITORY',
      `quantum id(s) ${unknown.slice(0, 3).join(', ')}${unknown.length > 3 ? ', ...' : ''} are not in the graph; list them with \`pipetask report\``,
    );
  }
  return nodes.filter((n) => want.has(n.id));
}

/** Runs quanta with bounded concurrency in dependency order. */
async function schedule(
  nodes: readonly GraphNode[],
  concurrency: number,
  run: (node: GraphNode) => Promise<QuantumOutcome>,
  o: { signal?: AbortSignal; onBlocked: (node: GraphNode, by: string) => Promise<QuantumOutcome> },
): Promise<{ outcomes: QuantumOutcome[]; interrupted: boolean; notRun: GraphNode[] }> {
  const inSel = new Set(nodes.map((n) => n.id));
  const pending = new Map<string, number>();
  const down = new Map<string, string[]>();
  const byId = new Map(nodes.map((n) => [n.id, n]));
  for (const n of nodes) {
    const ups = n.upstream.filter((u) => inSel.has(u));
    pending.set(n.id, ups.length);
    for (const u of ups) down.set(u, [...(down.get(u) ?? []), n.id]);
  }
  const ready = nodes.filter((n) => pending.get(n.id) === 0).map((n) => n.id);
  const outcomes: QuantumOutcome[] = [];
  const finished = new Set<string>();
  let running = 0;
  let interrupted = false;
  return new Promise((resolveAll, rejectAll) => {
    const blockFrom = async (id: string, by: string) => {
      for (const d of down.get(id) ?? []) {
        if (finished.has(d)) continue;
        finished.add(d);
        outcomes.push(await o.onBlocked(byId.get(d)!, by));
        await blockFrom(d, by);
      }
    };
    const pump = () => {
      if (o.signal?.aborted) interrupted = true;
      while (!interrupted && running < concurrency && ready.length > 0) {
        const id = ready.shift()!;
        if (finished.has(id)) continue;
        running++;
        run(byId.get(id)!)
          .then(async (outcome) => {
            finished.add(id);
            outcomes.push(outcome);
            if (outcome.status === 'failed' || outcome.status === 'interrupted') {
              if (outcome.status === 'failed') await blockFrom(id, id);
            } else {
              for (const d of down.get(id) ?? []) {
                const left = pending.get(d)! - 1;
                pending.set(d, left);
                if (left === 0) ready.push(d);
              }
            }
            running--;
            pump();
          })
          .catch(rejectAll);
      }
      if (running === 0 && (ready.length === 0 || interrupted)) {
        const notRun = nodes.filter((n) => !finished.has(n.id));
        resolveAll({ outcomes, interrupted, notRun });
      }
    };
    o.signal?.addEventListener('abort', () => pump(), { once: true });
    pump();
  });
}

/** A pool of child processes running quanta. */
class WorkerPool {
  private readonly idle: ChildProcess[] = [];
  private readonly all = new Set<ChildProcess>();

  constructor(private readonly spec: ExecSpec) {}

  private start(): ChildProcess {
    const here = import.meta.url;
    const isTs = here.endsWith('.ts');
    const script = fileURLToPath(new URL(isTs ? './worker.ts' : './worker.js', here));
    let execArgv: string[] = [];
    if (isTs) {
      const tsx = createRequire(here).resolve('tsx/package.json');
      execArgv = ['--import', pathToFileURL(join(dirname(tsx), 'dist/esm/index.mjs')).href];
    }
    const child = fork(script, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.send({ type: 'init', spec: this.spec });
    this.all.add(child);
    child.once('exit', () => this.all.delete(child));
    return child;
  }

  async run(node: GraphNode): Promise<QuantumOutcome> {
    const child = this.idle.pop() ?? this.start();
    return new Promise((resolveRun) => {
      const onMessage = (m: { type: string; outcome?: QuantumOutcome; error?: string }) => {
        if (m.type === 'done' && m.outcome?.quantumId === node.id) {
          cleanup();
          this.idle.push(child);
          resolveRun(m.outcome);
        } else if (m.type === 'fatal') {
          cleanup();
          child.kill('SIGKILL');
          resolveRun(deadOutcome(node, `worker could not start: ${m.error}`, false));
        }
      };
      const onExit = (code: number | null, signal: string | null) => {
        cleanup();
        resolveRun(
          deadOutcome(
            node,
            `worker process exited (${signal ?? `code ${code}`}) while running it`,
            true,
          ),
        );
      };
      const cleanup = () => {
        child.off('message', onMessage);
        child.off('exit', onExit);
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ type: 'run', id: node.id });
    });
  }

  /** Kills every child (interruption). */
  kill(): void {
    for (const c of this.all) c.kill('SIGTERM');
  }

  /** Asks idle children to exit. */
  async close(): Promise<void> {
    const waits = [...this.all].map(
      (c) =>
        new Promise<void>((r) => {
          if (c.exitCode !== null || c.signalCode !== null) return r();
          c.once('exit', () => r());
          c.send({ type: 'exit' });
        }),
    );
    await Promise.all(waits);
  }
}

function deadOutcome(node: GraphNode, message: string, interrupted: boolean): QuantumOutcome {
  return {
    quantumId: node.id,
    label: node.label,
    dataId: node.dataId,
    status: interrupted ? 'failed' : 'failed',
    error: { code: 'EXEC_WORKER', message, retryable: true, kind: 'transient' },
    startUtc: null,
    wallTime: 0,
    outputs: [],
  };
}

/**
 * Executes the quanta of a saved graph (all, or `quantumIds`) and returns what happened.
 * Quantum failures are outcomes, not exceptions.
 *
 * @throws ExecError / GraphError for setup problems (unreadable graph or repository).
 */
export async function executeGraph(
  spec: ExecSpec,
  o: ExecuteOptions = {},
): Promise<ExecutionSummary> {
  const t0 = performance.now();
  const jobs = Math.max(1, Math.floor(o.jobs ?? 1));
  const { session, reader } = await openSession(spec, o.backend);
  let pool: WorkerPool | null = null;
  try {
    const nodes = selection(await reader.nodes(), o.quantumIds);
    if (session.target instanceof ButlerTarget) {
      const butler = session.target.butler;
      await registerDatasetTypes(butler, reader.header, o.registerDatasetTypes ?? false);
      await butler.registry.registerRun(reader.header.outputRun);
    }
    if (o.writeInitOutputs ?? true) {
      await session.writeInitOutputs([...new Set(nodes.map((n) => n.label))]);
    }
    const emitStart = (n: GraphNode) =>
      o.onEvent?.({
        event: 'quantum-start',
        quantumId: n.id,
        label: n.label,
        dataId: n.dataId,
        utc: new Date().toISOString(),
      });
    const finish = (outcome: QuantumOutcome) => {
      o.onEvent?.({ event: 'quantum-end', outcome });
      return outcome;
    };
    let run: (n: GraphNode) => Promise<QuantumOutcome>;
    if (jobs === 1) {
      run = async (n) => {
        emitStart(n);
        return finish(await session.execute(await reader.readQuantum(n.id)));
      };
    } else {
      const p = new WorkerPool(spec);
      pool = p;
      o.signal?.addEventListener('abort', () => p.kill(), { once: true });
      run = async (n) => {
        emitStart(n);
        const outcome = await p.run(n);
        if (o.signal?.aborted && outcome.error?.code === 'EXEC_WORKER') {
          return finish({ ...outcome, status: 'interrupted' });
        }
        if (outcome.error?.code === 'EXEC_WORKER') await session.record(outcome);
        return finish(outcome);
      };
    }
    const result = await schedule(nodes, jobs, run, {
      ...(o.signal ? { signal: o.signal } : {}),
      onBlocked: async (n, by) => {
        const outcome: QuantumOutcome = {
          quantumId: n.id,
          label: n.label,
          dataId: n.dataId,
          status: 'blocked',
          message: `upstream quantum ${by} failed`,
          startUtc: null,
          wallTime: 0,
          outputs: [],
        };
        await session.record(outcome);
        return finish(outcome);
      },
    });
    const perTask: Record<string, StatusCounts> = {};
    const totals = emptyCounts();
    for (const n of nodes) perTask[n.label] ??= emptyCounts();
    for (const oc of result.outcomes) {
      perTask[oc.label]![oc.status]++;
      totals[oc.status]++;
    }
    for (const n of result.notRun) {
      perTask[n.label]!['not-run']++;
      totals['not-run']++;
    }
    return {
      outcomes: result.outcomes,
      perTask,
      totals,
      interrupted: result.interrupted,
      wallTime: (performance.now() - t0) / 1000,
    };
  } finally {
    if (pool) await pool.close();
    await session.target.close();
    await reader.close();
  }
}
