/**
 * The WebGPU backend: one device on one adapter, with the resource discipline every op
 * relies on (see ../../../DESIGN "Compute"): limits requested from the adapter, a
 * buffer pool, a pipeline cache keyed by what a shader depends on, dispatches folded to
 * fit maxComputeWorkgroupsPerDimension, labels on GPU objects, error scopes turned into
 * typed errors, device loss detected, timestamp queries when the adapter has them, and
 * an explicit dispose().
 */
import type { AdapterDescription, BackendBase, BackendInfo } from '../backend.ts';
import {
  BackendDisposedError,
  DeviceLostError,
  GpuInternalError,
  GpuOutOfMemoryError,
  GpuValidationError,
  NoAdapterError,
} from '../errors.ts';
import { type AdapterPreference, describeAdapter, findAdapter } from './adapter.ts';
import { BufferPool } from './buffer-pool.ts';
import { shaderSource } from './shader-source.ts';

/** Limits gpu-drp asks for (each at the adapter's maximum). */
const WANTED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxBindGroups',
] as const;

/** Options of `WebGpuBackend.create`. */
export interface WebGpuBackendOptions {
  /** Which adapter to accept (default: hardware if any, else software). */
  readonly adapter?: AdapterPreference;
  /** Most bytes of idle buffers the pool keeps (default 512 MiB). */
  readonly poolBytes?: number;
  /** Measure GPU time with timestamp queries when the adapter has them (default true). */
  readonly timestamps?: boolean;
}

/** GPU durations of the passes run while profiling, in milliseconds. */
export interface GpuTiming {
  /** Sum of all timed passes. */
  readonly totalMs: number;
  /** Per pass label, in order. */
  readonly passes: ReadonlyArray<{ readonly label: string; readonly ms: number }>;
}

const MAX_TIMED_PASSES = 256;
/** Passes timed between two resolutions of the busy-time query set (4096 queries, the API maximum). */
const BUSY_PASSES = 2048;
const UPLOAD_CHUNK = 8 << 20;

export class WebGpuBackend implements BackendBase {
  readonly kind = 'webgpu' as const;
  readonly device: GPUDevice;
  readonly adapter: AdapterDescription;
  readonly limits: Readonly<Record<string, number>>;
  /** Features enabled on the device (what gpu-drp asked for). */
  readonly features: readonly string[];
  /** Features the adapter offers. */
  readonly adapterFeatures: readonly string[];
  readonly hasTimestamps: boolean;
  readonly pool: BufferPool;
  private readonly modules = new Map<string, GPUShaderModule>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private lostInfo: GPUDeviceLostInfo | null = null;
  private disposed = false;
  private uncaptured: GPUError | null = null;
  private staging: ArrayBuffer | null = null;
  /** Host arrays whose contents a device buffer holds too (see adoptTwin). */
  private twins = new WeakMap<
    ArrayBufferLike,
    Array<{ at: number; bytes: number; buffer: GPUBuffer }>
  >();
  private twinBuffers: GPUBuffer[] = [];
  /**
   * Bytes moved since the device was opened: host -> device (`upload`), device -> host
   * (`download`) and device -> device (`copy`, including the uploads a twin served).
   */
  readonly transfers = { uploadBytes: 0, downloadBytes: 0, deviceCopyBytes: 0 };
  /** Busy-time tracking (trackBusy): every compute pass timed, totals resolved per scope. */
  private busy: {
    readonly set: GPUQuerySet;
    readonly resolve: GPUBuffer;
    next: number;
    ns: number;
    passes: number;
    untimed: number;
  } | null = null;
  private scopeDepth = 0;
  // Timestamp profiling state (active between beginProfile and endProfile).
  private querySet: GPUQuerySet | null = null;
  private profileLabels: string[] | null = null;

  private constructor(
    device: GPUDevice,
    adapter: AdapterDescription,
    adapterFeatures: readonly string[],
    options: WebGpuBackendOptions,
  ) {
    this.device = device;
    this.adapter = adapter;
    this.adapterFeatures = Object.freeze([...adapterFeatures].sort());
    const lim: Record<string, number> = {};
    for (const k of WANTED_LIMITS) lim[k] = Number(device.limits[k]);
    this.limits = Object.freeze(lim);
    this.features = Object.freeze([...device.features].map(String).sort());
    this.hasTimestamps = options.timestamps !== false && device.features.has('timestamp-query');
    this.pool = new BufferPool(device, options.poolBytes ?? 512 << 20);
    device.lost.then((info) => {
      this.lostInfo = info;
    });
    device.addEventListener('uncapturederror', (ev) => {
      this.uncaptured ??= (ev as GPUUncapturedErrorEvent).error;
    });
  }

