/**
 * Conformance suite of `stack` on every backend, against a float64 reference of the
 * spec (test/helpers/stack-reference.ts), then backend against backend.
 *
 * Declared tolerances: image |out - ref| <= 1e-5 x (|ref| + sqrt(var)); variance
 * relative 1e-5; mask, coverage and NaN positions exact. cpu vs webgpu: 1e-6 relative
 * (GPUs may round division and sqrt differently by an ulp or two).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MaskedImage } from '../../src/image/masked-image.ts';
import { OpInputError } from '../../src/ops/errors.ts';
import { stackGpu } from '../../src/ops/stack/gpu.ts';
import { prepareStack, type StackResult, stack } from '../../src/ops/stack/index.ts';
import { backendCases, cpuBackend, disposeBackends, webgpuOrNull } from '../helpers/backends.ts';
import { Rng, TEST_SEED } from '../helpers/random.ts';
import { referenceStack } from '../helpers/stack-reference.ts';

const BAD = 1;
const SAT = 2;
const CR = 8;
const NO_DATA = 1 << 8;
const CLIPPED = 1 << 9;
const REJECTED = 1 << 10;
const BAD_BITS = NO_DATA | BAD | SAT | (1 << 4);

/** N noisy warps of one field, with outliers, NaN, masked and uncovered pixels. */
function warps(rng: Rng, n: number, w: number, h: number): MaskedImage[] {
  const sky = Array.from({ length: w * h }, () => rng.uniform(0, 200));
  return Array.from({ length: n }, (_, i) => {
    const sigma = 3 + i * 0.7;
    const mi = MaskedImage.create(w, h);
    for (let p = 0; p < w * h; p++) {
      mi.image.data[p] = sky[p]! + rng.normal() * sigma;
      mi.variance.data[p] = sigma * sigma * rng.uniform(0.9, 1.1);
      const u = rng.next();
      if (u < 0.02)
        mi.image.data[p] = mi.image.data[p]! + rng.uniform(100, 5000); // cosmic ray, unflagged
      else if (u < 0.03) mi.mask.data[p] = NO_DATA;
      else if (u < 0.04) mi.mask.data[p] = SAT;
      else if (u < 0.045) mi.mask.data[p] = BAD;
      else if (u < 0.06) mi.mask.data[p] = CR;
      else if (u < 0.062) mi.image.data[p] = Number.NaN;
      else if (u < 0.063) mi.variance.data[p] = Number.POSITIVE_INFINITY;
    }
    return mi;
  });
}

function compareToRef(r: StackResult, ref: ReturnType<typeof referenceStack>, tol: number): string {
  const n = r.coverage.length;
  for (let p = 0; p < n; p++) {
    if (r.coadd.mask.data[p] !== ref.msk[p])
      return `mask at ${p}: ${r.coadd.mask.data[p]} != ${ref.msk[p]}`;
    if (r.coverage[p] !== ref.coverage[p])
      return `coverage at ${p}: ${r.coverage[p]} != ${ref.coverage[p]}`;
    const a = r.coadd.image.data[p]!;
    const b = ref.img[p]!;
    if (Number.isNaN(b)) {
      if (!Number.isNaN(a) || r.coadd.variance.data[p] !== Number.POSITIVE_INFINITY)
        return `pixel ${p} must be NaN/+Inf`;
      continue;
    }
    const v = r.coadd.variance.data[p]!;
    if (Math.abs(a - b) > tol * (Math.abs(b) + Math.sqrt(ref.vr[p]!)))
      return `image at ${p}: ${a} vs ${b}`;
    if (Math.abs(v - ref.vr[p]!) > tol * ref.vr[p]!)
      return `variance at ${p}: ${v} vs ${ref.vr[p]}`;
  }
  return '';
}

