/**
 * `gpu-coadd info`: which compute backends this machine can use, and what the WebGPU
 * adapter is (vendor, architecture, device, description, limits, features).
 */
import type { AdapterDescription } from '../compute/backend.ts';
import { defaultThreadCount } from '../compute/cpu/pool.ts';
import { WebGpuBackend } from '../compute/webgpu/webgpu-backend.ts';

/** What `gpu-coadd info --json` prints. */
export interface InfoReport {
  readonly version: string;
  readonly node: string;
  readonly platform: string;
  readonly backends: {
    readonly webgpu: {
      readonly usable: boolean;
      /** Why it is not usable (when it is not). */
      readonly reason: string | null;
      readonly adapter: AdapterDescription | null;
      readonly limits: Readonly<Record<string, number>> | null;
      /** Features the adapter offers. */
      readonly features: readonly string[];
      readonly timestamps: boolean;
    };
    readonly cpu: { readonly usable: true; readonly threads: number };
  };
  /** What `--backend auto` picks here. */
  readonly auto: 'webgpu' | 'cpu';
}

/** Probe the machine. Never throws for a missing adapter: that is a finding. */
export async function collectInfo(version: string): Promise<InfoReport> {
  let webgpu: InfoReport['backends']['webgpu'];
  try {
    const g = await WebGpuBackend.create();
    const i = g.info();
    webgpu = {
      usable: true,
      reason: null,
      adapter: i.adapter,
      limits: i.limits,
      features: g.adapterFeatures,
      timestamps: i.timestamps,
    };
    await g.dispose();
  } catch (e) {
    webgpu = {
      usable: false,
      reason: (e as Error).message,
      adapter: null,
      limits: null,
      features: [],
      timestamps: false,
    };
  }
  return {
    version,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    backends: { webgpu, cpu: { usable: true, threads: defaultThreadCount() } },
    auto: webgpu.usable ? 'webgpu' : 'cpu',
  };
}

const MiB = 1024 * 1024;

/** Human-readable report. */
export function renderInfo(r: InfoReport): string {
  const lines: string[] = [`gpu-drp ${r.version} (node ${r.node}, ${r.platform})`, ''];
  const w = r.backends.webgpu;
  if (w.usable && w.adapter) {
    const a = w.adapter;
    lines.push(
      `webgpu  usable   ${a.isSoftware ? 'SOFTWARE adapter (CPU emulation: correct, not fast)' : 'hardware adapter'}`,
      `        vendor        ${a.vendor || '-'}`,
      `        architecture  ${a.architecture || '-'}`,
      `        device        ${a.device || '-'}`,
      `        description   ${a.description || '-'}`,
      `        feature level ${a.featureLevel}; timestamps ${w.timestamps ? 'yes' : 'no'}`,
    );
    if (w.limits) {
      const l = w.limits;
      lines.push(
        `        limits        storage binding ${((l.maxStorageBufferBindingSize ?? 0) / MiB).toFixed(0)} MiB, ` +
          `buffer ${((l.maxBufferSize ?? 0) / MiB).toFixed(0)} MiB, ` +
          `workgroup memory ${l.maxComputeWorkgroupStorageSize} B, ` +
          `${l.maxComputeInvocationsPerWorkgroup} invocations/workgroup, ` +
          `${l.maxComputeWorkgroupsPerDimension} workgroups/dimension`,
      );
    }
    lines.push(`        features      ${w.features.join(' ')}`);
  } else {
    lines.push(`webgpu  not usable: ${w.reason}`);
  }
  lines.push(`cpu     usable   ${r.backends.cpu.threads} worker threads`, '');
  lines.push(
    r.auto === 'webgpu'
      ? `--backend auto uses webgpu (${w.adapter?.description || w.adapter?.device || w.adapter?.vendor}).`
      : 'Only the CPU backend is available here: gpu-drp runs, on the CPU (run scripts/setup-webgpu.sh as root for a WebGPU adapter).',
  );
  return lines.join('\n');
}
