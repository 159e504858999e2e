/**
 * Light profiles for the simulator: pixel-integrated PSF stamps (Gaussian exactly with
 * erf, Moffat by sub-sampling) and mixture-of-Gaussians (MoG) approximations of Sersic
 * and Moffat profiles, fitted once per parameter value by non-negative least squares.
 *
 * Units: pixels unless said otherwise. Stamps are row-major over
 * [cx - r, cx + r] x [cy - r, cy + r] for an integer centre pixel (cx, cy).
 */

/** Complementary error function, fractional error < 1.2e-7 (Numerical Recipes erfcc). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t *
                              (-1.13520398 +
                                t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Standard normal cumulative distribution. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** A PSF as the simulator renders it: a circular Gaussian or Moffat, in pixels. */
export type PsfProfile =
  | { readonly model: 'gaussian'; readonly sigma: number }
  | { readonly model: 'moffat'; readonly alpha: number; readonly beta: number };

/** Moffat alpha (pixels) for a FWHM (pixels) and beta: FWHM = 2 alpha sqrt(2^(1/beta) - 1). */
export function moffatAlpha(fwhm: number, beta: number): number {
  return fwhm / (2 * Math.sqrt(2 ** (1 / beta) - 1));
}

/**
 * Renders the pixel-integrated PSF centred at (x, y) into `out` ((2r+1)^2 values,
 * centre pixel (round(x), round(y))), normalized so the stamp sums to 1. Gaussians are
 * integrated exactly (erf); Moffats by `subsample`^2 midpoint sub-sampling.
 * `scratch` needs 2 (2r+1) values.
 */
export function renderPsfStamp(
  psf: PsfProfile,
  x: number,
  y: number,
  r: number,
  out: Float64Array,
  scratch: Float64Array,
  subsample = 5,
): void {
  const n = 2 * r + 1;
  const cx = Math.round(x);
  const cy = Math.round(y);
  let sum = 0;
  if (psf.model === 'gaussian') {
    const fx = scratch.subarray(0, n);
    const fy = scratch.subarray(n, 2 * n);
    const inv = 1 / psf.sigma;
    for (let i = 0; i < n; i++) {
      const px = cx - r + i;
      fx[i] = Math.max(0, normalCdf((px + 0.5 - x) * inv) - normalCdf((px - 0.5 - x) * inv));
      const py = cy - r + i;
      fy[i] = Math.max(0, normalCdf((py + 0.5 - y) * inv) - normalCdf((py - 0.5 - y) * inv));
    }
    for (let j = 0; j < n; j++) {
      const vy = fy[j]!;
      for (let i = 0; i < n; i++) {
        const v = vy * fx[i]!;
        out[j * n + i] = v;
        sum += v;
      }
    }
  } else {
    const table = moffatTable(psf, r);
    const step = 1 / subsample;
    const scale = table.perUnit;
    const values = table.values;
    for (let j = 0; j < n; j++) {
      const y0 = cy - r + j - 0.5 - y;
      for (let i = 0; i < n; i++) {
        const x0 = cx - r + i - 0.5 - x;
        let v = 0;
        for (let sj = 0; sj < subsample; sj++) {
          const dy = y0 + (sj + 0.5) * step;
          const dy2 = dy * dy;
          for (let si = 0; si < subsample; si++) {
            const dx = x0 + (si + 0.5) * step;
            // Linear interpolation in r^2 (relative error < 1e-6 at this spacing).
            const t = (dx * dx + dy2) * scale;
            const k = t | 0;
            v += values[k]! + (t - k) * (values[k + 1]! - values[k]!);
          }
        }
        out[j * n + i] = v;
        sum += v;
      }
    }
  }
  const inv = 1 / sum;
  for (let k = 0; k < n * n; k++) out[k] = out[k]! * inv;
}

interface MoffatTable {
  readonly alpha: number;
  readonly beta: number;
  /** Table entries per pixel^2 of r^2. */
  readonly perUnit: number;
  /** (1 + r^2 / alpha^2)^-beta at r^2 = k / perUnit. */
  readonly values: Float64Array;
}

let lastMoffat: MoffatTable | null = null;

