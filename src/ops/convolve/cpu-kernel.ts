/**
 * Band kernels of `convolve` for the CPU backend. They run in worker threads (or inline)
 * on disjoint row bands [start, end) and touch only typed arrays over shared memory.
 *
 * The multiply-adds run in a WebAssembly SIMD kernel (CONVOLVE_WAT below): f32x4 lanes,
 * each product and each partial sum rounded to float32 in kernel order, which is the
 * formula of shaders/convolve.wgsl. Rows are copied into the kernel's linear memory in
 * chunks of CHUNK_ROWS output rows, so memory stays small whatever the band.
 */
import { compileWat, WasmScratch } from '../../compute/cpu/wasm.ts';

/** Planes of a MaskedImage as flat arrays (row-major, `width` columns). */
export interface Planes {
  readonly img: Float32Array;
  readonly vr: Float32Array;
  readonly msk: Int32Array;
}

/**
 * conv(img, vr, msk, oimg, ovr, omsk, stride, rows, n, tidx, tw, tw2, nt): for each of
 * `rows` rows r and columns x = 0, 4, ... < n, with base = 4 (r stride + x) bytes:
 *   o*[base] = sum over taps k of tw[k] * in[base + tidx[k]] (f32x4), mask OR-ed.
 * tidx holds byte offsets. Lanes past n are computed and ignored by the caller.
 */
const CONVOLVE_WAT = `
(module
  (import "env" "mem" (memory 1))
  (func (export "conv")
    (param $img i32) (param $vr i32) (param $msk i32)
    (param $oimg i32) (param $ovr i32) (param $omsk i32)
    (param $stride i32) (param $rows i32) (param $n i32)
    (param $tidx i32) (param $tw i32) (param $tw2 i32) (param $nt i32)
    (local $r i32) (local $x i32) (local $k i32) (local $base i32) (local $o i32) (local $ko i32)
    (local $ai v128) (local $av v128) (local $am v128)
    (block $rdone (loop $rloop
      (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $x (i32.const 0))
      (block $xdone (loop $xloop
        (br_if $xdone (i32.ge_u (local.get $x) (local.get $n)))
        (local.set $base (i32.shl
          (i32.add (i32.mul (local.get $r) (local.get $stride)) (local.get $x)) (i32.const 2)))
        (local.set $ai (v128.const i32x4 0 0 0 0))
        (local.set $av (v128.const i32x4 0 0 0 0))
        (local.set $am (v128.const i32x4 0 0 0 0))
        (local.set $k (i32.const 0))
        (block $kdone (loop $kloop
          (br_if $kdone (i32.ge_u (local.get $k) (local.get $nt)))
          (local.set $ko (i32.shl (local.get $k) (i32.const 2)))
          (local.set $o (i32.add (local.get $base) (i32.load (i32.add (local.get $tidx) (local.get $ko)))))
          (local.set $ai (f32x4.add (local.get $ai)
            (f32x4.mul (f32x4.splat (f32.load (i32.add (local.get $tw) (local.get $ko))))
                       (v128.load (i32.add (local.get $img) (local.get $o))))))
          (local.set $av (f32x4.add (local.get $av)
            (f32x4.mul (f32x4.splat (f32.load (i32.add (local.get $tw2) (local.get $ko))))
                       (v128.load (i32.add (local.get $vr) (local.get $o))))))
          (local.set $am (v128.or (local.get $am) (v128.load (i32.add (local.get $msk) (local.get $o)))))
          (local.set $k (i32.add (local.get $k) (i32.const 1)))
          (br $kloop)))
        (v128.store (i32.add (local.get $oimg) (local.get $base)) (local.get $ai))
        (v128.store (i32.add (local.get $ovr) (local.get $base)) (local.get $av))
        (v128.store (i32.add (local.get $omsk) (local.get $base)) (local.get $am))
        (local.set $x (i32.add (local.get $x) (i32.const 4)))
        (br $xloop)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rloop))))
  (func (export "conv_rows")
    (param $img i32) (param $vr i32) (param $msk i32)
    (param $oimg i32) (param $ovr i32) (param $omsk i32)
    (param $stride i32) (param $rows i32) (param $n i32)
    (param $tidx i32) (param $tw i32) (param $tw2 i32) (param $nt i32)
    (local $r i32) (local $x i32) (local $k i32) (local $row i32) (local $b i32) (local $o i32) (local $ko i32)
    (local $w v128) (local $w2 v128) (local $end i32)
    (block $rdone (loop $rloop
      (br_if $rdone (i32.ge_u (local.get $r) (local.get $rows)))
      (local.set $row (i32.shl (i32.mul (local.get $r) (local.get $stride)) (i32.const 2)))
      (local.set $end (i32.add (local.get $row) (i32.shl (local.get $n) (i32.const 2))))
      ;; zero the accumulators (the output row)
      (local.set $b (local.get $row))
      (block $zdone (loop $zloop
        (br_if $zdone (i32.ge_u (local.get $b) (local.get $end)))
        (v128.store (i32.add (local.get $oimg) (local.get $b)) (v128.const i32x4 0 0 0 0))
        (v128.store (i32.add (local.get $ovr) (local.get $b)) (v128.const i32x4 0 0 0 0))
        (v128.store (i32.add (local.get $omsk) (local.get $b)) (v128.const i32x4 0 0 0 0))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br $zloop)))
      (local.set $k (i32.const 0))
      (block $kdone (loop $kloop
        (br_if $kdone (i32.ge_u (local.get $k) (local.get $nt)))
        (local.set $ko (i32.shl (local.get $k) (i32.const 2)))
        (local.set $o (i32.load (i32.add (local.get $tidx) (local.get $ko))))
        (local.set $w (f32x4.splat (f32.load (i32.add (local.get $tw) (local.get $ko)))))
        (local.set $w2 (f32x4.splat (f32.load (i32.add (local.get $tw2) (local.get $ko)))))
        (local.set $b (local.get $row))
        (block $xdone (loop $xloop
          (br_if $xdone (i32.ge_u (local.get $b) (local.get $end)))
          (v128.store (i32.add (local.get $oimg) (local.get $b))
            (f32x4.add (v128.load (i32.add (local.get $oimg) (local.get $b)))
              (f32x4.mul (local.get $w) (v128.load (i32.add (local.get $img) (i32.add (local.get $b) (local.get $o)))))))
          (v128.store (i32.add (local.get $ovr) (local.get $b))
            (f32x4.add (v128.load (i32.add (local.get $ovr) (local.get $b)))
              (f32x4.mul (local.get $w2) (v128.load (i32.add (local.get $vr) (i32.add (local.get $b) (local.get $o)))))))
          (v128.store (i32.add (local.get $omsk) (local.get $b))
            (v128.or (v128.load (i32.add (local.get $omsk) (local.get $b)))
              (v128.load (i32.add (local.get $msk) (i32.add (local.get $b) (local.get $o))))))
          (local.set $b (i32.add (local.get $b) (i32.const 16)))
          (br $xloop)))
        (local.set $k (i32.add (local.get $k) (i32.const 1)))
        (br $kloop)))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br $rloop)))))
`;

