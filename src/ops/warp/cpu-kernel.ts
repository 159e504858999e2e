/**
 * Row kernel of `warp` for the CPU backend: one source onto rows of its target region,
 * by the WebAssembly kernel of wat.ts (warpRows; warpRowsJs is the plain JS version).
 * Arithmetic in float64 (positions, weights, sums), results rounded to float32 once.
 * The Lanczos kernel comes from a table (LANCZOS_TABLE_RESOLUTION samples per pixel,
 * linear interpolation, error < 1e-7; exact at whole pixels); the GPU evaluates the
 * same kernel directly in float32. The backends agree to ~1e-6 relative.
 */

import { compileWat, WasmScratch } from '../../compute/cpu/wasm.ts';
import { warpWat } from './wat.ts';

/**
 * Smallest bilinear weight for which a source pixel's mask bits reach the target pixel
 * (so a sub-1e-5 px jitter of the mapping does not smear masks onto neighbours).
 */
export const MASK_WEIGHT_MIN = 1e-5;

export interface WarpRowsArgs {
  readonly srcImg: Float32Array;
  readonly srcVar: Float32Array;
  readonly srcMsk: Int32Array;
  readonly srcW: number;
  readonly srcH: number;
  /** Grid (see grid.ts), in target parent pixels. */
  readonly gx0: number;
  readonly gy0: number;
  readonly step: number;
  readonly gnx: number;
  readonly gny: number;
  readonly gix: Int32Array;
  readonly gfx: Float32Array;
  readonly giy: Int32Array;
  readonly gfy: Float32Array;
  readonly garea: Float32Array;
  /** Region to fill, target parent pixels: columns rx0 .. rx0 + rw - 1, rows ry0 + [start, end). */
  readonly rx0: number;
  readonly ry0: number;
  readonly rw: number;
  /** Output planes on the target box starting at (ox0, oy0), `ow` columns. */
  readonly outImg: Float32Array;
  readonly outVar: Float32Array;
  readonly outMsk: Int32Array;
  readonly ox0: number;
  readonly oy0: number;
  readonly ow: number;
  /** Kernel half-width and kind (0 Lanczos, 1 bilinear). */
  readonly n: number;
  readonly kernelCode: number;
  readonly noData: number;
  readonly start: number;
  readonly end: number;
}

/** Bilinear weights (1 - f, f); returns their sum. */
function bilinearWeights(f: number, out: Float64Array): number {
  out[0] = 1 - f;
  out[1] = f;
  return 1;
}

/** Samples per pixel of the tabulated Lanczos kernels (linear interpolation: < 1e-7 error). */
export const LANCZOS_TABLE_RESOLUTION = 4096;

const tables = new Map<number, Float64Array>();

/**
 * L(d) for d = -n .. n in steps of 1 / LANCZOS_TABLE_RESOLUTION (one spare sample at the
 * end); exactly 1 at d = 0 and 0 at the other integers, so whole-pixel shifts are exact.
 */
export function lanczosTable(n: number): Float64Array {
  let t = tables.get(n);
  if (!t) {
    const R = LANCZOS_TABLE_RESOLUTION;
    t = new Float64Array(2 * n * R + 2);
    for (let i = 0; i < t.length; i++) {
      const d = i / R - n;
      if (i % R === 0) t[i] = d === 0 ? 1 : 0;
      else if (Math.abs(d) >= n) t[i] = 0;
      else
        t[i] =
          (n * Math.sin(Math.PI * d) * Math.sin((Math.PI * d) / n)) / (Math.PI * Math.PI * d * d);
    }
    tables.set(n, t);
  }
  return t;
}

/**
 * Lanczos-n weights for taps k = -n + 1 .. n at distance f - k into `out`; returns their
 * sum. The taps sit exactly one pixel (R samples) apart in the table, so one floor
 * serves them all.
 */
