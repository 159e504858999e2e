/**
 * Row kernels of `stack` for the CPU backend (worker threads over shared memory). The
 * arithmetic is float32 (Math.fround after every operation) in the order of
 * shaders/stack.wgsl, so both backends keep, clip and sum the same inputs.
 */

import { compileWat, WasmScratch } from '../../compute/cpu/wasm.ts';
import { SORT_UNROLL_MAX, stackWat } from './wat.ts';

const fround = Math.fround;

/** The N input planes (row-major, `width` columns, whole images). */
export interface StackInputs {
  readonly imgs: readonly Float32Array[];
  readonly vrs: readonly Float32Array[];
  readonly msks: readonly Int32Array[];
}

/** Bytes of input planes per chunk copied into the kernel's memory (fits in L2). */
const CHUNK_BYTES = 1 << 18;

type KernelFn = (...a: number[]) => void;

/** Kernel instances by unrolled sort size (0: any n). */
const scratches = new Map<number, Promise<WasmScratch>>();

/** Pixels per chunk (a multiple of 4) for `n` inputs. */
function chunkPixels(n: number): number {
  return Math.max(64, Math.min(16384, Math.floor(CHUNK_BYTES / (12 * n)) & ~3));
}

/** The kernel module for `n` inputs (the sort unrolled for small n), once per thread. */
function wasmKernel(n: number): Promise<WasmScratch> {
  const sortN = n >= 2 && n <= SORT_UNROLL_MAX ? n : 0;
  let k = scratches.get(sortN);
  if (!k) {
    k = compileWat(`stack-${sortN}`, stackWat(sortN)).then((m) => new WasmScratch(m));
    scratches.set(sortN, k);
  }
  return k;
}

/**
 * Sum and count of the variance over each input's good pixels in rows [start, end), by
 * the WASM kernel `varsum`: each row in chunks of 64 pixels, a chunk summed in float32 by
 * the pairwise tree of ./weights.ts, chunk sums added in float64 in row-major order.
 */
export async function varianceSums(
  a: StackInputs & { width: number; badBits: number; start: number; end: number },
): Promise<{ sums: number[]; counts: number[] }> {
  const k = await wasmKernel(a.imgs.length);
  // Hoisted: properties of a structured-cloned object are slow to read.
  const { imgs, vrs, msks, width, badBits } = a;
  const n = imgs.length;
  const chunksPerRow = Math.ceil(width / 64);
  const padded = 64 * chunksPerRow;
  // Rows per call: as many as fit the chunk budget (at least one).
  const rowsPerCall = Math.max(1, Math.floor(CHUNK_BYTES / (12 * n * padded)));
  const stride = 4 * rowsPerCall * padded;
  const pSum = 0;
  const pCnt = 16 * Math.ceil((8 * n) / 16);
  const pImg = pCnt + 16 * n;
  const pVr = pImg + n * stride;
  const pMsk = pVr + n * stride;
  k.reserve(pMsk + n * stride);
  const varsum = k.fn<KernelFn>('varsum');
  const buf = k.memory.buffer;
  const sums = new Float64Array(buf, pSum, n);
  const cnts = new Int32Array(buf, pCnt, 4 * n);
  sums.fill(0);
  cnts.fill(0);
  const plane = rowsPerCall * padded;
  const mImg = new Float32Array(buf, pImg, n * plane);
  const mVr = new Float32Array(buf, pVr, n * plane);
  const mMsk = new Int32Array(buf, pMsk, n * plane);
  // Padding past the width: NaN images (not good), zero variance and mask.
  mImg.fill(Number.NaN);
  mVr.fill(0);
  mMsk.fill(0);
  for (let r0 = a.start; r0 < a.end; r0 += rowsPerCall) {
    const rows = Math.min(rowsPerCall, a.end - r0);
    for (let i = 0; i < n; i++) {
      const img = imgs[i] as Float32Array;
      const vr = vrs[i] as Float32Array;
      const msk = msks[i] as Int32Array;
      for (let r = 0; r < rows; r++) {
        const from = (r0 + r) * width;
        const to = i * plane + r * padded;
        mImg.set(img.subarray(from, from + width), to);
        mVr.set(vr.subarray(from, from + width), to);
        mMsk.set(msk.subarray(from, from + width), to);
      }
    }
    varsum(n, rows * chunksPerRow, stride, badBits, pImg, pVr, pMsk, pSum, pCnt);
  }
  const counts: number[] = [];
  for (let i = 0; i < n; i++)
    counts.push(
      (cnts[4 * i] as number) +
        (cnts[4 * i + 1] as number) +
        (cnts[4 * i + 2] as number) +
        (cnts[4 * i + 3] as number),
    );
  return { sums: Array.from(sums), counts };
}

