/**
 * Conformance suite of `convolve`: every case runs on every backend (cpu, and webgpu on
 * the machine's adapter -- lavapipe in CI) against a naive float64 direct convolution,
 * then the backends are compared with each other.
 *
 * Declared tolerances (float32 sums of up to 41 x 41 taps, per pixel):
 *   image:    |out - ref| <= TOL_REF * sum_k |K_k v_k|      (+ TINY)
 *   variance: |out - ref| <= TOL_REF * sum_k K_k^2 |var_k|  (+ TINY)
 *   cpu vs webgpu: TOL_BACKENDS on the same scale (GPUs may fuse multiply-adds);
 *   mask bits, NaN positions and edge pixels: exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/compute/select.ts';
import { ImageF } from '../../src/image/image.ts';
import { Mask } from '../../src/image/mask.ts';
import { MaskedImage } from '../../src/image/masked-image.ts';
import { convolveGpu } from '../../src/ops/convolve/gpu.ts';
import { type ConvolveParams, convolve } from '../../src/ops/convolve/index.ts';
import { prepareConvolve } from '../../src/ops/convolve/spec.ts';
import { OpInputError } from '../../src/ops/errors.ts';
import {
  type BackendCase,
  backendCases,
  cpuBackend,
  disposeBackends,
  webgpuOrNull,
} from '../helpers/backends.ts';
import { kernelTable, referenceConvolve } from '../helpers/convolve-reference.ts';
import { Rng, TEST_SEED } from '../helpers/random.ts';

const TOL_REF = 1e-5;
const TOL_BACKENDS = 1e-6;
const TINY = 1e-30;

const EDGE = 1 << 4;
const NO_DATA = 1 << 8;

interface Case {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly kernel:
    | { kind: 'gaussian'; sigma: number; size: number }
    | { kind: 'separable'; kx: number[]; ky: number[] }
    | { kind: 'general'; width: number; height: number; values: number[] };
  readonly normalize?: boolean;
  readonly edge?: 'nan' | 'copy';
  readonly nans?: number;
  readonly xy0?: { x: number; y: number };
}

function randomImage(rng: Rng, c: Case): MaskedImage {
  const mi = MaskedImage.create(c.width, c.height, c.xy0 ? { xy0: c.xy0 } : {});
  const n = c.width * c.height;
  for (let i = 0; i < n; i++) {
    mi.image.data[i] = rng.normal() * 100 + 20;
    mi.variance.data[i] = rng.uniform(1, 50);
    // A sprinkling of mask bits in the low planes (BAD, SAT, CR) and a high user plane.
    const u = rng.next();
    mi.mask.data[i] = u < 0.03 ? 1 : u < 0.05 ? 2 : u < 0.06 ? 8 : u < 0.065 ? 1 << 20 : 0;
  }
  for (let k = 0; k < (c.nans ?? 0); k++) {
    const i = rng.int(0, n - 1);
    if (k % 3 === 2) mi.variance.data[i] = Number.POSITIVE_INFINITY;
    else mi.image.data[i] = Number.NaN;
  }
  return mi;
}

function paramsOf(c: Case): ConvolveParams {
  return { kernel: c.kernel, normalize: c.normalize ?? true, edge: c.edge ?? 'nan' };
}

function cases(rng: Rng): Case[] {
  const r = (n: number) => Array.from({ length: n }, () => rng.uniform(0.05, 1));
  const general55 = r(25);
  general55[3] = 0;
  general55[17] = 0;
  const g41: number[] = [];
  for (let j = 0; j < 41; j++)
    for (let i = 0; i < 41; i++)
      g41.push(Math.exp(-((i - 20) ** 2 + (j - 18) ** 2) / 60) + 0.01 * rng.next());
  return [
    {
      name: 'gaussian 5 on an odd-sized image',
      width: 37,
      height: 29,
      kernel: { kind: 'gaussian', sigma: 1.3, size: 5 },
    },
    {
      name: 'asymmetric separable 7x3 with NaN and Inf inputs',
      width: 64,
      height: 48,
      kernel: { kind: 'separable', kx: r(7), ky: r(3) },
      nans: 12,
    },
    {
      name: 'general 5x5 with zero taps and NaN',
      width: 53,
      height: 41,
      kernel: { kind: 'general', width: 5, height: 5, values: general55 },
      nans: 5,
    },
    {
      name: '1x1 image, 1x1 kernel',
      width: 1,
      height: 1,
      kernel: { kind: 'general', width: 1, height: 1, values: [2] },
      normalize: false,
    },
    {
      name: 'general 41x41',
      width: 97,
      height: 85,
      kernel: { kind: 'general', width: 41, height: 41, values: g41 },
      nans: 2,
    },
    {
      name: 'gaussian 41, copied edges, xy0',
      width: 300,
      height: 200,
      kernel: { kind: 'gaussian', sigma: 6, size: 41 },
      edge: 'copy',
      xy0: { x: 10, y: -20 },
    },
    {
      name: 'zero-sum Laplacian, not normalized',
      width: 40,
      height: 33,
      kernel: { kind: 'general', width: 3, height: 3, values: [0, -1, 0, -1, 4, -1, 0, -1, 0] },
      normalize: false,
    },
    {
      name: 'kernel as large as the image',
      width: 5,
      height: 7,
      kernel: { kind: 'separable', kx: r(5), ky: r(7) },
    },
    {
      name: 'wide strip',
      width: 1000,
      height: 3,
      kernel: { kind: 'general', width: 3, height: 3, values: r(9) },
    },
    {
      name: 'separable 11 on a pool-sized image',
      width: 517,
      height: 301,
      kernel: { kind: 'separable', kx: r(11), ky: r(11) },
      nans: 40,
    },
  ];
}

interface Comparison {
  /** First pixel whose mask, NaN-ness or copied value differs, as a message, or ''. */
  readonly firstMismatch: string;
  /** Worst |error| / tolerance over all pixels (<= 1 passes). */
  readonly worst: number;
}