function lanczosWeights(f: number, n: number, table: Float64Array, out: Float64Array): number {
  const R = LANCZOS_TABLE_RESOLUTION;
  const taps = 2 * n;
  // Tap t = 0 (k = -n + 1) is at d = f + n - 1, table position (f + 2n - 1) R.
  const q = (f + taps - 1) * R;
  let i = Math.floor(q);
  const fr = q - i;
  let sum = 0;
  for (let t = 0; t < taps; t++, i -= R) {
    const a = table[i] as number;
    const w = a + fr * ((table[i + 1] as number) - a);
    out[t] = w;
    sum += w;
  }
  return sum;
}

/**
 * Fill rows [start, end) of the region; returns how many pixels got a value. The plain
 * JS kernel, kept as the reference of the WASM one (warpRows gives the same bits).
 */
export function warpRowsJs(a: WarpRowsArgs): number {
  // Hoist everything out of `a`: objects that arrive by structured clone are slow to
  // read properties from in a hot loop.
  const { n, srcW, srcH, step, gnx, gny, gix, gfx, giy, gfy, garea, noData } = a;
  const { srcImg, srcVar, srcMsk, outImg, outVar, outMsk, kernelCode } = a;
  const { rx0, ry0, rw, gx0, gy0, ox0, oy0, ow } = a;
  const taps = 2 * n;
  const wx = new Float64Array(taps);
  const wy = new Float64Array(taps);
  const wx2 = new Float64Array(taps);
  const wy2 = new Float64Array(taps);
  const table = lanczosTable(n);
  const weights = (f: number, out: Float64Array): number =>
    kernelCode === 1 ? bilinearWeights(f, out) : lanczosWeights(f, n, table, out);
  const lastCellX = Math.max(0, gnx - 2);
  const lastCellY = Math.max(0, gny - 2);
  let filled = 0;
  for (let r = a.start; r < a.end; r++) {
    const y = ry0 + r;
    const ryg = y - gy0;
    const cj = Math.min(Math.floor(ryg / step), lastCellY);
    const v = gny > 1 ? (ryg - cj * step) / step : 0;
    const orow = (y - oy0) * ow;
    for (let c = 0; c < rw; c++) {
      const x = rx0 + c;
      const o = orow + (x - ox0);
      if (((outMsk[o] as number) & noData) === 0) continue; // an earlier source filled it
      const rxg = x - gx0;
      const ci = Math.min(Math.floor(rxg / step), lastCellX);
      const u = gnx > 1 ? (rxg - ci * step) / step : 0;
      const k00 = cj * gnx + ci;
      const k10 = gnx > 1 ? k00 + 1 : k00;
      const k01 = gny > 1 ? k00 + gnx : k00;
      const k11 = gnx > 1 ? k01 + 1 : k01;
      const i0 = gix[k00] as number;
      const j0 = giy[k00] as number;
      const p00 = gfx[k00] as number;
      const p10 = (gix[k10] as number) - i0 + (gfx[k10] as number);
      const p01 = (gix[k01] as number) - i0 + (gfx[k01] as number);
      const p11 = (gix[k11] as number) - i0 + (gfx[k11] as number);
      const q00 = gfy[k00] as number;
      const q10 = (giy[k10] as number) - j0 + (gfy[k10] as number);
      const q01 = (giy[k01] as number) - j0 + (gfy[k01] as number);
      const q11 = (giy[k11] as number) - j0 + (gfy[k11] as number);
      const px = p00 + u * (p10 - p00) + v * (p01 - p00) + u * v * (p11 - p01 - p10 + p00);
      const py = q00 + u * (q10 - q00) + v * (q01 - q00) + u * v * (q11 - q01 - q10 + q00);
      if (!(px - px === 0) || !(py - py === 0)) continue; // unmapped (NaN node)
      const flx = Math.floor(px);
      const fly = Math.floor(py);
      const ix = i0 + flx;
      const iy = j0 + fly;
      const fx = px - flx;
      const fy = py - fly;
      if (ix - n + 1 < 0 || iy - n + 1 < 0 || ix + n > srcW - 1 || iy + n > srcH - 1) continue;
      // Mask: the bilinear footprint, taps of weight >= MASK_WEIGHT_MIN.
      const b = iy * srcW + ix;
      let m = 0;
      if ((1 - fx) * (1 - fy) >= MASK_WEIGHT_MIN) m |= srcMsk[b] as number;
      if (fx * (1 - fy) >= MASK_WEIGHT_MIN) m |= srcMsk[b + 1] as number;
      if ((1 - fx) * fy >= MASK_WEIGHT_MIN) m |= srcMsk[b + srcW] as number;
      if (fx * fy >= MASK_WEIGHT_MIN) m |= srcMsk[b + srcW + 1] as number;
      if ((m & noData) !== 0) continue;
      const sx = weights(fx, wx);
      const sy = weights(fy, wy);
      for (let t = 0; t < taps; t++) {
        wx2[t] = (wx[t] as number) * (wx[t] as number);
        wy2[t] = (wy[t] as number) * (wy[t] as number);
      }
      let si = 0;
      let sv = 0;
      let row = (iy - n + 1) * srcW + ix - n + 1;
      for (let j = 0; j < taps; j++, row += srcW) {
        let ri = 0;
        let rv = 0;
        const wyj = wy[j] as number;
        if (wyj === 0) continue; // zero taps (whole-pixel offsets) must not see NaN neighbours
        for (let i = 0; i < taps; i++) {
          const w = wx[i] as number;
          if (w === 0) continue;
          ri += w * (srcImg[row + i] as number);
          rv += (wx2[i] as number) * (srcVar[row + i] as number);
        }
        si += wyj * ri;
        sv += (wy2[j] as number) * rv;
      }
      const norm = sx * sy;
      const area =
        (garea[k00] as number) +
        u * ((garea[k10] as number) - (garea[k00] as number)) +
        v * ((garea[k01] as number) - (garea[k00] as number)) +
        u *
          v *
          ((garea[k11] as number) -
            (garea[k01] as number) -
            (garea[k10] as number) +
            (garea[k00] as number));
      const img = (area * si) / norm;
      const vr = (area * area * sv) / (norm * norm);
      if (!(img - img === 0) || !(vr - vr === 0)) continue;
      outImg[o] = img;
      outVar[o] = vr;
      outMsk[o] = m;
      filled++;
    }
  }
  return filled;
}