/** A lookup table of the Moffat profile in r^2, out to the corner of a radius-r stamp. */
function moffatTable(psf: { alpha: number; beta: number }, r: number): MoffatTable {
  const maxR2 = 2 * (r + 1) ** 2;
  if (
    lastMoffat &&
    lastMoffat.alpha === psf.alpha &&
    lastMoffat.beta === psf.beta &&
    lastMoffat.values.length - 2 >= maxR2 * lastMoffat.perUnit
  ) {
    return lastMoffat;
  }
  const perUnit = 100;
  const size = Math.ceil(2 * (Math.max(r, 30) + 1) ** 2 * perUnit) + 2;
  const values = new Float64Array(size);
  const inva2 = 1 / (psf.alpha * psf.alpha);
  for (let k = 0; k < size; k++) values[k] = (1 + (k / perUnit) * inva2) ** -psf.beta;
  lastMoffat = { alpha: psf.alpha, beta: psf.beta, perUnit, values };
  return lastMoffat;
}

/** One circular Gaussian component: `weight` (fraction of flux) and `variance` (length^2). */
export interface MogComponent {
  readonly weight: number;
  readonly variance: number;
}

/** Sersic b_n such that r_e encloses half the light (Ciotti & Bertin 1999 expansion). */
export function sersicB(n: number): number {
  return 2 * n - 1 / 3 + 4 / (405 * n) + 46 / (25515 * n * n) + 131 / (1148175 * n ** 3);
}

const mogCache = new Map<string, readonly MogComponent[]>();

/**
 * A mixture of Gaussians approximating a Sersic profile of index `n` with half-light
 * radius 1 (variances in units of r_e^2), fitted over 0..8 r_e; weights sum to 1.
 */
export function sersicMog(n: number): readonly MogComponent[] {
  const key = `sersic:${n.toFixed(3)}`;
  let mog = mogCache.get(key);
  if (!mog) {
    const b = sersicB(n);
    // n = 0.5 is exactly a Gaussian: r_e = sigma sqrt(2 ln 2).
    if (Math.abs(n - 0.5) < 1e-9) return [{ weight: 1, variance: 1 / (2 * Math.LN2) }];
    mog = fitMog((r) => Math.exp(-b * (r ** (1 / n) - 1)), 8, logspace(0.005, 4, 11), 0.004);
    mogCache.set(key, mog);
  }
  return mog;
}

/**
 * A mixture of Gaussians approximating a Moffat profile (1 + r^2)^-beta in units of
 * alpha (variances in alpha^2), fitted over 0..12 alpha; weights sum to 1.
 */
export function moffatMog(beta: number): readonly MogComponent[] {
  const key = `moffat:${beta.toFixed(3)}`;
  let mog = mogCache.get(key);
  if (!mog) {
    mog = fitMog((r) => (1 + r * r) ** -beta, 12, logspace(0.4, 6, 5), 0.02);
    mogCache.set(key, mog);
  }
  return mog;
}

function logspace(a: number, b: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(a * (b / a) ** (i / (n - 1)));
  return out;
}

/**
 * Fits non-negative fluxes of circular Gaussians of the given sigmas to a radial
 * profile over [0, rMax], weighting residuals by area (r dr); returns the components
 * holding more than `minWeight` of the flux, normalized to total weight 1.
 */
function fitMog(
  profile: (r: number) => number,
  rMax: number,
  sigmas: readonly number[],
  minWeight: number,
): MogComponent[] {
  const m = 600;
  const k = sigmas.length;
  const A = new Float64Array(m * k);
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const t0 = i / m;
    const t1 = (i + 1) / m;
    const r = rMax * ((t0 + t1) / 2) ** 2;
    const dr = rMax * (t1 * t1 - t0 * t0);
    const w = Math.sqrt(2 * Math.PI * r * dr);
    y[i] = w * profile(r);
    for (let c = 0; c < k; c++) {
      const s2 = sigmas[c]! ** 2;
      A[i * k + c] = (w * Math.exp((-r * r) / (2 * s2))) / (2 * Math.PI * s2);
    }
  }
  const x = nnls(A, y, m, k);
  let total = 0;
  for (let c = 0; c < k; c++) total += x[c]!;
  const out: MogComponent[] = [];
  for (let c = 0; c < k; c++) {
    if (x[c]! > minWeight * total) out.push({ weight: x[c]! / total, variance: sigmas[c]! ** 2 });
  }
  const kept = out.reduce((s, c) => s + c.weight, 0);
  return out.map((c) => ({ weight: c.weight / kept, variance: c.variance }));
}

