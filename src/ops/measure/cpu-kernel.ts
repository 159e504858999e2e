/**
 * The per-source measurement kernel of `measure` for the CPU backend (float64), in the
 * order of shaders/measure.wgsl (float32); semantics in spec.ts. `start`/`end` index
 * sources, not rows.
 */

/** Arguments of `measureSources`. */
export interface MeasureSourcesArgs {
  readonly img: Float32Array;
  readonly vr: Float32Array;
  readonly msk: Int32Array;
  readonly width: number;
  readonly height: number;
  readonly peakX: Int32Array;
  readonly peakY: Int32Array;
  readonly sigma: number;
  readonly radii: Float64Array;
  readonly centroidIter: number;
  readonly shapeIter: number;
  readonly badBits: number;
  readonly edgeBits: number;
  readonly satBits: number;
  readonly intrpBits: number;
  readonly nv: number;
  /** Outputs: nv values and one flag word per source (shared). */
  readonly vals: Float64Array;
  readonly flags: Int32Array;
  readonly start: number;
  readonly end: number;
}

const EDGE = 1;
const SAT = 2;
const INTRP = 4;
const NANAP = 8;
const CENTROID = 16;
const SHAPE = 32;
const PSFFLUX = 64;
const SUB = 5;

/** Measure sources [start, end). */
export function measureSources(a: MeasureSourcesArgs): void {
  const { img, vr, msk, width: W, height: H, sigma, radii, nv } = a;
  const inv2s2 = 1 / (2 * sigma * sigma);
  const rc = Math.ceil(4 * sigma);
  const norm = 1 / (2 * Math.PI * sigma * sigma);
  const nap = radii.length;
  const rmax = radii[nap - 1] as number;
  const ra = Math.ceil(rmax + 1);
  const apF = new Float64Array(nap);
  const apV = new Float64Array(nap);
  for (let s = a.start; s < a.end; s++) {
    const px = a.peakX[s] as number;
    const py = a.peakY[s] as number;
    let flags = 0;
    const usable = (x: number, y: number): boolean => {
      const p = y * W + x;
      const v = img[p] as number;
      const e = vr[p] as number;
      return ((msk[p] as number) & a.badBits) === 0 && v - v === 0 && e - e === 0;
    };
    // Stamp bookkeeping over the 4 sigma square.
    for (let q = -rc; q <= rc; q++) {
      for (let p = -rc; p <= rc; p++) {
        const x = px + p;
        const y = py + q;
        if (x < 0 || y < 0 || x >= W || y >= H) {
          flags |= EDGE;
          continue;
        }
        const m = msk[y * W + x] as number;
        if ((m & a.edgeBits) !== 0) flags |= EDGE;
        if ((m & a.satBits) !== 0) flags |= SAT;
        if ((m & a.intrpBits) !== 0) flags |= INTRP;
      }
    }
    const x0 = Math.max(0, px - rc);
    const x1 = Math.min(W - 1, px + rc);
    const y0 = Math.max(0, py - rc);
    const y1 = Math.min(H - 1, py + rc);
    // Centroid.
    let cx = 0;
    let cy = 0;
    let sw = 0;
    for (let it = 0; it < a.centroidIter; it++) {
      sw = 0;
      let sx = 0;
      let sy = 0;
      for (let y = y0; y <= y1; y++) {
        const dy = y - py - cy;
        for (let x = x0; x <= x1; x++) {
          if (!usable(x, y)) continue;
          const dx = x - px - cx;
          const wi = Math.exp(-(dx * dx + dy * dy) * inv2s2) * (img[y * W + x] as number);
          sw += wi;
          sx += wi * dx;
          sy += wi * dy;
        }
      }
      if (!(sw > 0)) break;
      cx += (2 * sx) / sw;
      cy += (2 * sy) / sw;
    }
    let exx = 0;
    let eyy = 0;
    if (!(sw > 0) || !(Math.abs(cx) <= 2) || !(Math.abs(cy) <= 2)) {
      flags |= CENTROID;
      cx = 0;
      cy = 0;
    }
    // Centroid errors at the final centre.
    {
      let s0 = 0;
      for (let y = y0; y <= y1; y++) {
        const dy = y - py - cy;
        for (let x = x0; x <= x1; x++) {
          if (!usable(x, y)) continue;
          const dx = x - px - cx;
          const w = Math.exp(-(dx * dx + dy * dy) * inv2s2);
          const v = vr[y * W + x] as number;
          s0 += w * (img[y * W + x] as number);
          exx += w * w * v * dx * dx;
          eyy += w * w * v * dy * dy;
        }
      }
      exx = (4 * exx) / (s0 * s0);
      eyy = (4 * eyy) / (s0 * s0);
    }
    // Adaptive moments.
    let mxx = sigma * sigma;
    let myy = sigma * sigma;
    let mxy = 0;
    let shapeOk = true;
    for (let it = 0; it < a.shapeIter && shapeOk; it++) {
      const det = mxx * myy - mxy * mxy;
      if (!(det > 0)) {
        shapeOk = false;
        break;
      }
      const ixx = myy / det;
      const iyy = mxx / det;
      const ixy = -mxy / det;
      const rs = Math.min(12, Math.max(2, Math.ceil(3 * Math.sqrt((mxx + myy) / 2))));
      let s0 = 0;
      let qxx = 0;
      let qyy = 0;
      let qxy = 0;
      for (let y = Math.max(0, py - rs); y <= Math.min(H - 1, py + rs); y++) {
        const dy = y - py - cy;
        for (let x = Math.max(0, px - rs); x <= Math.min(W - 1, px + rs); x++) {
          if (!usable(x, y)) continue;
          const dx = x - px - cx;
          const wi =
            Math.exp(-0.5 * (ixx * dx * dx + 2 * ixy * dx * dy + iyy * dy * dy)) *
            (img[y * W + x] as number);
          s0 += wi;
          qxx += wi * dx * dx;
          qyy += wi * dy * dy;
          qxy += wi * dx * dy;
        }
      }
      if (!(s0 > 0)) {
        shapeOk = false;
        break;
      }
      mxx = (2 * qxx) / s0;
      myy = (2 * qyy) / s0;
      mxy = (2 * qxy) / s0;
    }
    if (!shapeOk || !(mxx > 0 && myy > 0 && mxx * myy - mxy * mxy > 0)) {
      flags |= SHAPE;
      mxx = Number.NaN;
      myy = Number.NaN;
      mxy = Number.NaN;
    }
    // PSF flux.
    let spi = 0;
    let spp = 0;
    let sppv = 0;
    for (let y = y0; y <= y1; y++) {
      const dy = y - py - cy;
      for (let x = x0; x <= x1; x++) {
        if (!usable(x, y)) continue;
        const dx = x - px - cx;
        const pm = Math.exp(-(dx * dx + dy * dy) * inv2s2) * norm;
        spi += pm * (img[y * W + x] as number);
        spp += pm * pm;
        sppv += pm * pm * (vr[y * W + x] as number);
      }
    }
    let psfFlux = spi / spp;
    let psfErr = Math.sqrt(sppv) / spp;
    if (!(spp > 0)) {
      flags |= PSFFLUX;
      psfFlux = Number.NaN;
      psfErr = Number.NaN;
    }
    // Apertures (all radii in one pass over the largest square).
    apF.fill(0);
    apV.fill(0);
    for (let q = -ra; q <= ra; q++) {
      const y = py + q;
      const dy = q - cy;
      for (let p = -ra; p <= ra; p++) {
        const x = px + p;
        const dx = p - cx;
        const d = Math.sqrt(dx * dx + dy * dy);
        if (d >= rmax + 0.7072) continue;
        const inside = x >= 0 && y >= 0 && x < W && y < H;
        const ok = inside && usable(x, y);
        for (let k = 0; k < nap; k++) {
          const r = radii[k] as number;
          let f: number;
          if (d <= r - 0.7072) f = 1;
          else if (d >= r + 0.7072) f = 0;
          else {
            let c = 0;
            for (let j = 0; j < SUB; j++) {
              const sy = dy + (j + 0.5) / SUB - 0.5;
              for (let i = 0; i < SUB; i++) {
                const sx = dx + (i + 0.5) / SUB - 0.5;
                if (sx * sx + sy * sy <= r * r) c++;
              }
            }
            f = c / (SUB * SUB);
          }
          if (f === 0) continue;
          if (!inside) {
            flags |= EDGE;
            continue;
          }
          if (!ok) {
            flags |= NANAP;
            continue;
          }
          const o = y * W + x;
          apF[k] = (apF[k] as number) + f * (img[o] as number);
          apV[k] = (apV[k] as number) + f * f * (vr[o] as number);
        }
      }
    }
    const o = s * nv;
    const out = a.vals;
    out[o] = cx;
    out[o + 1] = cy;
    out[o + 2] = Math.sqrt(exx);
    out[o + 3] = Math.sqrt(eyy);
    out[o + 4] = mxx;
    out[o + 5] = myy;
    out[o + 6] = mxy;
    out[o + 7] = psfFlux;
    out[o + 8] = psfErr;
    out[o + 9] = img[py * W + px] as number;
    for (let k = 0; k < nap; k++) {
      out[o + 10 + 2 * k] = apF[k] as number;
      out[o + 11 + 2 * k] = Math.sqrt(apV[k] as number);
    }
    a.flags[s] = flags;
  }
}
