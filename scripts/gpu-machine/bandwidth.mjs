#!/usr/bin/env node
// Device-memory copy bandwidth through WebGPU itself (Dawn, npm `webgpu`), to compare
// the op benchmarks with the memory floor: a plain WGSL copy kernel (one vec4<u32> per
// invocation) timed with timestamp queries (Dawn's timestamp quantization disabled),
// and copyBufferToBuffer timed on the wall clock, at several buffer sizes. GB/s count
// bytes read plus bytes written (2 x size), as the benchmarks' gpu_gb_per_s do.
// The source holds a non-zero pattern; sampled windows of the destination are checked
// against it after the timed runs.
//
//   node scripts/gpu-machine/bandwidth.mjs [--sizes-mib 64,256,1024] [--repeats 20]
//        [--out FILE] [--allow-software]
// Exit: 0 ok, 1 a check failed, 3 no (hardware) adapter.
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { create, globals } from 'webgpu';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const sizesMiB = String(opt('sizes-mib', '64,256,1024'))
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const repeats = Math.max(3, Number(opt('repeats', '20')));
const out = opt('out', null);
const allowSoftware = args.includes('--allow-software');

const { GPUBufferUsage, GPUMapMode } = globals;
const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software|softpipe/i;
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

const gpu = create(['disable-dawn-features=timestamp_quantization']);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!adapter) {
  console.error('bandwidth: no WebGPU adapter');
  process.exit(3);
}
const ai = adapter.info;
const isSoftware =
  Boolean(ai.isFallbackAdapter) ||
  ai.architecture === 'software' ||
  SOFTWARE.test(`${ai.vendor} ${ai.device} ${ai.description}`);
if (isSoftware && !allowSoftware) {
  console.error(
    `bandwidth: only a software adapter (${ai.description}); --allow-software to go on`,
  );
  process.exit(3);
}
const hasTs = adapter.features.has('timestamp-query');
const device = await adapter.requestDevice({
  requiredFeatures: hasTs ? ['timestamp-query'] : [],
  requiredLimits: {
    maxBufferSize: adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
  },
});
let gpuError = null;
device.addEventListener('uncapturederror', (ev) => {
  gpuError ??= ev.error;
});