describe(`stack conformance (seed ${TEST_SEED})`, async () => {
  const backends = await backendCases();
  const rng = new Rng(TEST_SEED);
  const cases = [
    { name: 'N=7, 61x43', n: 7, w: 61, h: 43 },
    { name: 'N=2', n: 2, w: 30, h: 20 },
    { name: 'N=1 (a copy with its variance)', n: 1, w: 17, h: 9 },
    { name: 'N=33, 1x1', n: 33, w: 1, h: 1 },
    { name: 'N=12, pool-sized', n: 12, w: 257, h: 130 },
  ];
  const data = cases.map((c) => warps(rng, c.n, c.w, c.h));
  const results = new Map<string, StackResult>();
  afterAll(disposeBackends);

  for (const be of backends) {
    for (const statistic of ['MEAN', 'MEANCLIP', 'MEDIAN'] as const) {
      for (const weighting of ['perWarp', 'perPixel'] as const) {
        cases.forEach((c, k) => {
          it(`${be.name}: ${statistic} ${weighting} ${c.name} matches the float64 reference`, async () => {
            const backend = await be.get();
            const inputs = data[k]!;
            const r = await stack(backend, inputs, { statistic, weighting });
            expect(r.coadd.mask.planes.bit('CLIPPED')).toBe(9);
            expect(r.coadd.mask.planes.bit('REJECTED')).toBe(10);
            if (weighting === 'perWarp' && c.w * c.h >= 100) {
              expect(r.weights).not.toBeNull();
              // 1 / mean variance of good pixels: sigma_i^2 within the 10% jitter.
              r.weights!.forEach((w, i) => {
                expect(Math.abs(1 / w / (3 + i * 0.7) ** 2 - 1)).toBeLessThan(0.11);
              });
            }
            const ref = referenceStack(inputs, {
              statistic,
              weights: r.weights,
              k: 3,
              numIter: 2,
              badBits: BAD_BITS,
              noData: NO_DATA,
              clipped: CLIPPED,
              rejected: REJECTED,
              thresholds: [[SAT, 0.1]],
            });
            expect(compareToRef(r, ref, 1e-5)).toBe('');
            results.set(`${be.name}/${statistic}/${weighting}/${k}`, r);
          });
        });
      }
    }
  }

  it('cpu and webgpu agree', async () => {
    if (!(await webgpuOrNull())) return expect(backends).toHaveLength(1);
    let compared = 0;
    for (const [key, a] of results) {
      if (!key.startsWith('cpu/')) continue;
      const b = results.get(key.replace(/^cpu/, 'webgpu'))!;
      expect(b.coadd.mask.data).toEqual(a.coadd.mask.data);
      expect(b.coverage).toEqual(a.coverage);
      for (let p = 0; p < a.coverage.length; p++) {
        const x = a.coadd.image.data[p]!;
        const y = b.coadd.image.data[p]!;
        if (Number.isNaN(x)) expect(y).toBeNaN();
        else expect(Math.abs(x - y)).toBeLessThanOrEqual(1e-6 * (Math.abs(x) + 1));
      }
      compared++;
    }
    expect(compared).toBe(30);
  });
});