  /** Open a device on the best adapter; throws NoAdapterError when there is none. */
  static async create(options: WebGpuBackendOptions = {}): Promise<WebGpuBackend> {
    const { adapter, why } = await findAdapter(options.adapter ?? 'any');
    if (!adapter) throw new NoAdapterError(why);
    const requiredLimits: Record<string, number> = {};
    for (const k of WANTED_LIMITS) {
      const v = adapter.limits[k];
      if (typeof v === 'number') requiredLimits[k] = v;
    }
    const requiredFeatures: GPUFeatureName[] = [];
    if (options.timestamps !== false && adapter.features.has('timestamp-query')) {
      requiredFeatures.push('timestamp-query');
    }
    const device = await adapter.requestDevice({
      label: 'gpu-drp device',
      requiredLimits,
      requiredFeatures,
    });
    return new WebGpuBackend(
      device,
      describeAdapter(adapter),
      [...adapter.features].map(String),
      options,
    );
  }

  info(): BackendInfo {
    return {
      kind: 'webgpu',
      adapter: this.adapter,
      threads: 0,
      limits: this.limits,
      features: this.features,
      timestamps: this.hasTimestamps,
    };
  }

  /** Limit by name (adapter maximum, as requested). */
  limit(name: (typeof WANTED_LIMITS)[number]): number {
    return this.limits[name] as number;
  }

  /** Throws if the backend was disposed or its device lost. */
  checkAlive(): void {
    if (this.disposed) throw new BackendDisposedError('webgpu');
    if (this.lostInfo) throw new DeviceLostError(this.lostInfo.reason, this.lostInfo.message);
  }

  /** True once the device is lost (for schedulers deciding to fall back). */
  get isLost(): boolean {
    return this.lostInfo !== null;
  }

