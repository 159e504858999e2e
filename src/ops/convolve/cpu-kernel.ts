/**
 * Row kernels of `convolve` for the CPU backend. They run in worker threads (or inline)
 * on disjoint row bands [start, end) and touch only typed arrays over shared memory.
 * Each loops tap-outer / pixel-inner over a per-task scratch row: the inner loops are
 * plain streaming multiply-adds that V8 compiles tightly, and storing into a Float32Array
 * rounds every partial sum to f32 exactly as the GPU does. No per-pixel allocation.
 */

/** Planes of a MaskedImage as flat arrays (row-major, `width` columns). */
export interface Planes {
  readonly img: Float32Array;
  readonly vr: Float32Array;
  readonly msk: Int32Array;
}

interface Band {
  readonly start: number;
  readonly end: number;
}

interface Taps {
  readonly idx: Int32Array;
  readonly w: Float32Array;
  readonly w2: Float32Array;
}

/** The non-zero taps of a flipped kernel (zero taps neither add nor OR mask bits). */
function nonZero(f: Float32Array, f2: Float32Array, stride = 1, width = f.length): Taps {
  const idx: number[] = [];
  const w: number[] = [];
  const w2: number[] = [];
  for (let k = 0; k < f.length; k++) {
    if (f[k] !== 0) {
      idx.push(Math.floor(k / width) * stride + (k % width));
      w.push(f[k] as number);
      w2.push(f2[k] as number);
    }
  }
  return { idx: Int32Array.from(idx), w: Float32Array.from(w), w2: Float32Array.from(w2) };
}

const fround = Math.fround;

/** Horizontal pass of the separable form: rows [start, end), columns [rx, W - rx). */
export function convolveRowsH(
  a: Band & {
    src: Planes;
    dst: Planes;
    width: number;
    rx: number;
    fx: Float32Array;
    fx2: Float32Array;
  },
): void {
  const { width: W, rx } = a;
  const { img, vr, msk } = a.src;
  const { img: oImg, vr: oVar, msk: oMsk } = a.dst;
  const t = nonZero(a.fx, a.fx2);
  const n = W - 2 * rx;
  const accI = new Float32Array(n);
  const accV = new Float32Array(n);
  const accM = new Int32Array(n);
  for (let y = a.start; y < a.end; y++) {
    const row = y * W;
    accI.fill(0);
    accV.fill(0);
    accM.fill(0);
    for (let k = 0; k < t.idx.length; k++) {
      const base = row + (t.idx[k] as number);
      const w = t.w[k] as number;
      const w2 = t.w2[k] as number;
      for (let x = 0; x < n; x++) {
        accI[x] = (accI[x] as number) + fround(w * (img[base + x] as number));
        accV[x] = (accV[x] as number) + fround(w2 * (vr[base + x] as number));
        accM[x] = (accM[x] as number) | (msk[base + x] as number);
      }
    }
    oImg.set(accI, row + rx);
    oVar.set(accV, row + rx);
    oMsk.set(accM, row + rx);
  }
}

/** Flag non-finite sums and write one finished interior row segment. */
function finishRow(
  dst: Planes,
  at: number,
  accI: Float32Array,
  accV: Float32Array,
  accM: Int32Array,
  noData: number,
): void {
  const { img, vr, msk } = dst;
  for (let x = 0; x < accI.length; x++) {
    const i = accI[x] as number;
    const v = accV[x] as number;
    if (i - i !== 0 || v - v !== 0) {
      // NaN or +-Inf: x - x is NaN exactly for non-finite x.
      img[at + x] = Number.NaN;
      vr[at + x] = Number.POSITIVE_INFINITY;
      msk[at + x] = (accM[x] as number) | noData;
    } else {
      img[at + x] = i;
      vr[at + x] = v;
      msk[at + x] = accM[x] as number;
    }
  }
}

/**
 * Vertical pass of the separable form: interior rows ry + [start, end), columns
 * [rx, W - rx), reading the horizontal pass's output.
 */
export function convolveRowsV(
  a: Band & {
    src: Planes;
    dst: Planes;
    width: number;
    rx: number;
    ry: number;
    fy: Float32Array;
    fy2: Float32Array;
    noData: number;
  },
): void {
  const { width: W, rx, ry } = a;
  const { img, vr, msk } = a.src;
  const t = nonZero(a.fy, a.fy2, W, 1);
  const n = W - 2 * rx;
  const accI = new Float32Array(n);
  const accV = new Float32Array(n);
  const accM = new Int32Array(n);
  for (let r = a.start; r < a.end; r++) {
    const y = r + ry;
    const top = (y - ry) * W + rx;
    accI.fill(0);
    accV.fill(0);
    accM.fill(0);
    for (let k = 0; k < t.idx.length; k++) {
      const base = top + (t.idx[k] as number);
      const w = t.w[k] as number;
      const w2 = t.w2[k] as number;
      for (let x = 0; x < n; x++) {
        accI[x] = (accI[x] as number) + fround(w * (img[base + x] as number));
        accV[x] = (accV[x] as number) + fround(w2 * (vr[base + x] as number));
        accM[x] = (accM[x] as number) | (msk[base + x] as number);
      }
    }
    finishRow(a.dst, y * W + rx, accI, accV, accM, a.noData);
  }
}

/** General 2-D kernel: interior rows ry + [start, end), columns [rx, W - rx). */
export function convolveRows2D(
  a: Band & {
    src: Planes;
    dst: Planes;
    width: number;
    rx: number;
    ry: number;
    kw: number;
    f: Float32Array;
    f2: Float32Array;
    noData: number;
  },
): void {
  const { width: W, rx, ry } = a;
  const { img, vr, msk } = a.src;
  const t = nonZero(a.f, a.f2, W, a.kw);
  const n = W - 2 * rx;
  const accI = new Float32Array(n);
  const accV = new Float32Array(n);
  const accM = new Int32Array(n);
  for (let r = a.start; r < a.end; r++) {
    const y = r + ry;
    const top = (y - ry) * W;
    accI.fill(0);
    accV.fill(0);
    accM.fill(0);
    for (let k = 0; k < t.idx.length; k++) {
      const base = top + (t.idx[k] as number);
      const w = t.w[k] as number;
      const w2 = t.w2[k] as number;
      for (let x = 0; x < n; x++) {
        accI[x] = (accI[x] as number) + fround(w * (img[base + x] as number));
        accV[x] = (accV[x] as number) + fround(w2 * (vr[base + x] as number));
        accM[x] = (accM[x] as number) | (msk[base + x] as number);
      }
    }
    finishRow(a.dst, y * W + rx, accI, accV, accM, a.noData);
  }
}

/**
 * The border the kernel cannot reach, rows [start, end): 'nan' writes (NaN, edgeBits,
 * +Inf); 'copy' copies the input and ORs edgeBits into the mask.
 */
export function fillEdges(
  a: Band & {
    src: Planes;
    dst: Planes;
    width: number;
    height: number;
    rx: number;
    ry: number;
    copy: boolean;
    edgeBits: number;
  },
): void {
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