type ConvFn = (...a: number[]) => void;

let scratch: Promise<WasmScratch> | null = null;

function kernel(): Promise<WasmScratch> {
  scratch ??= compileWat('convolve', CONVOLVE_WAT).then((m) => new WasmScratch(m));
  return scratch;
}

/** Output rows per chunk copied through the kernel's memory. */
const CHUNK_ROWS = 64;
/** Padding (pixels) after each plane in kernel memory: SIMD lanes read up to 3 past the end. */
const PAD = 8;

/** Non-zero taps as (byte offset, weight, weight^2); zero taps neither add nor OR mask bits. */
function tapTable(f: Float32Array, f2: Float32Array, offsetOf: (t: number) => number) {
  const offs: number[] = [];
  const w: number[] = [];
  const w2: number[] = [];
  for (let t = 0; t < f.length; t++) {
    if (f[t] === 0) continue;
    offs.push(4 * offsetOf(t));
    w.push(f[t] as number);
    w2.push(f2[t] as number);
  }
  return { offs, w, w2, nt: offs.length };
}

/** A bump allocator over the kernel's memory (16-byte aligned regions). */
class Layout {
  private top = 0;
  take(bytes: number): number {
    const at = this.top;
    this.top += 16 * Math.ceil(bytes / 16);
    return at;
  }
  get bytes(): number {
    return this.top;
  }
}

/** Write a tap table at its three pointers. */
function putTaps(
  buf: ArrayBuffer,
  p: { idx: number; w: number; w2: number },
  t: ReturnType<typeof tapTable>,
): void {
  new Int32Array(buf, p.idx, t.nt).set(t.offs);
  new Float32Array(buf, p.w, t.nt).set(t.w);
  new Float32Array(buf, p.w2, t.nt).set(t.w2);
}

interface Common {
  readonly src: Planes;
  readonly dst: Planes;
  readonly width: number;
  readonly rx: number;
  readonly ry: number;
  readonly noData: number;
  /** Non-finite input pixels enter the sums as image 0, variance 0. */
  readonly zeroNonFinite: boolean;
  /** Interior output rows ry + [start, end). */
  readonly start: number;
  readonly end: number;
}

