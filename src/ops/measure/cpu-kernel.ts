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
  /** 0: Gaussian PSF template; 1: the kernel image `psfKernel` (spec.ts). */
  readonly psfKind: number;
  readonly psfWidth: number;
  readonly psfHeight: number;
  readonly psfKernel: Float64Array;
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
/** Sub-pixel centre offsets (j + 0.5) / SUB - 0.5, pixels. */
const SUB_OFF = Float64Array.from({ length: SUB }, (_, j) => (j + 0.5) / SUB - 0.5);

/** Lanczos-3 at d (|d| < 3; 0 beyond, 1 at 0). */
function lanczos3(d: number): number {
  if (d === 0) return 1;
  if (Math.abs(d) >= 3) return 0;
  return (3 * Math.sin(Math.PI * d) * Math.sin((Math.PI * d) / 3)) / (Math.PI * Math.PI * d * d);
}

/** w[k + 2] = L3(k - f) for k = -2 .. 3, normalized to sum 1 (spec.ts, image PSF). */
function shiftTaps(f: number, w: Float64Array): void {
  let sum = 0;
  for (let k = 0; k < 6; k++) {
    const v = lanczos3(k - 2 - f);
    w[k] = v;
    sum += v;
  }
  for (let k = 0; k < 6; k++) w[k] = (w[k] as number) / sum;
}

/**
 * Measure sources [start, end). Each source's neighbourhood is first copied into a
 * float64 stamp (usable pixels' image and variance, 0 elsewhere, and a usability code),
 * so the sums read local arrays; Gaussian weights are products of per-column and per-row
 * exponentials (exp(a + b) = exp(a) exp(b), the same sums to ~1e-15 relative), the
 * adaptive-moment cross term by a per-row geometric recurrence.
 */