/**
 * Non-negative least squares, min |A x - y| with x >= 0 (Lawson & Hanson active set)
 * for a small number of columns `k`; A is row-major m x k.
 */
export function nnls(A: Float64Array, y: Float64Array, m: number, k: number): Float64Array {
  const G = new Float64Array(k * k);
  const h = new Float64Array(k);
  for (let i = 0; i < m; i++) {
    for (let a = 0; a < k; a++) {
      const va = A[i * k + a]!;
      h[a] = h[a]! + va * y[i]!;
      for (let b = 0; b < k; b++) G[a * k + b] = G[a * k + b]! + va * A[i * k + b]!;
    }
  }
  const x = new Float64Array(k);
  const passive = new Array<boolean>(k).fill(false);
  const gradient = (): Float64Array => {
    const w = new Float64Array(k);
    for (let a = 0; a < k; a++) {
      let s = h[a]!;
      for (let b = 0; b < k; b++) s -= G[a * k + b]! * x[b]!;
      w[a] = s;
    }
    return w;
  };
  let scale = 0;
  for (let a = 0; a < k; a++) scale = Math.max(scale, Math.abs(h[a]!));
  const tol = 1e-12 * scale;
  for (let outer = 0; outer < 3 * k; outer++) {
    const w = gradient();
    let best = -1;
    for (let a = 0; a < k; a++)
      if (!passive[a] && w[a]! > tol && (best < 0 || w[a]! > w[best]!)) best = a;
    if (best < 0) break;
    passive[best] = true;
    for (let inner = 0; inner < 3 * k; inner++) {
      const z = solvePassive(G, h, passive, k);
      let ok = true;
      for (let a = 0; a < k; a++) if (passive[a] && z[a]! <= 0) ok = false;
      if (ok) {
        x.set(z);
        break;
      }
      let alpha = 1;
      for (let a = 0; a < k; a++) {
        if (passive[a] && z[a]! <= 0) alpha = Math.min(alpha, x[a]! / (x[a]! - z[a]!));
      }
      for (let a = 0; a < k; a++) {
        x[a] = x[a]! + alpha * (z[a]! - x[a]!);
        if (passive[a] && x[a]! <= 1e-15) {
          passive[a] = false;
          x[a] = 0;
        }
      }
    }
  }
  return x;
}

/** Solves G_PP z_P = h_P (Gaussian elimination, partial pivoting); z is 0 off P. */
function solvePassive(
  G: Float64Array,
  h: Float64Array,
  passive: readonly boolean[],
  k: number,
): Float64Array {
  const idx: number[] = [];
  for (let a = 0; a < k; a++) if (passive[a]) idx.push(a);
  const p = idx.length;
  const M = new Float64Array(p * (p + 1));
  for (let r = 0; r < p; r++) {
    for (let c = 0; c < p; c++) M[r * (p + 1) + c] = G[idx[r]! * k + idx[c]!]!;
    M[r * (p + 1) + p] = h[idx[r]!]!;
  }
  for (let c = 0; c < p; c++) {
    let piv = c;
    for (let r = c + 1; r < p; r++)
      if (Math.abs(M[r * (p + 1) + c]!) > Math.abs(M[piv * (p + 1) + c]!)) piv = r;
    if (piv !== c) {
      for (let q = 0; q <= p; q++) {
        const t = M[c * (p + 1) + q]!;
        M[c * (p + 1) + q] = M[piv * (p + 1) + q]!;
        M[piv * (p + 1) + q] = t;
      }
    }
    const d = M[c * (p + 1) + c]!;
    if (d === 0) continue;
    for (let r = c + 1; r < p; r++) {
      const f = M[r * (p + 1) + c]! / d;
      if (f === 0) continue;
      for (let q = c; q <= p; q++)
        M[r * (p + 1) + q] = M[r * (p + 1) + q]! - f * M[c * (p + 1) + q]!;
    }
  }
  const z = new Float64Array(k);
  for (let r = p - 1; r >= 0; r--) {
    let s = M[r * (p + 1) + p]!;
    for (let q = r + 1; q < p; q++) s -= M[r * (p + 1) + q]! * z[idx[q]!]!;
    const d = M[r * (p + 1) + r]!;
    z[idx[r]!] = d === 0 ? 0 : s / d;
  }
  return z;
}