/** Arguments of `stackRows`. */
export interface StackRowsArgs extends StackInputs {
  readonly width: number;
  readonly statCode: number;
  readonly numSigmaClip: number;
  readonly numIter: number;
  readonly perPixel: boolean;
  readonly weights: Float32Array;
  readonly badBits: number;
  readonly noDataBits: number;
  readonly clippedBits: number;
  readonly rejectedBits: number;
  readonly thresholdBits: Int32Array;
  readonly thresholds: Float32Array;
  readonly outImg: Float32Array;
  readonly outVar: Float32Array;
  readonly outMsk: Int32Array;
  readonly coverage: Int32Array;
  readonly start: number;
  readonly end: number;
}

/**
 * Stack rows [start, end) of the patch; see spec.ts for the statistics. The pixels of
 * the band are copied, a chunk at a time, into the memory of the WASM SIMD kernel
 * (wat.ts), which writes the chunk's outputs there to be copied out.
 */
export async function stackRows(a: StackRowsArgs): Promise<void> {
  const k = await wasmKernel(a.imgs.length);
  // Hoisted: properties of a structured-cloned object are slow to read.
  const { imgs, vrs, msks, width, statCode, perPixel, weights, thresholdBits, thresholds } = a;
  const n = imgs.length;
  const nt = thresholds.length;
  const from = a.start * width;
  const to = a.end * width;
  const kernel = k.fn<KernelFn>(`stack_${statCode}_${perPixel ? 1 : 0}`);
  // Chunk of pixels (a multiple of 4), its planes' stride in bytes.
  const ch = chunkPixels(n);
  const stride = 4 * ch;
  const pW = 0;
  const pWg = pW + 4 * n;
  const pTb = pWg + 4 * n;
  const pTt = pTb + 4 * nt;
  const pRej = 16 * Math.ceil((pTt + 4 * nt) / 16);
  const pG = pRej + 16 * nt;
  const pS = pG + 16 * n;
  const pK = pS + 16 * n;
  const pNx = pK + 16 * n;
  const pWs = pNx + 16 * n;
  const pImg = pWs + 16 * n;
  const pVr = pImg + n * stride;
  const pMsk = pVr + n * stride;
  const pOImg = pMsk + n * stride;
  const pOVar = pOImg + stride;
  const pOMsk = pOVar + stride;
  const pOCov = pOMsk + stride;
  k.reserve(pOCov + stride);
  const buf = k.memory.buffer;
  const w32 = new Float32Array(buf, pW, n);
  w32.set(weights.subarray(0, n));
  // Per-warp weights usable (> 0 and finite): all-ones masks.
  const wOk = new Int32Array(buf, pWg, n);
  for (let i = 0; i < n; i++) {
    const w = w32[i] as number;
    wOk[i] = w > 0 && w - w === 0 ? -1 : 0;
  }
  new Int32Array(buf, pTb, nt).set(thresholdBits);
  new Float32Array(buf, pTt, nt).set(thresholds);
  const mImg = new Float32Array(buf, pImg, n * ch);
  const mVr = new Float32Array(buf, pVr, n * ch);
  const mMsk = new Int32Array(buf, pMsk, n * ch);
  const oImg = new Float32Array(buf, pOImg, ch);
  const oVar = new Float32Array(buf, pOVar, ch);
  const oMsk = new Int32Array(buf, pOMsk, ch);
  const oCov = new Int32Array(buf, pOCov, ch);
  const { outImg, outVar, outMsk, coverage } = a;
  const kf = fround(a.numSigmaClip);
  const { numIter, badBits, noDataBits, clippedBits, rejectedBits } = a;
  for (let p0 = from; p0 < to; p0 += ch) {
    const cnt = Math.min(ch, to - p0);
    for (let i = 0; i < n; i++) {
      mImg.set((imgs[i] as Float32Array).subarray(p0, p0 + cnt), i * ch);
      mVr.set((vrs[i] as Float32Array).subarray(p0, p0 + cnt), i * ch);
      mMsk.set((msks[i] as Int32Array).subarray(p0, p0 + cnt), i * ch);
    }
    kernel(
      n,
      nt,
      (cnt + 3) >> 2,
      stride,
      numIter,
      kf,
      badBits,
      noDataBits,
      clippedBits,
      rejectedBits,
      pW,
      pWg,
      pTb,
      pTt,
      pRej,
      pG,
      pS,
      pK,
      pNx,
      pWs,
      pImg,
      pVr,
      pMsk,
      pOImg,
      pOVar,
      pOMsk,
      pOCov,
    );
    outImg.set(oImg.subarray(0, cnt), p0);
    outVar.set(oVar.subarray(0, cnt), p0);
    outMsk.set(oMsk.subarray(0, cnt), p0);
    coverage.set(oCov.subarray(0, cnt), p0);
  }
}