export function measureSources(a: MeasureSourcesArgs): void {
  const img = a.img;
  const vr = a.vr;
  const msk = a.msk;
  const W = a.width;
  const H = a.height;
  const sigma = a.sigma;
  const radii = a.radii;
  const nv = a.nv;
  const badBits = a.badBits;
  const edgeBits = a.edgeBits;
  const satBits = a.satBits;
  const intrpBits = a.intrpBits;
  const centroidIter = a.centroidIter;
  const shapeIter = a.shapeIter;
  const peakX = a.peakX;
  const peakY = a.peakY;
  const psfImage = a.psfKind === 1;
  const kw = a.psfWidth;
  const kh = a.psfHeight;
  const kernel = a.psfKernel;
  const khw = (kw - 1) / 2;
  const khh = (kh - 1) / 2;
  const wxs = new Float64Array(6);
  const wys = new Float64Array(6);
  const out = a.vals;
  const outFlags = a.flags;
  const inv2s2 = 1 / (2 * sigma * sigma);
  const rc = Math.ceil(4 * sigma);
  const norm = 1 / (2 * Math.PI * sigma * sigma);
  const nap = radii.length;
  const rmax = radii[nap - 1] as number;
  const ra = Math.ceil(rmax + 1);
  const apF = new Float64Array(nap);
  const apV = new Float64Array(nap);
  // Stamp: half-size R around the peak covers every square used below.
  const R = Math.max(rc, 12, ra);
  const S = 2 * R + 1;
  // Kernel rows x stamp columns: the first pass of the image template.
  const tplX = new Float64Array(psfImage ? kh * S : 0);
  const sI = new Float64Array(S * S);
  const sV = new Float64Array(S * S);
  /** 0: off the image, 1: on it but unusable, 2: usable. */
  const sOk = new Uint8Array(S * S);
  const ex = new Float64Array(S);
  const ey = new Float64Array(S);
  const subX2 = new Float64Array(SUB);
  const subY2 = new Float64Array(SUB);
  for (let s = a.start; s < a.end; s++) {
    const px = peakX[s] as number;
    const py = peakY[s] as number;
    let flags = 0;
    // Stamp copy (pixel (px + i - R, py + j - R) at j * S + i).
    for (let j = 0; j < S; j++) {
      const y = py + j - R;
      const so = j * S;
      if (y < 0 || y >= H) {
        sOk.fill(0, so, so + S);
        sI.fill(0, so, so + S);
        sV.fill(0, so, so + S);
        continue;
      }
      const row = y * W;
      for (let i = 0; i < S; i++) {
        const x = px + i - R;
        if (x < 0 || x >= W) {
          sOk[so + i] = 0;
          sI[so + i] = 0;
          sV[so + i] = 0;
          continue;
        }
        const p = row + x;
        const v = img[p] as number;
        const e = vr[p] as number;
        if (((msk[p] as number) & badBits) === 0 && v - v === 0 && e - e === 0) {
          sOk[so + i] = 2;
          sI[so + i] = v;
          sV[so + i] = e;
        } else {
          sOk[so + i] = 1;
          sI[so + i] = 0;
          sV[so + i] = 0;
        }
      }
    }
    // Stamp bookkeeping over the 4 sigma square.
    for (let q = -rc; q <= rc; q++) {
      const y = py + q;
      if (y < 0 || y >= H) {
        flags |= EDGE;
        continue;
      }
      for (let p = -rc; p <= rc; p++) {
        const x = px + p;
        if (x < 0 || x >= W) {
          flags |= EDGE;
          continue;
        }
        const m = msk[y * W + x] as number;
        if ((m & edgeBits) !== 0) flags |= EDGE;
        if ((m & satBits) !== 0) flags |= SAT;
        if ((m & intrpBits) !== 0) flags |= INTRP;
      }
    }
    // The clipped 4 sigma square in stamp coordinates [i0, i1] x [j0, j1].
    const i0 = Math.max(0, px - rc) - px + R;
    const i1 = Math.min(W - 1, px + rc) - px + R;
    const j0 = Math.max(0, py - rc) - py + R;
    const j1 = Math.min(H - 1, py + rc) - py + R;
    // Centroid.
    let cx = 0;
    let cy = 0;
    let sw = 0;
    for (let it = 0; it < centroidIter; it++) {
      for (let i = i0; i <= i1; i++) {
        const d = i - R - cx;
        ex[i] = Math.exp(-(d * d) * inv2s2);
      }
      sw = 0;
      let sx = 0;
      let sy = 0;
      for (let j = j0; j <= j1; j++) {
        const dy = j - R - cy;
        const eyj = Math.exp(-(dy * dy) * inv2s2);
        const so = j * S;
        for (let i = i0; i <= i1; i++) {
          if (sOk[so + i] !== 2) continue;
          const dx = i - R - cx;
          const wi = (ex[i] as number) * eyj * (sI[so + i] as number);
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
    // Weights at the final centre (centroid errors and PSF flux).
    for (let i = i0; i <= i1; i++) {
      const d = i - R - cx;
      ex[i] = Math.exp(-(d * d) * inv2s2);
    }
    for (let j = j0; j <= j1; j++) {
      const d = j - R - cy;
      ey[j] = Math.exp(-(d * d) * inv2s2);
    }
    // Centroid errors at the final centre.
    {
      let s0 = 0;
      for (let j = j0; j <= j1; j++) {
        const dy = j - R - cy;
        const eyj = ey[j] as number;
        const so = j * S;
        for (let i = i0; i <= i1; i++) {
          if (sOk[so + i] !== 2) continue;
          const dx = i - R - cx;
          const w = (ex[i] as number) * eyj;
          const v = sV[so + i] as number;
          s0 += w * (sI[so + i] as number);
          exx += w * w * v * dx * dx;
          eyy += w * w * v * dy * dy;
        }
      }
      exx = (4 * exx) / (s0 * s0);
      eyy = (4 * eyy) / (s0 * s0);
    }
    // PSF flux.
    let spi = 0;
    let spp = 0;
    let sppv = 0;
    if (psfImage) {
      // The kernel shifted to the centroid over the 4 sigma square: rows first (tplX:
      // the kernel rows the square needs x the square's columns), then each template
      // value from six of those rows. Stamp pixel (i, j) is offset (i - R, j - R) from
      // the peak; tap k of the centroid n + f reads kernel column
      // (i - R) - n - (k - 2) + khw (spec.ts), the same for rows.
      const nx = Math.floor(cx);
      const ny = Math.floor(cy);
      shiftTaps(cx - nx, wxs);
      shiftTaps(cy - ny, wys);
      const rLo = Math.max(0, j0 - R - ny - 3 + khh);
      const rHi = Math.min(kh - 1, j1 - R - ny + 2 + khh);
      const colBase = khw - nx + 2 - R;
      for (let r = rLo; r <= rHi; r++) {
        const kr = r * kw;
        const tr = (r - rLo) * S;
        for (let i = i0; i <= i1; i++) {
          let acc = 0;
          const c0 = i + colBase;
          for (let k = 0; k < 6; k++) {
            const col = c0 - k;
            if (col < 0 || col >= kw) continue;
            acc += (wxs[k] as number) * (kernel[kr + col] as number);
          }
          tplX[tr + i] = acc;
        }
      }
      const rowBase = khh - ny + 2 - R;
      for (let j = j0; j <= j1; j++) {
        const so = j * S;
        const r0 = j + rowBase;
        for (let i = i0; i <= i1; i++) {
          if (sOk[so + i] !== 2) continue;
          let pm = 0;
          for (let k = 0; k < 6; k++) {
            const r = r0 - k;
            if (r < rLo || r > rHi) continue;
            pm += (wys[k] as number) * (tplX[(r - rLo) * S + i] as number);
          }
          spi += pm * (sI[so + i] as number);
          spp += pm * pm;
          sppv += pm * pm * (sV[so + i] as number);
        }
      }
    } else {
      for (let j = j0; j <= j1; j++) {
        const eyj = ey[j] as number;
        const so = j * S;
        for (let i = i0; i <= i1; i++) {
          if (sOk[so + i] !== 2) continue;
          const pm = (ex[i] as number) * eyj * norm;
          spi += pm * (sI[so + i] as number);
          spp += pm * pm;
          sppv += pm * pm * (sV[so + i] as number);
        }
      }
    }
    // Adaptive moments.
    let mxx = sigma * sigma;
    let myy = sigma * sigma;
    let mxy = 0;
    let shapeOk = true;
    for (let it = 0; it < shapeIter && shapeOk; it++) {
      const det = mxx * myy - mxy * mxy;
      if (!(det > 0)) {
        shapeOk = false;
        break;
      }
      const ixx = myy / det;
      const iyy = mxx / det;
      const ixy = -mxy / det;
      const rs = Math.min(12, Math.max(2, Math.ceil(3 * Math.sqrt((mxx + myy) / 2))));
      const si0 = Math.max(0, px - rs) - px + R;
      const si1 = Math.min(W - 1, px + rs) - px + R;
      const sj0 = Math.max(0, py - rs) - py + R;
      const sj1 = Math.min(H - 1, py + rs) - py + R;
      // exp(-(ixx dx^2 + 2 ixy dx dy + iyy dy^2) / 2) as a product when no factor can
      // overflow (|dx|, |dy| <= rs + 2); the direct form otherwise.
      const lim = (rs + 2) * (rs + 2);
      const separable = ixx > 0 && iyy > 0 && Math.abs(ixy) * lim <= 300;
      let s0 = 0;
      let qxx = 0;
      let qyy = 0;
      let qxy = 0;
      if (separable) {
        for (let i = si0; i <= si1; i++) {
          const d = i - R - cx;
          ex[i] = Math.exp(-0.5 * (ixx * d * d));
        }
        const dx0 = si0 - R - cx;
        for (let j = sj0; j <= sj1; j++) {
          const dy = j - R - cy;
          const so = j * S;
          const eyj = Math.exp(-0.5 * (iyy * dy * dy));
          const step = Math.exp(-ixy * dy);
          let cross = Math.exp(-ixy * dy * dx0);
          for (let i = si0; i <= si1; i++, cross *= step) {
            if (sOk[so + i] !== 2) continue;
            const dx = i - R - cx;
            const wi = (ex[i] as number) * eyj * cross * (sI[so + i] as number);
            s0 += wi;
            qxx += wi * dx * dx;
            qyy += wi * dy * dy;
            qxy += wi * dx * dy;
          }
        }
      } else {
        for (let j = sj0; j <= sj1; j++) {
          const dy = j - R - cy;
          const so = j * S;
          for (let i = si0; i <= si1; i++) {
            if (sOk[so + i] !== 2) continue;
            const dx = i - R - cx;
            const wi =
              Math.exp(-0.5 * (ixx * dx * dx + 2 * ixy * dx * dy + iyy * dy * dy)) *
              (sI[so + i] as number);
            s0 += wi;
            qxx += wi * dx * dx;
            qyy += wi * dy * dy;
            qxy += wi * dx * dy;
          }
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
      const dy = q - cy;
      const so = (q + R) * S + R;
      for (let p = -ra; p <= ra; p++) {
        const dx = p - cx;
        const d = Math.sqrt(dx * dx + dy * dy);
        if (d >= rmax + 0.7072) continue;
        const code = sOk[so + p] as number;
        let subReady = false;
        for (let k = 0; k < nap; k++) {
          const r = radii[k] as number;
          let f: number;
          if (d <= r - 0.7072) f = 1;
          else if (d >= r + 0.7072) f = 0;
          else {
            if (!subReady) {
              for (let ii = 0; ii < SUB; ii++) {
                const sx = dx + (SUB_OFF[ii] as number);
                const sy = dy + (SUB_OFF[ii] as number);
                subX2[ii] = sx * sx;
                subY2[ii] = sy * sy;
              }
              subReady = true;
            }
            const r2 = r * r;
            let c = 0;
            for (let jj = 0; jj < SUB; jj++) {
              const sy2 = subY2[jj] as number;
              for (let ii = 0; ii < SUB; ii++) if ((subX2[ii] as number) + sy2 <= r2) c++;
            }
            f = c / (SUB * SUB);
          }
          if (f === 0) continue;
          if (code === 0) {
            flags |= EDGE;
            continue;
          }
          if (code !== 2) {
            flags |= NANAP;
            continue;
          }
          apF[k] = (apF[k] as number) + f * (sI[so + p] as number);
          apV[k] = (apV[k] as number) + f * f * (sV[so + p] as number);
        }
      }
    }
    const o = s * nv;
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
    outFlags[s] = flags;
  }
}
