/**
 * Finding a WebGPU adapter through Dawn's Node bindings (npm `webgpu`).
 *
 * Order: a hardware adapter (high-performance first), else a software one (lavapipe /
 * llvmpipe / SwiftShader) at core feature level, else Dawn's compatibility feature level
 * (its OpenGL ES backend, which Mesa 22 only offers there). The Dawn instance is made
 * once per process and kept, as creating several is slow and some builds misbehave.
 */
import type { AdapterDescription } from '../backend.ts';

type DawnModule = { create: (options: string[]) => GPU; globals: object };

let dawn: Promise<DawnModule | null> | null = null;
let instance: GPU | null = null;
let loadError = '';

/** Dawn toggles every instance gets: exact timestamps (Dawn rounds them to ~65 us otherwise). */
const DAWN_OPTIONS = ['disable-dawn-features=timestamp_quantization'];

async function loadDawn(): Promise<DawnModule | null> {
  dawn ??= import('webgpu').then(
    (m) => m as unknown as DawnModule,
    (e: unknown) => {
      loadError = (e as Error).message;
      return null;
    },
  );
  return dawn;
}

/** The process-wide GPU object, or null when dawn.node cannot load (message in `why`). */
export async function gpuInstance(): Promise<{ gpu: GPU | null; why: string }> {
  if (instance) return { gpu: instance, why: '' };
  const m = await loadDawn();
  if (!m) return { gpu: null, why: `the webgpu package did not load: ${loadError}` };
  // WebGPU's enums (GPUBufferUsage, GPUShaderStage, GPUMapMode) are globals in browsers.
  for (const [k, v] of Object.entries(m.globals)) {
    if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  }
  if (process.platform === 'linux' && !process.env.EGL_PLATFORM) {
    // Dawn's GL ES backend needs this to run headless; harmless for Vulkan.
    process.env.EGL_PLATFORM = 'surfaceless';
  }
  instance = m.create(DAWN_OPTIONS);
  return { gpu: instance, why: '' };
}

const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software|softpipe|warp/i;

/** Identity of an adapter, with the software/hardware classification gpu-drp uses. */
export function describeAdapter(adapter: GPUAdapter): AdapterDescription {
  const i = adapter.info;
  const isSoftware =
    Boolean((i as { isFallbackAdapter?: boolean }).isFallbackAdapter) ||
    i.architecture === 'software' ||
    SOFTWARE.test(`${i.vendor} ${i.device} ${i.description}`);
  const level = (adapter as { featureLevel?: string }).featureLevel;
  return {
    vendor: i.vendor,
    architecture: i.architecture,
    device: i.device,
    description: i.description,
    isSoftware,
    featureLevel: level === 'compatibility' ? 'compatibility' : 'core',
  };
}

/** What `findAdapter` may return. */
export type AdapterPreference = 'any' | 'hardware' | 'software';

/** The best adapter for `preference`, or null with the reason. */
export async function findAdapter(
  preference: AdapterPreference = 'any',
): Promise<{ adapter: GPUAdapter | null; why: string }> {
  const { gpu, why } = await gpuInstance();
  if (!gpu) return { adapter: null, why };
  const attempts: GPURequestAdapterOptions[] = [
    { powerPreference: 'high-performance' },
    { powerPreference: 'low-power' },
    { featureLevel: 'compatibility' },
  ];
  let software: GPUAdapter | null = null;
  for (const opts of attempts) {
    let a: GPUAdapter | null = null;
    try {
      a = await gpu.requestAdapter(opts);
    } catch {
      a = null;
    }
    if (!a) continue;
    const d = describeAdapter(a);
    if (!d.isSoftware && preference !== 'software') return { adapter: a, why: '' };
    if (d.isSoftware) software ??= a;
  }
  if (software && preference !== 'hardware') return { adapter: software, why: '' };
  return {
    adapter: null,
    why:
      preference === 'hardware'
        ? 'no hardware adapter (only software or none)'
        : 'Dawn found no Vulkan/GL adapter (is libvulkan1 and a Vulkan driver installed?)',
  };
}
