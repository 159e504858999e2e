/**
 * The compute backend of a quantum, and the base class of the coadd tasks that need one.
 *
 * The executor may hand a backend over on the context (`ctx.backend`, shared by many
 * quanta and owned by the executor); otherwise one is made for the quantum with
 * `createBackend()` (honouring GPU_DRP_BACKEND: auto | webgpu | cpu) and disposed after it.
 */
import type { DataId } from '../src/butler/refs.ts';
import { type Backend, createBackend } from '../src/compute/select.ts';
import { PipelineTask, type QuantumContext, type QuantumRefs } from '../src/pipe/index.ts';
import { CoaddTaskError } from './errors.ts';

/** A context that may carry the executor's backend. */
export type BackendQuantumContext = QuantumContext & { readonly backend?: Backend | undefined };

/** How a backend is named in task metadata: `cpu` or `webgpu (<adapter description>)`. */
export function describeBackend(backend: Backend): string {
  return backend.kind === 'webgpu'
    ? `webgpu (${backend.info().adapter?.description ?? 'adapter'})`
    : 'cpu';
}

/** What `run` needs besides its inputs: the quantum's data ID and the backend. */
export interface QuantumEnv {
  readonly dataId: DataId;
  readonly backend: Backend;
}

/**
 * A PipelineTask whose `run` computes on a {@link Backend}. `runQuantum` finds the
 * backend (context, else a fresh one), records it in the metadata (`backend`), may
 * reorder input refs ({@link orderInputRefs}) and runs the default `runQuantum`.
 * `runWith(inputs, env)` is the pure algorithm; `run(inputs)` calls it with the current
 * quantum's environment.
 */
export abstract class BackendTask<C, I extends object, O extends object> extends PipelineTask<
  C,
  I,
  O
> {
  private env: QuantumEnv | null = null;

  /** The algorithm, given the quantum's data ID and backend. No I/O. */
  abstract runWith(inputs: I, env: QuantumEnv): Promise<O>;

  /** Runs {@link runWith} in the current quantum. @throws CoaddTaskError outside one */
  run(inputs: I): Promise<O> {
    if (!this.env) {
      throw new CoaddTaskError(
        'TASK_NO_QUANTUM',
        `task '${this.label}': run() is called by runQuantum; outside a quantum call runWith(inputs, { dataId, backend })`,
      );
    }
    return this.runWith(inputs, this.env);
  }

  /** Input refs in the order `run` should see them (default: as given). */
  protected orderInputRefs(refs: QuantumRefs): QuantumRefs {
    return refs;
  }

  override async runQuantum(
    ctx: QuantumContext,
    inputRefs: QuantumRefs,
    outputRefs: QuantumRefs,
  ): Promise<void> {
    const given = (ctx as BackendQuantumContext).backend;
    let backend: Backend;
    if (given) backend = given;
    else {
      try {
        backend = (await createBackend()).backend;
      } catch (e) {
        throw new CoaddTaskError(
          'TASK_NO_BACKEND',
          `task '${this.label}': no compute backend (${(e as Error).message}); set GPU_DRP_BACKEND=cpu to compute on the CPU`,
          { cause: e },
        );
      }
    }
    this.metadata.set('backend', describeBackend(backend));
    this.metadata.set('adapter', 'gpu_drp.tasks');
    this.env = { dataId: ctx.dataId, backend };
    try {
      await super.runQuantum(ctx, this.orderInputRefs(inputRefs), outputRefs);
    } finally {
      this.env = null;
      if (!given) await backend.dispose();
    }
  }
}

/** Sorts a multiple connection's refs by a numeric data ID key (e.g. detector, visit). */
export function sortRefsBy(refs: QuantumRefs, field: string, key: string): QuantumRefs {
  const raw = refs[field];
  if (!Array.isArray(raw)) return refs;
  const sorted = [...raw].sort((a, b) => Number(a.dataId[key]) - Number(b.dataId[key]));
  return { ...refs, [field]: sorted };
}
