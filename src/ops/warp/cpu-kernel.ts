/**
 * Row kernel of `warp` for the CPU backend: one source onto rows of its target region.
 * Arithmetic in float64 (positions, weights, sums), results rounded to float32 once;
 * the GPU does the same formulas in float32, so the backends agree to ~1e-6.
 */

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

/** Fill rows [start, end) of the region; returns how many pixels got a value. */
export function warpRows(a: WarpRowsArgs): number {
  const { n, srcW, srcH, step, gnx, gny, gix, gfx, giy, gfy, garea, noData } = a;
  const taps = 2 * n;
  const wx = new Float64Array(taps);
  const wy = new Float64Array(taps);
  // cos(pi k / n), sin(pi k / n) for k = -n + 1 .. n (Lanczos angle-addition tables).
  const ck = new Float64Array(taps);
  const sk = new Float64Array(taps);
  for (let t = 0; t < taps; t++) {
    const k = t - n + 1;
    ck[t] = Math.cos((Math.PI * k) / n);
    sk[t] = Math.sin((Math.PI * k) / n);
  }
  const weights = (f: number, out: Float64Array): number => {
    if (a.kernelCode === 1) {
      out[0] = 1 - f;
      out[1] = f;
      return 1;
    }
    const s1 = Math.sin(Math.PI * f);
    const ang = (Math.PI * f) / n;
    const sa = Math.sin(ang);
    const ca = Math.cos(ang);
    let sum = 0;
    for (let t = 0; t < taps; t++) {
      const k = t - n + 1;
      const d = f - k;
      let w: number;
      if (d === 0) w = 1;
      else {
        const sgn = k & 1 ? -1 : 1;
        w =
          (n * sgn * s1 * (sa * (ck[t] as number) - ca * (sk[t] as number))) /
          (Math.PI * Math.PI * d * d);
      }
      out[t] = w;
      sum += w;
    }
    return sum;
  };
  const lastCellX = Math.max(0, gnx - 2);
  const lastCellY = Math.max(0, gny - 2);
  let filled = 0;
  for (let r = a.start; r < a.end; r++) {
    const y = a.ry0 + r;
    const ryg = y - a.gy0;
    const cj = Math.min(Math.floor(ryg / step), lastCellY);
    const v = gny > 1 ? (ryg - cj * step) / step : 0;
    const orow = (y - a.oy0) * a.ow;
    for (let c = 0; c < a.rw; c++) {
      const x = a.rx0 + c;
      const o = orow + (x - a.ox0);
      if (((a.outMsk[o] as number) & noData) === 0) continue; // an earlier source filled it
      const rxg = x - a.gx0;
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
      if ((1 - fx) * (1 - fy) >= MASK_WEIGHT_MIN) m |= a.srcMsk[b] as number;
      if (fx * (1 - fy) >= MASK_WEIGHT_MIN) m |= a.srcMsk[b + 1] as number;
      if ((1 - fx) * fy >= MASK_WEIGHT_MIN) m |= a.srcMsk[b + srcW] as number;
      if (fx * fy >= MASK_WEIGHT_MIN) m |= a.srcMsk[b + srcW + 1] as number;
      if ((m & noData) !== 0) continue;
      const sx = weights(fx, wx);
      const sy = weights(fy, wy);
      let si = 0;
      let sv = 0;
      const x0 = a.kernelCode === 1 ? ix : ix - n + 1;
      const y0 = a.kernelCode === 1 ? iy : iy - n + 1;
      for (let j = 0; j < taps; j++) {
        const wyj = wy[j] as number;
        if (wyj === 0) continue;
        const row = (y0 + j) * srcW + x0;
        let ri = 0;
        let rv = 0;
        for (let i = 0; i < taps; i++) {
          const w = wx[i] as number;
          if (w === 0) continue;
          ri += w * (a.srcImg[row + i] as number);
          rv += w * w * (a.srcVar[row + i] as number);
        }
        si += wyj * ri;
        sv += wyj * wyj * rv;
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
      a.outImg[o] = img;
      a.outVar[o] = vr;
      a.outMsk[o] = m;
      filled++;
    }
  }
  return filled;
}