describe('stack semantics on constructed pixels', () => {
  afterAll(disposeBackends);
  const one = (values: number[], masks: number[] = [], variances: number[] = []) =>
    values.map((x, i) => {
      const mi = MaskedImage.create(1, 1);
      mi.image.data[0] = x;
      mi.mask.data[0] = masks[i] ?? 0;
      mi.variance.data[0] = variances[i] ?? 4;
      return mi;
    });

  it('MEANCLIP drops a cosmic ray that MEAN keeps; MEDIAN is the middle value', async () => {
    const cpu = cpuBackend();
    const inputs = one([10, 11, 9, 10.5, 9.5, 10, 500]);
    const mean = await stack(cpu, inputs, { statistic: 'MEAN' });
    const clip = await stack(cpu, inputs, { statistic: 'MEANCLIP' });
    const med = await stack(cpu, inputs, { statistic: 'MEDIAN' });
    expect(mean.coadd.image.data[0]).toBeCloseTo(560 / 7, 4);
    expect(clip.coadd.image.data[0]).toBeCloseTo(10, 5);
    expect(clip.coverage[0]).toBe(6);
    expect(clip.coadd.mask.data[0]).toBe(CLIPPED);
    expect(med.coadd.image.data[0]).toBe(10);
    // Variance of a mean of 6 inputs of variance 4 (equal weights).
    expect(clip.coadd.variance.data[0]).toBeCloseTo(4 / 6, 6);
    expect(med.coadd.variance.data[0]).toBeCloseTo((4 / 7) * (Math.PI / 2), 5);
  });

  it('SAT survives when the rejected weight fraction exceeds 0.1, not below', async () => {
    const cpu = cpuBackend();
    const many = (nSat: number, n: number) =>
      one(
        Array(n).fill(5),
        Array.from({ length: n }, (_, i) => (i < nSat ? SAT : 0)),
      );
    // Explicit equal weights: a 1x1 warp that is all SAT has no good pixel to weigh it by.
    const a = await stack(cpu, many(2, 10), { statistic: 'MEAN', weights: Array(10).fill(1) });
    const b = await stack(cpu, many(1, 20), { statistic: 'MEAN', weights: Array(20).fill(1) });
    expect(a.coadd.mask.data[0]).toBe(SAT | REJECTED);
    expect(a.coverage[0]).toBe(8);
    expect(b.coadd.mask.data[0]).toBe(REJECTED);
  });

  it('no usable input: NaN, +Inf variance, NO_DATA, coverage 0', async () => {
    const cpu = cpuBackend();
    const r = await stack(cpu, one([Number.NaN, 3, 4], [0, NO_DATA, BAD]));
    expect(r.coadd.image.data[0]).toBeNaN();
    expect(r.coadd.variance.data[0]).toBe(Number.POSITIVE_INFINITY);
    expect(r.coadd.mask.data[0]).toBe(NO_DATA | REJECTED);
    expect(r.coverage[0]).toBe(0);
  });

  it('one input is returned with its own variance', async () => {
    const r = await stack(cpuBackend(), one([7.25], [CR], [2.5]));
    expect(r.coadd.image.data[0]).toBe(7.25);
    expect(r.coadd.variance.data[0]).toBe(2.5);
    expect(r.coadd.mask.data[0]).toBe(CR);
    expect(r.coverage[0]).toBe(1);
  });

  it('webgpu: row bands under a small budget give identical bits', async () => {
    const g = await webgpuOrNull();
    if (!g) return expect(process.env.CI).not.toBe('true');
    const inputs = warps(new Rng(TEST_SEED + 9), 5, 40, 37);
    const p = prepareStack(inputs, {});
    const whole = await stackGpu(g, inputs, p);
    const banded = await stackGpu(g, inputs, p, { budgetBytes: 40 * (12 * 5 + 16) * 6 });
    expect(banded.coadd.image.data).toEqual(whole.coadd.image.data);
    expect(banded.coadd.mask.data).toEqual(whole.coadd.mask.data);
    expect(banded.coverage).toEqual(whole.coverage);
  });
});

describe('stack: bad input', () => {
  const mk = (w: number, h: number) => MaskedImage.create(w, h);
  const err = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e as Error;
    }
    return null;
  };
  it('no inputs', () => {
    const e = err(() => prepareStack([], {}));
    expect(e).toBeInstanceOf(OpInputError);
    expect(e?.message).toMatch(/^stack: no inputs/);
  });
  it('warps of different grids', () => {
    expect(err(() => prepareStack([mk(4, 4), mk(4, 5)], {}))?.message).toMatch(
      /warp 1 is 4x5 .* same patch grid/,
    );
    const shifted = MaskedImage.create(4, 4, { xy0: { x: 1, y: 0 } });
    expect(err(() => prepareStack([mk(4, 4), shifted], {}))).toBeInstanceOf(OpInputError);
  });
  it('unknown planes, bad weights, bad statistic', () => {
    expect(err(() => prepareStack([mk(2, 2)], { badMaskPlanes: ['NOPE'] }))?.message).toMatch(
      /NOPE/,
    );
    expect(err(() => prepareStack([mk(2, 2), mk(2, 2)], { weights: [1] }))?.message).toMatch(
      /1 weights for 2 inputs/,
    );
    expect(err(() => prepareStack([mk(2, 2)], { statistic: 'MODE' as never }))?.message).toMatch(
      /invalid statistic/,
    );
  });
});
