/**
 * An op is data: a name, a `prepare` step that validates the parameters against the
 * input and precomputes what both implementations need (kernel tables, shapes), a CPU
 * implementation (the reference) and a GPU implementation. `runOp` dispatches on the
 * backend's kind, so callers never branch on it.
 */
import type { CpuBackend } from '../compute/cpu/cpu-backend.ts';
import type { Backend } from '../compute/select.ts';
import type { WebGpuBackend } from '../compute/webgpu/webgpu-backend.ts';

export interface Op<In, Params, Prepared, Out> {
  readonly name: string;
  /** Validate `params` (unknown: user input) for `input`; throws OpInputError. */
  prepare(input: In, params: Params): Prepared;
  cpu(backend: CpuBackend, input: In, prepared: Prepared): Promise<Out>;
  gpu(backend: WebGpuBackend, input: In, prepared: Prepared): Promise<Out>;
}

/** Validate, then run `op` on whichever backend is given. */
export async function runOp<In, Params, Prepared, Out>(
  op: Op<In, Params, Prepared, Out>,
  backend: Backend,
  input: In,
  params: Params,
): Promise<Out> {
  const prepared = op.prepare(input, params);
  return backend.kind === 'cpu'
    ? op.cpu(backend, input, prepared)
    : op.gpu(backend, input, prepared);
}