/** Output tile edge in target pixels (the source box of a tile stays in L2). */
const TILE = 128;

type WarpFn = (...a: number[]) => number;

/** Kernel instance per (n, bilinear), once per thread, with whether its table is loaded. */
const kernels = new Map<string, Promise<{ k: WasmScratch; fn: WarpFn; tabBytes: number }>>();

function wasmKernel(n: number, bilinear: boolean) {
  const key = `warp-${n}-${bilinear ? 1 : 0}`;
  let k = kernels.get(key);
  if (!k) {
    k = compileWat(key, warpWat(n, bilinear)).then((m) => {
      const s = new WasmScratch(m);
      // The table sits at address 0 for the life of the instance.
      const tab = bilinear ? new Float64Array(0) : lanczosTable(n);
      const tabBytes = 16 * Math.ceil((8 * tab.length) / 16);
      s.reserve(tabBytes);
      new Float64Array(s.memory.buffer, 0, tab.length).set(tab);
      return { k: s, fn: s.fn<WarpFn>('warp'), tabBytes };
    });
    kernels.set(key, k);
  }
  return k;
}

/**
 * Fill rows [start, end) of the region as warpRowsJs does (to the last float64 bit of
 * the tap sums, see wat.ts); returns how many pixels got a value. The band goes in
 * strips of TILE rows of the region's width, copied into the WASM kernel's memory and
 * back (long row copies), and each strip in tiles of TILE x TILE target pixels: for each
 * tile, the source box its mapping can reach (the hull of the grid nodes of its cells,
 * grown by the kernel's reach and a pixel of margin, clipped to the source) is copied in
 * and the kernel fills the tile.
 */