const WG = 256;
const module = device.createShaderModule({
  code: /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec4<u32>>;
@compute @workgroup_size(${WG})
fn copy(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${WG}u + lid;
  if (i < arrayLength(&src)) { dst[i] = src[i]; }
}

// The source pattern, word w = (w * 2654435761) ^ 0x5bd1e995 (1 where that is 0).
@group(0) @binding(0) var<storage, read_write> buf: array<vec4<u32>>;
fn pat(w: u32) -> u32 { let v = (w * 2654435761u) ^ 0x5bd1e995u; return select(v, 1u, v == 0u); }
@compute @workgroup_size(${WG})
fn fill(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${WG}u + lid;
  if (i < arrayLength(&buf)) { let w = 4u * i; buf[i] = vec4<u32>(pat(w), pat(w + 1u), pat(w + 2u), pat(w + 3u)); }
}`,
});
const pipeline = device.createComputePipeline({
  layout: 'auto',
  compute: { module, entryPoint: 'copy' },
});
const fillPipeline = device.createComputePipeline({
  layout: 'auto',
  compute: { module, entryPoint: 'fill' },
});

const maxBytes =
  Math.floor(
    Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize) / 16,
  ) * 16;
const maxPerDim = device.limits.maxComputeWorkgroupsPerDimension;
const pattern = (w) => (Math.imul(w, 2654435761) ^ 0x5bd1e995) >>> 0 || 1;

async function readWindow(buf, offset, bytes) {
  const rb = device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(buf, offset, rb, 0, bytes);
  device.queue.submit([enc.finish()]);
  await rb.mapAsync(GPUMapMode.READ);
  const v = new Uint32Array(rb.getMappedRange().slice(0));
  rb.unmap();
  rb.destroy();
  return v;
}

/** Check 16 windows of the destination (4 KiB each, first and last included). */
async function verify(dst, bytes) {
  const win = Math.min(4096, bytes);
  for (let k = 0; k < 16; k++) {
    const off = Math.floor(((bytes - win) * k) / 15 / 4) * 4;
    const v = await readWindow(dst, off, win);
    for (let j = 0; j < v.length; j++) {
      const want = pattern(off / 4 + j);
      if (v[j] !== want) return `word ${off / 4 + j}: ${v[j]} != ${want}`;
    }
  }
  return null;
}

const results = [];
for (const mib of sizesMiB) {
  const bytes = Math.min(mib * 1048576, maxBytes);
  if (bytes < mib * 1048576)
    console.error(`bandwidth: ${mib} MiB over the binding limit; using ${bytes} B`);
  const src = device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC,
  });
  const dst = device.createBuffer({
    size: bytes,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const groups = Math.ceil(bytes / 16 / WG);
  const gx = Math.min(groups, maxPerDim);
  const gy = Math.ceil(groups / gx);
  {
    // Fill the source on the GPU: a long JS loop here would also stall Dawn's event
    // processing (seen to crash Dawn on lavapipe).
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(fillPipeline);
    pass.setBindGroup(
      0,
      device.createBindGroup({
        layout: fillPipeline.getBindGroupLayout(0),
        entries: [{ binding: 0, resource: { buffer: src } }],
      }),
    );
    pass.dispatchWorkgroups(gx, gy);
    pass.end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
  }
  const bind = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: src } },
      { binding: 1, resource: { buffer: dst } },
    ],
  });
  const qs = hasTs ? device.createQuerySet({ type: 'timestamp', count: 2 * repeats }) : null;
  const encodeKernel = (enc, i) => {
    const pass = enc.beginComputePass(
      qs && i >= 0
        ? {
            timestampWrites: {
              querySet: qs,
              beginningOfPassWriteIndex: 2 * i,
              endOfPassWriteIndex: 2 * i + 1,
            },
          }
        : {},
    );
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(gx, gy);
    pass.end();
  };
  // warm-up
  for (let w = 0; w < 3; w++) {
    const enc = device.createCommandEncoder();
    encodeKernel(enc, -1);
    device.queue.submit([enc.finish()]);
  }
  await device.queue.onSubmittedWorkDone();

  // kernel: one submission per repeat, each waited for (wall) and timestamped (GPU)
  const wall = [];
  for (let i = 0; i < repeats; i++) {
    const enc = device.createCommandEncoder();
    encodeKernel(enc, i);
    const t0 = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    wall.push(performance.now() - t0);
  }
  let tsMs = null;
  if (qs) {
    const resolve = device.createBuffer({
      size: 16 * repeats,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    const enc = device.createCommandEncoder();
    enc.resolveQuerySet(qs, 0, 2 * repeats, resolve, 0);
    device.queue.submit([enc.finish()]);
    const raw = await readWindow(resolve, 0, 16 * repeats);
    const t = new BigUint64Array(raw.buffer);
    const d = [];
    for (let i = 0; i < repeats; i++) d.push(Number(t[2 * i + 1] - t[2 * i]) / 1e6);
    tsMs = median(d.filter((x) => x > 0));
    resolve.destroy();
    qs.destroy();
  }
  const bad = await verify(dst, bytes);

  // copyBufferToBuffer, wall clock over a batch of copies in one submission
  const b2b = [];
  for (let i = 0; i < Math.min(repeats, 10); i++) {
    const enc = device.createCommandEncoder();
    for (let k = 0; k < 5; k++) enc.copyBufferToBuffer(src, 0, dst, 0, bytes);
    const t0 = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    b2b.push((performance.now() - t0) / 5);
  }
  src.destroy();
  dst.destroy();
  const moved = 2 * bytes;
  const r = {
    size_bytes: bytes,
    bytes_moved: moved,
    kernel_gpu_median_ms: tsMs,
    kernel_gpu_gb_per_s: tsMs ? moved / tsMs / 1e6 : null,
    kernel_wall_median_ms: median(wall),
    kernel_wall_gb_per_s: moved / median(wall) / 1e6,
    b2b_wall_median_ms: median(b2b),
    b2b_wall_gb_per_s: moved / median(b2b) / 1e6,
    verified: bad === null,
    error: bad,
  };
  results.push(r);
  const f = (x) => (x === null ? '-' : x.toFixed(1));
  console.error(
    `  copy ${(bytes / 1048576).toFixed(0).padStart(5)} MiB: kernel ${f(r.kernel_gpu_gb_per_s)} GB/s (gpu ts), ` +
      `${f(r.kernel_wall_gb_per_s)} GB/s (wall); copyBufferToBuffer ${f(r.b2b_wall_gb_per_s)} GB/s (wall)` +
      `${bad ? `  CHECK FAILED: ${bad}` : ''}`,
  );
}
await device.queue.onSubmittedWorkDone();
const report = {
  probe: 'copy-bandwidth',
  adapter: {
    vendor: ai.vendor,
    architecture: ai.architecture,
    device: ai.device,
    description: ai.description,
    isSoftware,
  },
  timestamps: hasTs,
  limits: {
    maxBufferSize: device.limits.maxBufferSize,
    maxStorageBufferBindingSize: device.limits.maxStorageBufferBindingSize,
  },
  repeats,
  results,
  best_gb_per_s: Math.max(...results.map((r) => r.kernel_gpu_gb_per_s ?? r.kernel_wall_gb_per_s)),
  gpu_error: gpuError ? String(gpuError.message) : null,
  node: process.version,
  host: hostname(),
  date: new Date().toISOString(),
};
const json = `${JSON.stringify(report, null, 2)}\n`;
if (out) writeFileSync(out, json);
else process.stdout.write(json);
device.destroy();
const ok = results.every((r) => r.verified) && !gpuError;
if (!ok) console.error(`bandwidth: FAILED (${gpuError ? gpuError.message : 'copy check'})`);
process.exit(ok ? 0 : 1);