/**
 * Separable kernel over interior output rows ry + [start, end), both passes fused: input
 * rows stream through the kernel's memory once; the horizontal pass writes into a window
 * of 2 ry + CHUNK_ROWS rows that the vertical pass reads in place, and the window slides
 * by CHUNK_ROWS (its last 2 ry rows move to the front), so no row is filtered twice
 * within a band and no full-size intermediate plane exists.
 */
export async function convolveSeparable(
  a: Common & { fx: Float32Array; fx2: Float32Array; fy: Float32Array; fy2: Float32Array },
): Promise<void> {
  const k = await kernel();
  const convH = k.fn<ConvFn>('conv');
  const convV = k.fn<ConvFn>('conv_rows');
  const { width: W, rx, ry, src, dst, noData } = a;
  const n = W - 2 * rx;
  const hT = tapTable(a.fx, a.fx2, (t) => t);
  const vT = tapTable(a.fy, a.fy2, (t) => t * W);
  const win = CHUNK_ROWS + 2 * ry;
  const L = new Layout();
  const ph = { idx: L.take(4 * hT.nt), w: L.take(4 * hT.nt), w2: L.take(4 * hT.nt) };
  const pv = { idx: L.take(4 * vT.nt), w: L.take(4 * vT.nt), w2: L.take(4 * vT.nt) };
  const inLen = win * W + PAD;
  const winLen = win * W + PAD;
  const outLen = CHUNK_ROWS * W + PAD;
  const pIn = [L.take(4 * inLen), L.take(4 * inLen), L.take(4 * inLen)] as const;
  const pWin = [L.take(4 * winLen), L.take(4 * winLen), L.take(4 * winLen)] as const;
  const pOut = [L.take(4 * outLen), L.take(4 * outLen), L.take(4 * outLen)] as const;
  k.reserve(L.bytes);
  const buf = k.memory.buffer;
  putTaps(buf, ph, hT);
  putTaps(buf, pv, vT);
  const inImg = new Float32Array(buf, pIn[0], inLen);
  const inVr = new Float32Array(buf, pIn[1], inLen);
  const inMsk = new Int32Array(buf, pIn[2], inLen);
  const wImg = new Float32Array(buf, pWin[0], winLen);
  const wVr = new Float32Array(buf, pWin[1], winLen);
  const wMsk = new Int32Array(buf, pWin[2], winLen);
  const oImg = new Float32Array(buf, pOut[0], outLen);
  const oVr = new Float32Array(buf, pOut[1], outLen);
  const oMsk = new Int32Array(buf, pOut[2], outLen);
  // Window row 0 holds image row `filled0`; `have` rows are valid.
  let have = 0;
  for (let r0 = a.start; r0 < a.end; r0 += CHUNK_ROWS) {
    const rows = Math.min(CHUNK_ROWS, a.end - r0);
    // Output rows ry + r0 .. need image rows r0 .. r0 + rows + 2 ry - 1 in the window.
    if (have > 0) {
      // Slide: keep the last 2 ry rows (image rows r0 .. r0 + 2 ry - 1).
      const keepFrom = (have - 2 * ry) * W;
      wImg.copyWithin(0, keepFrom, have * W);
      wVr.copyWithin(0, keepFrom, have * W);
      wMsk.copyWithin(0, keepFrom, have * W);
      have = 2 * ry;
    }
    const need = rows + 2 * ry;
    const y0 = r0 + have; // first image row still to filter
    const add = need - have;
    const from = y0 * W;
    inImg.set(src.img.subarray(from, from + add * W));
    inVr.set(src.vr.subarray(from, from + add * W));
    if (a.zeroNonFinite) zeroNonFinite(inImg, inVr, add * W);
    inMsk.set(src.msk.subarray(from, from + add * W));
    const at = 4 * have * W;
    convH(
      pIn[0],
      pIn[1],
      pIn[2],
      pWin[0] + at,
      pWin[1] + at,
      pWin[2] + at,
      W,
      add,
      n,
      ph.idx,
      ph.w,
      ph.w2,
      hT.nt,
    );
    have = need;
    convV(
      pWin[0],
      pWin[1],
      pWin[2],
      pOut[0],
      pOut[1],
      pOut[2],
      W,
      rows,
      n,
      pv.idx,
      pv.w,
      pv.w2,
      vT.nt,
    );
    for (let r = 0; r < rows; r++)
      finishRow(dst, (r0 + r + ry) * W + rx, oImg, oVr, oMsk, r * W, n, noData);
  }
}