/**
 * Compare `out` with `ref` pixel by pixel: masks and NaN positions exactly, values
 * within `tol` x the reference's sum of |terms|. One summary instead of an expect per
 * pixel keeps large cases fast.
 */
function compare(
  out: MaskedImage,
  ref: {
    img: ArrayLike<number>;
    vr: ArrayLike<number>;
    msk: ArrayLike<number>;
    absImg: ArrayLike<number>;
    absVar: ArrayLike<number>;
  },
  tol: number,
  pixels?: readonly number[],
): Comparison {
  let worst = 0;
  const n = out.width * out.height;
  const idx = pixels ?? Array.from({ length: n }, (_, i) => i);
  for (const i of idx) {
    const a = out.image.data[i]!;
    const b = ref.img[i]!;
    const v = out.variance.data[i]!;
    if (out.mask.data[i] !== ref.msk[i])
      return { firstMismatch: `mask at ${i}: ${out.mask.data[i]} != ${ref.msk[i]}`, worst };
    if (Number.isNaN(b) !== Number.isNaN(a))
      return { firstMismatch: `NaN at ${i}: ${a} vs ${b}`, worst };
    if (Number.isNaN(b)) {
      if (v !== ref.vr[i])
        return { firstMismatch: `variance at NaN pixel ${i}: ${v} != ${ref.vr[i]}`, worst };
      continue;
    }
    if (ref.absImg[i] === 0 && ref.absVar[i] === 0) {
      // Copied edge pixels (or all-zero sums): exact.
      if (a !== Math.fround(b) || v !== Math.fround(ref.vr[i]!))
        return { firstMismatch: `copied pixel ${i}: ${a}, ${v} vs ${b}, ${ref.vr[i]}`, worst };
      continue;
    }
    worst = Math.max(
      worst,
      Math.abs(a - b) / (tol * ref.absImg[i]! + TINY),
      Math.abs(v - ref.vr[i]!) / (tol * ref.absVar[i]! + TINY),
    );
  }
  return { firstMismatch: '', worst };
}

function referenceFor(mi: MaskedImage, c: Case) {
  const t = kernelTable(c.kernel, c.normalize ?? true);
  return referenceConvolve(
    mi,
    t,
    c.edge ?? 'nan',
    c.edge === 'copy' ? EDGE : EDGE | NO_DATA,
    NO_DATA,
  );
}