  /**
   * A compute pipeline for `shaders/<file>` entry `entryPoint`, specialized by WGSL
   * override `constants` and by compile-time `defines` (see shaderSource); cached by
   * (file, defines, entry, constants).
   */
  pipeline(
    file: string,
    entryPoint: string,
    constants: Readonly<Record<string, number>> = {},
    defines: Readonly<Record<string, number>> = {},
  ): GPUComputePipeline {
    this.checkAlive();
    const kv = (o: Readonly<Record<string, number>>) =>
      Object.keys(o)
        .sort()
        .map((k) => `${k}=${o[k]}`)
        .join(',');
    const moduleKey = `${file}[${kv(defines)}]`;
    const key = `${moduleKey}#${entryPoint}?${kv(constants)}`;
    let p = this.pipelines.get(key);
    if (!p) {
      let module = this.modules.get(moduleKey);
      if (!module) {
        module = this.device.createShaderModule({
          label: moduleKey,
          code: shaderSource(file, defines),
        });
        this.modules.set(moduleKey, module);
      }
      p = this.device.createComputePipeline({
        label: key,
        layout: 'auto',
        compute: { module, entryPoint, constants: { ...constants } },
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /**
   * Bind group 0 of `pipeline`: `buffers[i]` goes to binding i; null leaves a binding
   * out (one the entry point does not use).
   */
  bindGroup(
    pipeline: GPUComputePipeline,
    label: string,
    buffers: ReadonlyArray<GPUBuffer | null>,
  ): GPUBindGroup {
    const entries: GPUBindGroupEntry[] = [];
    buffers.forEach((buffer, binding) => {
      if (buffer) entries.push({ binding, resource: { buffer } });
    });
    return this.device.createBindGroup({ label, layout: pipeline.getBindGroupLayout(0), entries });
  }

  /**
   * Fold `n` workgroups into a (x, y, z) grid within maxComputeWorkgroupsPerDimension.
   * Shaders recover the linear index with the prelude's `wg_linear` and must ignore
   * indices >= n (the grid may be larger than n).
   */
  foldWorkgroups(n: number): [number, number, number] {
    const m = this.limit('maxComputeWorkgroupsPerDimension');
    if (n <= m) return [Math.max(1, n), 1, 1];
    const y = Math.ceil(n / m);
    if (y <= m) return [m, y, 1];
    return [m, m, Math.ceil(n / (m * m))];
  }

  /** Begin a labelled compute pass, with timestamp writes while profiling. */
  computePass(encoder: GPUCommandEncoder, label: string): GPUComputePassEncoder {
    const labels = this.profileLabels;
    if (labels && this.querySet && labels.length < MAX_TIMED_PASSES) {
      const i = labels.length;
      labels.push(label);
      return encoder.beginComputePass({
        label,
        timestampWrites: {
          querySet: this.querySet,
          beginningOfPassWriteIndex: 2 * i,
          endOfPassWriteIndex: 2 * i + 1,
        },
      });
    }
    const busy = this.busy;
    if (busy && !labels) {
      if (busy.next < BUSY_PASSES) {
        const i = busy.next++;
        return encoder.beginComputePass({
          label,
          timestampWrites: {
            querySet: busy.set,
            beginningOfPassWriteIndex: 2 * i,
            endOfPassWriteIndex: 2 * i + 1,
          },
        });
      }
      busy.untimed++;
    }
    return encoder.beginComputePass({ label });
  }

  /**
   * Start timing every compute pass (timestamp queries) to know how long the device was
   * busy: {@link busyTime}. False (and nothing timed) when the adapter has no timestamps.
   */
  trackBusy(): boolean {
    if (!this.hasTimestamps) return false;
    this.busy ??= {
      set: this.device.createQuerySet({
        label: 'gpu-drp busy time',
        type: 'timestamp',
        count: 2 * BUSY_PASSES,
      }),
      resolve: this.device.createBuffer({
        label: 'busy time resolve',
        size: 16 * BUSY_PASSES,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      }),
      next: 0,
      ns: 0,
      passes: 0,
      untimed: 0,
    };
    return true;
  }

  /**
   * Device time spent in compute passes since {@link trackBusy} (ms; passes resolved at
   * the end of each outermost `scoped` block), how many passes that is, and how many
   * were not timed (more than 2048 in one scope); null when not tracking.
   */
  busyTime(): { ms: number; passes: number; untimed: number } | null {
    const b = this.busy;
    return b ? { ms: b.ns / 1e6, passes: b.passes, untimed: b.untimed } : null;
  }

  /** Add the timed passes' durations to the busy total and free their queries. */
  private async resolveBusy(): Promise<void> {
    const b = this.busy;
    if (!b || b.next === 0) return;
    const n = b.next;
    b.next = 0;
    const enc = this.device.createCommandEncoder({ label: 'busy time resolve' });
    enc.resolveQuerySet(b.set, 0, 2 * n, b.resolve, 0);
    this.device.queue.submit([enc.finish()]);
    const ticks = new BigUint64Array(2 * n);
    const before = this.transfers.downloadBytes;
    await this.download(b.resolve, ticks);
    this.transfers.downloadBytes = before; // bookkeeping, not the work's traffic
    for (let i = 0; i < n; i++) {
      const d = (ticks[2 * i + 1] as bigint) - (ticks[2 * i] as bigint);
      if (d > 0n) b.ns += Number(d);
    }
    b.passes += n;
  }

  /** One pass of `pipeline` over `workgroups` (folded), appended to `encoder`. */
  dispatch(
    encoder: GPUCommandEncoder,
    label: string,
    pipeline: GPUComputePipeline,
    bindGroup: GPUBindGroup,
    workgroups: number,
  ): void {
    const pass = this.computePass(encoder, label);
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    const [x, y, z] = this.foldWorkgroups(workgroups);
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
  }

  /** A uniform buffer holding `words` (u32/i32/f32 packed by the caller as a Uint32Array). */
  uniform(label: string, words: Uint32Array): GPUBuffer {
    const b = this.pool.acquire(
      words.byteLength,
      GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label,
    );
    this.device.queue.writeBuffer(b, 0, words.buffer, words.byteOffset, words.byteLength);
    return b;
  }

  /** A storage buffer of `bytes` (pooled). */
  storage(label: string, bytes: number): GPUBuffer {
    return this.pool.acquire(
      bytes,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
      label,
    );
  }

  /**
   * Upload `src` (any typed array, shared memory included) into `dst` at `dstOffset`
   * bytes. Dawn's writeBuffer cannot read SharedArrayBuffer, so data goes through a
   * reused 8 MiB staging ArrayBuffer.
   */
  upload(dst: GPUBuffer, src: ArrayBufferView, dstOffset = 0): void {
    this.checkAlive();
    const twin = this.twins
      .get(src.buffer)
      ?.find((t) => src.byteOffset >= t.at && src.byteOffset + src.byteLength <= t.at + t.bytes);
    if (twin && src.byteLength % 4 === 0 && (src.byteOffset - twin.at) % 4 === 0) {
      const enc = this.device.createCommandEncoder({ label: `copy of ${twin.buffer.label}` });
      this.copy(enc, twin.buffer, src.byteOffset - twin.at, dst, dstOffset, src.byteLength);
      this.device.queue.submit([enc.finish()]);
      return;
    }
    this.transfers.uploadBytes += src.byteLength;
    const bytes = new Uint8Array(src.buffer, src.byteOffset, src.byteLength);
    if (!(src.buffer instanceof SharedArrayBuffer)) {
      this.device.queue.writeBuffer(dst, dstOffset, src.buffer, src.byteOffset, src.byteLength);
      return;
    }
    this.staging ??= new ArrayBuffer(UPLOAD_CHUNK);
    const stage = new Uint8Array(this.staging);
    for (let off = 0; off < bytes.length; off += UPLOAD_CHUNK) {
      const n = Math.min(UPLOAD_CHUNK, bytes.length - off);
      stage.set(bytes.subarray(off, off + n));
      this.device.queue.writeBuffer(dst, dstOffset + off, this.staging, 0, n);
    }
  }

  /** Copy `byteLength` bytes of `src` (from `srcOffset`) back into `dst`. */
  async download(src: GPUBuffer, dst: ArrayBufferView, srcOffset = 0): Promise<void> {
    this.checkAlive();
    const n = dst.byteLength;
    this.transfers.downloadBytes += n;
    const read = this.pool.acquire(
      n,
      GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      `readback of ${src.label}`,
    );
    try {
      const enc = this.device.createCommandEncoder({ label: `readback of ${src.label}` });
      enc.copyBufferToBuffer(src, srcOffset, read, 0, alignUp(n, 4));
      this.device.queue.submit([enc.finish()]);
      await read.mapAsync(GPUMapMode.READ, 0, alignUp(n, 4));
      new Uint8Array(dst.buffer, dst.byteOffset, n).set(
        new Uint8Array(read.getMappedRange(0, alignUp(n, 4)), 0, n),
      );
      read.unmap();
    } catch (e) {
      this.checkAlive();
      throw e;
    } finally {
      this.pool.release(read);
    }
  }

  /** Encode a device-to-device copy of `bytes` (a multiple of 4) and count it. */
  copy(
    enc: GPUCommandEncoder,
    src: GPUBuffer,
    srcOffset: number,
    dst: GPUBuffer,
    dstOffset: number,
    bytes: number,
  ): void {
    enc.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.transfers.deviceCopyBytes += bytes;
  }

  /**
   * Encode a fill of `count` 32-bit words of `dst` (from word `offset`) with the bit
   * pattern `value` (shaders/fill.wgsl): planes initialized on the device, not uploaded.
   * Returns the fill's uniform buffer, which the caller releases once the encoder ran.
   */
  fill(
    enc: GPUCommandEncoder,
    dst: GPUBuffer,
    value: number,
    count: number,
    offset = 0,
  ): GPUBuffer {
    const pipe = this.pipeline('fill.wgsl', 'fill_u32');
    const u = this.uniform(`fill ${dst.label}`, new Uint32Array([value >>> 0, offset, count, 0]));
    const groups = Math.ceil(count / 64);
    if (groups > 0)
      this.dispatch(enc, `fill ${dst.label}`, pipe, this.bindGroup(pipe, 'fill', [u, dst]), groups);
    return u;
  }

  /**
   * Declare that `buffer` holds the same bytes as the host array `array` (a result that
   * was just downloaded from it), so that later uploads of that array, or of any view
   * inside its bytes, are device-to-device copies instead of host transfers. The
   * backend owns `buffer` from now on, until {@link dropTwins}. The caller promises not
   * to change `array` while the twin is registered (results handed on from one stage to
   * the next, as the coadd's image and variance from the stack to detection and
   * measurement).
   */
  adoptTwin(array: ArrayBufferView, buffer: GPUBuffer): void {
    const list = this.twins.get(array.buffer) ?? [];
    list.push({ at: array.byteOffset, bytes: array.byteLength, buffer });
    this.twins.set(array.buffer, list);
    this.twinBuffers.push(buffer);
  }

  /** Forget every twin and give their buffers back to the pool. */
  dropTwins(): void {
    this.twins = new WeakMap();
    for (const b of this.twinBuffers.splice(0)) this.pool.release(b);
  }

  /**
   * Run `work` inside out-of-memory, validation and internal error scopes and wait for
   * the queue; errors come back as GpuOutOfMemoryError, GpuValidationError,
   * GpuInternalError or DeviceLostError.
   */
  async scoped<T>(label: string, work: () => Promise<T> | T): Promise<T> {
    this.checkAlive();
    const d = this.device;
    d.pushErrorScope('internal');
    d.pushErrorScope('validation');
    d.pushErrorScope('out-of-memory');
    let result: T | undefined;
    let thrown: unknown = null;
    this.scopeDepth++;
    try {
      result = await work();
      if (this.scopeDepth === 1) await this.resolveBusy();
    } catch (e) {
      thrown = e;
      // Passes of failed work may never have run: their queries are not read.
      if (this.scopeDepth === 1 && this.busy) this.busy.next = 0;
    } finally {
      this.scopeDepth--;
    }
    const oom = await d.popErrorScope();
    const val = await d.popErrorScope();
    const internal = await d.popErrorScope();
    if (this.lostInfo) throw new DeviceLostError(this.lostInfo.reason, this.lostInfo.message);
    if (oom) throw new GpuOutOfMemoryError(label, oom.message);
    if (val) throw new GpuValidationError(label, val.message);
    if (internal) throw new GpuInternalError(label, internal.message);
    if (this.uncaptured) {
      const u = this.uncaptured;
      this.uncaptured = null;
      throw new GpuValidationError(label, u.message);
    }
    if (thrown) throw thrown;
    return result as T;
  }

  /**
   * Time the GPU passes that `work` encodes (timestamp queries; falls back to wall time
   * around a queue drain when the adapter has none).
   */
  async profile<T>(work: () => Promise<T>): Promise<{ result: T; timing: GpuTiming }> {
    this.checkAlive();
    if (!this.hasTimestamps) {
      const t0 = performance.now();
      const result = await work();
      await this.device.queue.onSubmittedWorkDone();
      const ms = performance.now() - t0;
      return { result, timing: { totalMs: ms, passes: [{ label: 'wall', ms }] } };
    }
    this.querySet ??= this.device.createQuerySet({
      label: 'gpu-drp timestamps',
      type: 'timestamp',
      count: 2 * MAX_TIMED_PASSES,
    });
    this.profileLabels = [];
    let result: T;
    try {
      result = await work();
    } catch (e) {
      this.profileLabels = null;
      throw e;
    }
    const labels = this.profileLabels;
    this.profileLabels = null;
    const n = labels.length;
    if (n === 0) return { result, timing: { totalMs: 0, passes: [] } };
    const bytes = 16 * n;
    const resolve = this.device.createBuffer({
      label: 'timestamp resolve',
      size: bytes,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    const enc = this.device.createCommandEncoder({ label: 'timestamp resolve' });
    enc.resolveQuerySet(this.querySet, 0, 2 * n, resolve, 0);
    this.device.queue.submit([enc.finish()]);
    const ticks = new BigUint64Array(2 * n);
    await this.download(resolve, ticks);
    resolve.destroy();
    const passes = labels.map((label, i) => ({
      label,
      ms: Number((ticks[2 * i + 1] as bigint) - (ticks[2 * i] as bigint)) / 1e6,
    }));
    return { result, timing: { totalMs: passes.reduce((s, p) => s + p.ms, 0), passes } };
  }

  /** Destroy the device and every pooled buffer. Idempotent. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.dropTwins();
    this.pool.clear();
    this.querySet?.destroy();
    this.busy?.set.destroy();
    this.busy?.resolve.destroy();
    this.pipelines.clear();
    this.modules.clear();
    this.device.destroy();
  }
}

/** Round `n` up to a multiple of `a`. */
export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
