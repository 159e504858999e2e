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
const CHUNK_ROWS = 32;
/** Padding (pixels) after each plane in kernel memory: SIMD lanes read up to 3 past the end. */
const PAD = 8;

/** Arguments of `convolveBand`. */
export interface BandArgs {
  /**
   * 'h': horizontal pass of the separable form over image rows [start, end), raw sums;
   * 'v': vertical pass, '2d': general kernel, both over output rows ry + [start, end),
   * with non-finite sums flagged.
   */
  readonly mode: 'h' | 'v' | '2d';
  readonly src: Planes;
  readonly dst: Planes;
  readonly width: number;
  readonly rx: number;
  readonly ry: number;
  /** Flipped taps (1-D for 'h'/'v', kh x kw row-major for '2d') and their squares. */
  readonly f: Float32Array;
  readonly f2: Float32Array;
  /** Table width for '2d'. */
  readonly kw: number;
  readonly noData: number;
  readonly start: number;
  readonly end: number;
}

/** Convolve one band of rows; see BandArgs. */
export async function convolveBand(a: BandArgs): Promise<void> {
  const k = await kernel();
  // Register accumulators suit the horizontal pass (taps are adjacent); the vertical and
  // 2-D passes stream whole rows per tap (tap-outer), which keeps the loads sequential.
  const conv = k.fn<ConvFn>(a.mode === 'h' ? 'conv' : 'conv_rows');
  const { width: W, rx, ry, mode } = a;
  const n = W - 2 * rx;
  // Non-zero taps as byte offsets from the output pixel's first tap.
  const offs: number[] = [];
  const w: number[] = [];
  const w2: number[] = [];
  const kw = mode === '2d' ? a.kw : a.f.length;
  for (let t = 0; t < a.f.length; t++) {
    if (a.f[t] === 0) continue;
    const j = mode === 'h' ? 0 : mode === 'v' ? t : Math.floor(t / kw);
    const i = mode === 'h' ? t : mode === 'v' ? rx : t % kw;
    offs.push(4 * (j * W + i));
    w.push(a.f[t] as number);
    w2.push(a.f2[t] as number);
  }
  const nt = offs.length;
  const halo = mode === 'h' ? 0 : 2 * ry;
  const chunkIn = (CHUNK_ROWS + halo) * W + PAD;
  const chunkOut = CHUNK_ROWS * W + PAD;
  const tapsBytes = 16 * Math.ceil((3 * nt * 4) / 16);
  const pTidx = 0;
  const pTw = nt * 4;
  const pTw2 = 2 * nt * 4;
  const pImg = tapsBytes;
  const pVr = pImg + 4 * chunkIn;
  const pMsk = pVr + 4 * chunkIn;
  const pOimg = pMsk + 4 * chunkIn;
  const pOvr = pOimg + 4 * chunkOut;
  const pOmsk = pOvr + 4 * chunkOut;
  k.reserve(pOmsk + 4 * chunkOut);
  const buf = k.memory.buffer;
  new Int32Array(buf, pTidx, nt).set(offs);
  new Float32Array(buf, pTw, nt).set(w);
  new Float32Array(buf, pTw2, nt).set(w2);
  const mImg = new Float32Array(buf, pImg, chunkIn);
  const mVr = new Float32Array(buf, pVr, chunkIn);
  const mMsk = new Int32Array(buf, pMsk, chunkIn);
  const oImg = new Float32Array(buf, pOimg, chunkOut);
  const oVr = new Float32Array(buf, pOvr, chunkOut);
  const oMsk = new Int32Array(buf, pOmsk, chunkOut);
  const { src, dst } = a;
  const outRow0 = mode === 'h' ? 0 : ry;
  for (let r0 = a.start; r0 < a.end; r0 += CHUNK_ROWS) {
    const rows = Math.min(CHUNK_ROWS, a.end - r0);
    const inLen = (rows + halo) * W;
    mImg.set(src.img.subarray(r0 * W, r0 * W + inLen));
    mVr.set(src.vr.subarray(r0 * W, r0 * W + inLen));
    mMsk.set(src.msk.subarray(r0 * W, r0 * W + inLen));
    conv(pImg, pVr, pMsk, pOimg, pOvr, pOmsk, W, rows, n, pTidx, pTw, pTw2, nt);
    for (let r = 0; r < rows; r++) {
      const from = r * W;
      const to = (r0 + r + outRow0) * W + rx;
      if (mode === 'h') {
        dst.img.set(oImg.subarray(from, from + n), to);
        dst.vr.set(oVr.subarray(from, from + n), to);
        dst.msk.set(oMsk.subarray(from, from + n), to);
      } else {
        finishRow(dst, to, oImg, oVr, oMsk, from, n, a.noData);
      }
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