describe(`convolve conformance (seed ${TEST_SEED})`, async () => {
  const backends: BackendCase[] = await backendCases();
  const rng = new Rng(TEST_SEED);
  const all = cases(rng);
  const inputs = all.map((c) => randomImage(rng, c));
  const results = new Map<string, MaskedImage[]>();

  afterAll(async () => {
    await disposeBackends();
  });

  for (const be of backends) {
    describe(be.name, () => {
      let backend: Backend;
      beforeAll(async () => {
        backend = await be.get();
      });
      all.forEach((c, k) => {
        it(`${c.name} (${c.width}x${c.height}) matches the float64 reference`, async () => {
          const mi = inputs[k]!;
          const before = mi.clone();
          const out = await convolve(backend, mi, paramsOf(c));
          expect(out.width).toBe(c.width);
          expect(out.height).toBe(c.height);
          expect(out.xy0).toEqual(mi.xy0);
          expect(out.mask.planes).toBe(mi.mask.planes);
          // The input is left untouched.
          expect(mi.image.data).toEqual(before.image.data);
          expect(mi.mask.data).toEqual(before.mask.data);
          const r = compare(out, referenceFor(mi, c), TOL_REF);
          expect(r.firstMismatch).toBe('');
          expect(r.worst).toBeLessThanOrEqual(1);
          const list = results.get(be.name) ?? [];
          list[k] = out;
          results.set(be.name, list);
        });
      });
    });
  }

  it('cpu and webgpu agree to rounding on every case', async () => {
    const g = await webgpuOrNull();
    if (!g) {
      // Only reachable outside CI (webgpuOrNull throws under CI=true without an adapter).
      expect(backends.map((b) => b.name)).toEqual(['cpu']);
      return;
    }
    const cpu = results.get('cpu');
    const gpu = results.get('webgpu');
    expect(cpu?.length).toBe(all.length);
    expect(gpu?.length).toBe(all.length);
    all.forEach((c, k) => {
      const a = cpu![k]!;
      const b = gpu![k]!;
      // The cpu result as the reference, with the f64 reference's error scale.
      const ref = referenceFor(inputs[k]!, c);
      const r = compare(
        b,
        {
          img: a.image.data,
          vr: a.variance.data,
          msk: a.mask.data,
          absImg: ref.absImg,
          absVar: ref.absVar,
        },
        TOL_BACKENDS,
      );
      expect(r.firstMismatch, c.name).toBe('');
      expect(r.worst, c.name).toBeLessThanOrEqual(1);
    });
  });
});

describe('convolve: results do not depend on how the work is split', () => {
  afterAll(async () => {
    await disposeBackends();
  });

  it('cpu: 1 thread and 2 threads give identical bits', async () => {
    const rng = new Rng(TEST_SEED + 1);
    const c: Case = {
      name: 'split',
      width: 700,
      height: 257,
      kernel: { kind: 'gaussian', sigma: 2, size: 11 },
      nans: 9,
    };
    const mi = randomImage(rng, c);
    const one = await convolve(cpuBackend(1), mi, paramsOf(c));
    const two = await convolve(cpuBackend(2), mi, paramsOf(c));
    expect(two.image.data).toEqual(one.image.data);
    expect(two.variance.data).toEqual(one.variance.data);
    expect(two.mask.data).toEqual(one.mask.data);
  });

  it('webgpu: row bands under a small memory budget give identical bits', async () => {
    const g = await webgpuOrNull();
    if (!g) return expect(process.env.CI).not.toBe('true');
    const rng = new Rng(TEST_SEED + 2);
    for (const kernel of [
      { kind: 'gaussian', sigma: 2, size: 11 },
      {
        kind: 'general',
        width: 5,
        height: 7,
        values: Array.from({ length: 35 }, () => rng.next()),
      },
    ] as const) {
      const c: Case = { name: 'bands', width: 300, height: 211, kernel, nans: 7 };
      const mi = randomImage(rng, c);
      const p = prepareConvolve(mi, paramsOf(c));
      const whole = await convolveGpu(g, mi, p);
      // 9 planes x 300 px x 4 B x 40 rows: several bands of ~30 output rows each.
      const banded = await convolveGpu(g, mi, p, { budgetBytes: 9 * 300 * 4 * 40 });
      expect(banded.image.data).toEqual(whole.image.data);
      expect(banded.variance.data).toEqual(whole.variance.data);
      expect(banded.mask.data).toEqual(whole.mask.data);
    }
  });
});

describe("convolve: nonFinite 'zero'", () => {
  afterAll(async () => {
    await disposeBackends();
  });

  it('equals convolving a copy with non-finite pixels set to 0, on every backend, bit for bit', async () => {
    const rng = new Rng(TEST_SEED + 3);
    for (const be of await backendCases()) {
      const backend = await be.get();
      for (const kernel of [
        { kind: 'gaussian', sigma: 1.7, size: 11 },
        {
          kind: 'general',
          width: 5,
          height: 3,
          values: Array.from({ length: 15 }, () => rng.next()),
        },
      ] as const) {
        const c: Case = { name: 'zero', width: 130, height: 97, kernel, nans: 40 };
        const mi = randomImage(rng, c);
        mi.variance.data[501] = Number.POSITIVE_INFINITY;
        const clean = new MaskedImage(mi.image.clone(), mi.mask, mi.variance.clone());
        let zeroed = 0;
        for (let i = 0; i < clean.image.data.length; i++) {
          if (!Number.isFinite(clean.image.data[i]) || !Number.isFinite(clean.variance.data[i])) {
            clean.image.data[i] = 0;
            clean.variance.data[i] = 0;
            zeroed++;
          }
        }
        expect(zeroed).toBeGreaterThan(10);
        const want = await convolve(backend, clean, paramsOf(c));
        const got = await convolve(backend, mi, { ...paramsOf(c), nonFinite: 'zero' });
        expect(got.image.data, be.name).toEqual(want.image.data);
        expect(got.variance.data, be.name).toEqual(want.variance.data);
        expect(got.mask.data, be.name).toEqual(want.mask.data);
        // The default propagates: some outputs are NO_DATA that 'zero' computes.
        const prop = await convolve(backend, mi, paramsOf(c));
        const nd = (m: Int32Array) => m.reduce((a, x) => a + ((x & NO_DATA) !== 0 ? 1 : 0), 0);
        expect(nd(prop.mask.data)).toBeGreaterThan(nd(got.mask.data));
      }
    }
  });
});

