/**
 * The backends a conformance suite runs against. The CPU backend always; the WebGPU
 * backend when an adapter exists. Under CI=true a missing adapter is a failure, never a
 * silent skip (scripts/setup-webgpu.sh installs lavapipe there).
 */
import { CpuBackend } from '../../src/compute/cpu/cpu-backend.ts';
import { NoAdapterError } from '../../src/compute/errors.ts';
import type { Backend } from '../../src/compute/select.ts';
import { WebGpuBackend } from '../../src/compute/webgpu/webgpu-backend.ts';

export interface BackendCase {
  readonly name: 'cpu' | 'webgpu';
  /** Create the backend (memoized per test file). */
  readonly get: () => Promise<Backend>;
}

let gpu: Promise<WebGpuBackend | null> | null = null;

/** The WebGPU backend, or null when this machine has no adapter (an error under CI=true). */
export function webgpuOrNull(): Promise<WebGpuBackend | null> {
  gpu ??= WebGpuBackend.create().catch((e: unknown) => {
    if (e instanceof NoAdapterError && process.env.CI !== 'true') {
      console.warn(
        `[gpu tier] no WebGPU adapter: ${e.message} -- GPU tests of this file are skipped`,
      );
      return null;
    }
    throw e;
  });
  return gpu;
}

const cpus = new Map<number, CpuBackend>();

/** A CPU backend with `threads` workers (memoized). */
export function cpuBackend(threads = 2): CpuBackend {
  let c = cpus.get(threads);
  if (!c) {
    c = new CpuBackend({ threads });
    cpus.set(threads, c);
  }
  return c;
}

/** Backends to run a suite on: cpu, then webgpu when it exists (or CI=true, where it must). */
export async function backendCases(): Promise<BackendCase[]> {
  const cases: BackendCase[] = [{ name: 'cpu', get: async () => cpuBackend() }];
  // `get` asks again each time: a file may dispose the backend between its blocks.
  if (await webgpuOrNull())
    cases.push({ name: 'webgpu', get: async () => (await webgpuOrNull()) as Backend });
  return cases;
}

/** Release every backend made here (call in afterAll). */
export async function disposeBackends(): Promise<void> {
  for (const c of cpus.values()) await c.dispose();
  cpus.clear();
  const g = await (gpu ?? Promise.resolve(null)).catch(() => null);
  await g?.dispose();
  gpu = null;
}