export async function warpRows(a: WarpRowsArgs): Promise<number> {
  const { n, srcW, srcH, step, gnx, gny, gix, gfx, giy, gfy, garea, noData } = a;
  const { srcImg, srcVar, srcMsk, outImg, outVar, outMsk, kernelCode } = a;
  const { rx0, ry0, rw, gx0, gy0, ox0, oy0, ow, start, end } = a;
  if (end <= start || rw <= 0) return 0;
  const { k, fn, tabBytes } = await wasmKernel(n, kernelCode === 1);
  const lastX = Math.max(0, gnx - 2);
  const lastY = Math.max(0, gny - 2);
  const cellX = (c: number) => Math.min(Math.floor(c / step), lastX);
  const cellY = (r: number) => Math.min(Math.floor(r / step), lastY);
  // Grid-relative rows and columns of the band.
  const rB0 = ry0 - gy0 + start;
  const rB1 = ry0 - gy0 + end;
  const cB0 = rx0 - gx0;
  const cB1 = cB0 + rw;
  // The band's cell rows of grid nodes.
  const gj0 = cellY(rB0);
  const gj1 = Math.min(cellY(rB1 - 1) + 1, gny - 1);
  const k0 = gj0 * gnx;
  const kn = (gj1 - gj0 + 1) * gnx;
  const gBytes = 4 * kn;
  const pGix = tabBytes;
  const pGfx = pGix + gBytes;
  const pGiy = pGfx + gBytes;
  const pGfy = pGiy + gBytes;
  const pGa = pGfy + gBytes;
  // Output strips: TILE rows of the region's width (long row copies).
  const stripBytes = 16 * Math.ceil((4 * TILE * rw) / 16);
  const pOImg = 16 * Math.ceil((pGa + gBytes) / 16);
  const pOVar = pOImg + stripBytes;
  const pOMsk = pOVar + stripBytes;
  const pImg = pOMsk + stripBytes;
  let boxCap = 0;
  let pVar = 0;
  let pMsk = 0;
  let buf: ArrayBuffer | null = null;
  let mImg = new Float32Array(0);
  let mVar = new Float32Array(0);
  let mMsk = new Int32Array(0);
  let mOImg = new Float32Array(0);
  let mOVar = new Float32Array(0);
  let mOMsk = new Int32Array(0);
  /** Room for a source box of `pixels`; views re-made when the memory moved. */
  const reserve = (pixels: number) => {
    if (pixels > boxCap) {
      boxCap = Math.max(pixels, 2 * boxCap);
      pVar = pImg + 4 * boxCap;
      pMsk = pVar + 4 * boxCap;
      k.reserve(pMsk + 4 * boxCap);
    }
    if (k.memory.buffer !== buf || mImg.length < boxCap) {
      buf = k.memory.buffer as ArrayBuffer;
      mImg = new Float32Array(buf, pImg, boxCap);
      mVar = new Float32Array(buf, pVar, boxCap);
      mMsk = new Int32Array(buf, pMsk, boxCap);
      mOImg = new Float32Array(buf, pOImg, TILE * rw);
      mOVar = new Float32Array(buf, pOVar, TILE * rw);
      mOMsk = new Int32Array(buf, pOMsk, TILE * rw);
    }
  };
  reserve(TILE * TILE * 2);
  new Int32Array(buf as unknown as ArrayBuffer, pGix, kn).set(gix.subarray(k0, k0 + kn));
  new Float32Array(buf as unknown as ArrayBuffer, pGfx, kn).set(gfx.subarray(k0, k0 + kn));
  new Int32Array(buf as unknown as ArrayBuffer, pGiy, kn).set(giy.subarray(k0, k0 + kn));
  new Float32Array(buf as unknown as ArrayBuffer, pGfy, kn).set(gfy.subarray(k0, k0 + kn));
  new Float32Array(buf as unknown as ArrayBuffer, pGa, kn).set(garea.subarray(k0, k0 + kn));
  const ox = gx0 + cB0 - ox0;
  let filled = 0;
  for (let r0 = rB0; r0 < rB1; r0 += TILE) {
    const r1 = Math.min(rB1, r0 + TILE);
    const cj0 = cellY(r0);
    const cj1 = Math.min(cellY(r1 - 1) + 1, gny - 1);
    for (let r = r0, d = 0; r < r1; r++, d += rw) {
      const s = (gy0 + r - oy0) * ow + ox;
      mOImg.set(outImg.subarray(s, s + rw), d);
      mOVar.set(outVar.subarray(s, s + rw), d);
      mOMsk.set(outMsk.subarray(s, s + rw), d);
    }
    let stripFilled = 0;
    for (let c0 = cB0; c0 < cB1; c0 += TILE) {
      const c1 = Math.min(cB1, c0 + TILE);
      // The hull of the tile's cell nodes bounds its source positions.
      const ci0 = cellX(c0);
      const ci1 = Math.min(cellX(c1 - 1) + 1, gnx - 1);
      let minX = Number.POSITIVE_INFINITY;
      let minY = Number.POSITIVE_INFINITY;
      let maxX = Number.NEGATIVE_INFINITY;
      let maxY = Number.NEGATIVE_INFINITY;
      for (let j = cj0; j <= cj1; j++) {
        for (let i = ci0; i <= ci1; i++) {
          const kk = j * gnx + i;
          const x = (gix[kk] as number) + (gfx[kk] as number);
          const y = (giy[kk] as number) + (gfy[kk] as number);
          if (!(x - x === 0) || !(y - y === 0)) continue;
          if (x < minX) minX = x;
          if (x > maxX) maxX = x;
          if (y < minY) minY = y;
          if (y > maxY) maxY = y;
        }
      }
      if (!(minX <= maxX)) continue; // no mapped node
      const bx0 = Math.max(0, Math.floor(minX) - n - 1);
      const bx1 = Math.min(srcW - 1, Math.floor(maxX) + n + 2);
      const by0 = Math.max(0, Math.floor(minY) - n - 1);
      const by1 = Math.min(srcH - 1, Math.floor(maxY) + n + 2);
      if (bx1 < bx0 || by1 < by0) continue; // every footprint leaves the source
      const bw = bx1 - bx0 + 1;
      const bh = by1 - by0 + 1;
      reserve(bw * bh);
      for (let y = by0, d = 0; y <= by1; y++, d += bw) {
        const s = y * srcW + bx0;
        mImg.set(srcImg.subarray(s, s + bw), d);
        mVar.set(srcVar.subarray(s, s + bw), d);
        mMsk.set(srcMsk.subarray(s, s + bw), d);
      }
      const at = 4 * (c0 - cB0);
      const got = fn(
        srcW,
        srcH,
        bx0,
        by0,
        bw,
        bh,
        step,
        gnx,
        gny,
        k0,
        c0,
        r0,
        c1,
        r1,
        noData,
        pGix,
        pGfx,
        pGiy,
        pGfy,
        pGa,
        pImg,
        pVar,
        pMsk,
        pOImg + at,
        pOVar + at,
        pOMsk + at,
        rw,
        0,
      );
      stripFilled += got;
    }
    if (stripFilled === 0) continue;
    filled += stripFilled;
    for (let r = r0, d = 0; r < r1; r++, d += rw) {
      const s = (gy0 + r - oy0) * ow + ox;
      outImg.set(mOImg.subarray(d, d + rw), s);
      outVar.set(mOVar.subarray(d, d + rw), s);
      outMsk.set(mOMsk.subarray(d, d + rw), s);
    }
  }
  return filled;
}

/** Arguments of `fillNoDataRows`: the output planes, `width` columns. */
export interface FillNoDataArgs {
  readonly img: Float32Array;
  readonly vr: Float32Array;
  readonly msk: Int32Array;
  readonly width: number;
  readonly noData: number;
  readonly start: number;
  readonly end: number;
}

/** Set rows [start, end) of the output planes to "no data": NaN, +Inf, NO_DATA. */
export function fillNoDataRows(a: FillNoDataArgs): void {
  const from = a.start * a.width;
  const to = a.end * a.width;
  a.img.fill(Number.NaN, from, to);
  a.vr.fill(Number.POSITIVE_INFINITY, from, to);
  a.msk.fill(a.noData, from, to);
}
