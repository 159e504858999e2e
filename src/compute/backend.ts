/**
 * The compute backend contract. Two implementations: `webgpu` (Dawn through the npm
 * `webgpu` package) and `cpu` (worker threads over SharedArrayBuffer). Ops are data
 * (see ../ops/op.ts): each has a CPU and a GPU implementation, and `runOp` picks the one
 * matching the backend it is given.
 */

/** Which implementation a backend is. */
export type BackendKind = 'webgpu' | 'cpu';

/** What the caller asks for: `auto` = hardware adapter, else software adapter, else CPU. */
export type BackendChoice = 'auto' | BackendKind;

/** Adapter identity as WebGPU reports it (GPUAdapterInfo), plus derived facts. */
export interface AdapterDescription {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** True for CPU implementations (lavapipe/llvmpipe, SwiftShader, Dawn fallback adapters). */
  readonly isSoftware: boolean;
  /** 'core' or 'compatibility' (WebGPU feature level the device was created at). */
  readonly featureLevel: 'core' | 'compatibility';
}

/** A description of a live backend, for logs, `gpu-coadd info` and benchmark records. */
export interface BackendInfo {
  readonly kind: BackendKind;
  /** The adapter, or null for the CPU backend. */
  readonly adapter: AdapterDescription | null;
  /** Worker threads used by the CPU backend (1 = main thread only); 0 for webgpu. */
  readonly threads: number;
  /** Device limits that matter to gpu-drp (webgpu only). */
  readonly limits: Readonly<Record<string, number>> | null;
  /** Device features (webgpu only). */
  readonly features: readonly string[];
  /** Whether the device measures GPU time with timestamp queries. */
  readonly timestamps: boolean;
}

/** Common surface of both backends. */
export interface BackendBase {
  readonly kind: BackendKind;
  /** Identity and capabilities. */
  info(): BackendInfo;
  /** Release threads or the device; the backend is unusable afterwards. Idempotent. */
  dispose(): Promise<void>;
}
