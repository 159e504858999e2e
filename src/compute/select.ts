/**
 * Choosing a backend: `auto` takes a hardware adapter, else a software one, else the
 * CPU backend, and says which it took (and why) in `reason`.
 */
import type { BackendChoice } from './backend.ts';
import { CpuBackend } from './cpu/cpu-backend.ts';
import { ComputeError, NoAdapterError } from './errors.ts';
import { WebGpuBackend } from './webgpu/webgpu-backend.ts';

/** Either backend. Ops switch on `kind`. */
export type Backend = WebGpuBackend | CpuBackend;

/** Environment variable read when no explicit choice is given. */
export const BACKEND_ENV = 'GPU_DRP_BACKEND';

export interface CreateBackendOptions {
  /** `auto` (default, or $GPU_DRP_BACKEND), `webgpu` or `cpu`. */
  readonly backend?: BackendChoice;
  /** CPU worker threads (0 = one per core). */
  readonly threads?: number;
  /** For `auto`: refuse software adapters and use the CPU backend instead. */
  readonly hardwareOnly?: boolean;
}

/** A backend plus the reason it was chosen. */
export interface BackendSelection {
  readonly backend: Backend;
  readonly reason: string;
}

/** Parse a backend name (from a flag or the environment); throws a ComputeError for others. */
export function parseBackendChoice(v: string | undefined): BackendChoice | undefined {
  if (v === undefined || v === '') return undefined;
  if (v === 'auto' || v === 'webgpu' || v === 'cpu') return v;
  throw new ComputeError(
    'BAD_BACKEND',
    `unknown backend '${v}'; use auto, webgpu or cpu (flag --backend or ${BACKEND_ENV})`,
  );
}

/** Create the backend asked for; see the module comment for `auto`. */
export async function createBackend(options: CreateBackendOptions = {}): Promise<BackendSelection> {
  const choice = options.backend ?? parseBackendChoice(process.env[BACKEND_ENV]) ?? 'auto';
  const cpu = () =>
    new CpuBackend(options.threads === undefined ? {} : { threads: options.threads });
  if (choice === 'cpu') return { backend: cpu(), reason: 'CPU backend requested' };
  try {
    const gpu = await WebGpuBackend.create({ adapter: options.hardwareOnly ? 'hardware' : 'any' });
    const a = gpu.adapter;
    return {
      backend: gpu,
      reason: `${a.isSoftware ? 'software' : 'hardware'} WebGPU adapter: ${a.description || a.device || a.vendor}`,
    };
  } catch (e) {
    if (choice === 'webgpu') throw e;
    const why = e instanceof NoAdapterError ? e.message : `WebGPU failed: ${(e as Error).message}`;
    return { backend: cpu(), reason: `CPU backend (${why})` };
  }
}