describe('convolve on a 4096 x 4096 MaskedImage (cpu)', () => {
  afterAll(async () => {
    await disposeBackends();
  });

  it('matches the reference on a sample of 20000 pixels', async () => {
    const rng = new Rng(TEST_SEED + 3);
    const W = 4096;
    const mi = MaskedImage.create(W, W);
    for (let i = 0; i < W * W; i++) {
      mi.image.data[i] = (i % 7919) * 0.01 - 30;
      mi.variance.data[i] = 1 + (i % 13);
    }
    for (let k = 0; k < 1000; k++) mi.mask.data[rng.int(0, W * W - 1)] = 1 << rng.int(0, 3);
    mi.image.data[2000 * W + 2000] = Number.NaN;
    const kernel = { kind: 'gaussian', sigma: 1.8, size: 11 } as const;
    const out = await convolve(cpuBackend(2), mi, { kernel });
    const pixels: Array<[number, number]> = [
      [2000, 2000],
      [2003, 1998],
      [0, 0],
      [4095, 4095],
      [5, 2000],
    ];
    for (let k = 0; k < 20000; k++) pixels.push([rng.int(0, W - 1), rng.int(0, W - 1)]);
    const ref = referenceConvolve(
      mi,
      kernelTable(kernel, true),
      'nan',
      EDGE | NO_DATA,
      NO_DATA,
      pixels,
    );
    const r = compare(
      out,
      ref,
      TOL_REF,
      pixels.map(([x, y]) => y * W + x),
    );
    expect(r.firstMismatch).toBe('');
    expect(r.worst).toBeLessThanOrEqual(1);
    // The NaN spreads over its 11 x 11 footprint and is flagged NO_DATA, no further.
    expect(out.image.data[2005 * W + 2005]).toBeNaN();
    expect(out.mask.data[2005 * W + 2005]! & NO_DATA).toBe(NO_DATA);
    expect(out.image.data[2006 * W + 2000]).not.toBeNaN();
  });
});

describe('convolve: bad input', () => {
  const mi = MaskedImage.create(20, 10);
  const check = (params: unknown, what: RegExp, img = mi) => {
    let err: unknown;
    try {
      prepareConvolve(img, params as ConvolveParams);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OpInputError);
    expect((err as OpInputError).op).toBe('convolve');
    expect((err as Error).message).toMatch(/^convolve: /);
    expect((err as Error).message).toMatch(what);
  };

  it('kernel larger than the image', () => {
    check(
      { kernel: { kind: 'gaussian', sigma: 3, size: 13 } },
      /larger than the image 20x10; use a smaller kernel/,
    );
  });
  it('even-sized kernel', () => {
    check(
      { kernel: { kind: 'general', width: 4, height: 3, values: Array(12).fill(1) } },
      /odd size/,
    );
    check({ kernel: { kind: 'separable', kx: [1, 1], ky: [1] } }, /kx length is 2/);
  });
  it('non-finite kernel values', () => {
    check(
      { kernel: { kind: 'separable', kx: [1, Number.NaN, 1], ky: [1] } },
      /invalid kernel\.kx\.1: must be a finite number/,
    );
    check(
      { kernel: { kind: 'general', width: 1, height: 1, values: [Number.POSITIVE_INFINITY] } },
      /kernel.values.0: must be a finite number/,
    );
  });
  it('a kernel summing to zero cannot be normalized', () => {
    check({ kernel: { kind: 'separable', kx: [1, 0, -1], ky: [1] } }, /normalize: false/);
  });
  it('zero-sized image', () => {
    check(
      { kernel: { kind: 'gaussian', sigma: 1, size: 1 } },
      /0x5; give it at least one pixel/,
      MaskedImage.create(0, 5),
    );
  });
  it('mismatched plane sizes are refused when the MaskedImage is built', () => {
    expect(() => new MaskedImage(new ImageF(4, 4), new Mask(4, 5), new ImageF(4, 4))).toThrow(
      /MaskedImage planes differ: image 4x4 .* mask 4x5/,
    );
  });
  it('unknown parameters and kernel kinds', () => {
    check({ kernel: { kind: 'box', size: 3 } }, /invalid kernel/);
    check({ kernel: { kind: 'gaussian', sigma: -1 } }, /invalid kernel\.sigma: must be > 0/);
  });
});