/** General 2-D kernel (kh x kw, flipped, row-major) over interior output rows ry + [start, end). */
export async function convolve2D(
  a: Common & { f: Float32Array; f2: Float32Array; kw: number },
): Promise<void> {
  const k = await kernel();
  const conv = k.fn<ConvFn>('conv_rows');
  const { width: W, rx, ry, src, dst, noData, kw } = a;
  const n = W - 2 * rx;
  const t = tapTable(a.f, a.f2, (i) => Math.floor(i / kw) * W + (i % kw));
  const L = new Layout();
  const pt = { idx: L.take(4 * t.nt), w: L.take(4 * t.nt), w2: L.take(4 * t.nt) };
  const inLen = (CHUNK_ROWS + 2 * ry) * W + PAD;
  const outLen = CHUNK_ROWS * W + PAD;
  const pIn = [L.take(4 * inLen), L.take(4 * inLen), L.take(4 * inLen)] as const;
  const pOut = [L.take(4 * outLen), L.take(4 * outLen), L.take(4 * outLen)] as const;
  k.reserve(L.bytes);
  const buf = k.memory.buffer;
  putTaps(buf, pt, t);
  const inImg = new Float32Array(buf, pIn[0], inLen);
  const inVr = new Float32Array(buf, pIn[1], inLen);
  const inMsk = new Int32Array(buf, pIn[2], inLen);
  const oImg = new Float32Array(buf, pOut[0], outLen);
  const oVr = new Float32Array(buf, pOut[1], outLen);
  const oMsk = new Int32Array(buf, pOut[2], outLen);
  for (let r0 = a.start; r0 < a.end; r0 += CHUNK_ROWS) {
    const rows = Math.min(CHUNK_ROWS, a.end - r0);
    const len = (rows + 2 * ry) * W;
    inImg.set(src.img.subarray(r0 * W, r0 * W + len));
    inVr.set(src.vr.subarray(r0 * W, r0 * W + len));
    if (a.zeroNonFinite) zeroNonFinite(inImg, inVr, len);
    inMsk.set(src.msk.subarray(r0 * W, r0 * W + len));
    conv(pIn[0], pIn[1], pIn[2], pOut[0], pOut[1], pOut[2], W, rows, n, pt.idx, pt.w, pt.w2, t.nt);
    for (let r = 0; r < rows; r++)
      finishRow(dst, (r0 + r + ry) * W + rx, oImg, oVr, oMsk, r * W, n, noData);
  }
}

/** Set image and variance to 0 where either is not finite, in the first `n` pixels. */
function zeroNonFinite(img: Float32Array, vr: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    const a = img[i] as number;
    const v = vr[i] as number;
    if (a - a !== 0 || v - v !== 0) {
      img[i] = 0;
      vr[i] = 0;
    }
  }
}

/** Copy one finished row segment out, flagging non-finite sums (NaN, +Inf, NO_DATA). */
function finishRow(
  dst: Planes,
  at: number,
  sImg: Float32Array,
  sVr: Float32Array,
  sMsk: Int32Array,
  from: number,
  n: number,
  noData: number,
): void {
  const { img, vr, msk } = dst;
  for (let x = 0; x < n; x++) {
    const i = sImg[from + x] as number;
    const v = sVr[from + x] as number;
    const m = sMsk[from + x] as number;
    if (i - i !== 0 || v - v !== 0) {
      // x - x is NaN exactly when x is NaN or +-Inf.
      img[at + x] = Number.NaN;
      vr[at + x] = Number.POSITIVE_INFINITY;
      msk[at + x] = m | noData;
    } else {
      img[at + x] = i;
      vr[at + x] = v;
      msk[at + x] = m;
    }
  }
}

/**
 * The border the kernel cannot reach, rows [start, end): 'nan' writes (NaN, edgeBits,
 * +Inf); 'copy' copies the input and ORs edgeBits into the mask.
 */
export function fillEdges(a: {
  src: Planes;
  dst: Planes;
  width: number;
  height: number;
  rx: number;
  ry: number;
  copy: boolean;
  edgeBits: number;
  start: number;
  end: number;
}): void {
  const { width: W, height: H, rx, ry, copy, edgeBits } = a;
  const put = (i: number) => {
    if (copy) {
      a.dst.img[i] = a.src.img[i] as number;
      a.dst.vr[i] = a.src.vr[i] as number;
      a.dst.msk[i] = (a.src.msk[i] as number) | edgeBits;
    } else {
      a.dst.img[i] = Number.NaN;
      a.dst.vr[i] = Number.POSITIVE_INFINITY;
      a.dst.msk[i] = edgeBits;
    }
  };
  for (let y = a.start; y < a.end; y++) {
    const row = y * W;
    if (y < ry || y >= H - ry) {
      for (let x = 0; x < W; x++) put(row + x);
    } else {
      for (let x = 0; x < rx; x++) put(row + x);
      for (let x = W - rx; x < W; x++) put(row + x);
    }
  }
}
