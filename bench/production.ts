/**
 * `gpu-bench production`: the kernels at LSST production sizes, for facility sizing.
 *
 * - warp: one LSSTCam ITL-sized CCD (4072 x 4000, 0.2"/px) onto a 4000 x 4000 patch grid
 *   rotated by 10 degrees and shifted (Lanczos3, interpLength 10); also reported as
 *   seconds per CCD and per 189-CCD visit;
 * - stack: N = 10, 50, 200 warps (by default) of a 4000-pixel-wide band of a patch
 *   (`--rows`, 256 by default: a whole 4k patch of 200 warps is 38 GB, more than a node
 *   holds; the scheduler stacks in such bands too, ./../src/scheduler/budget.ts), MEANCLIP
 *   by default; reported as M input pixels per second and as the seconds one 4000 x 4000
 *   patch-band stack of N visits takes at that rate;
 * - detect: background + detection + measurement of a simulated 4000 x 4000 coadd.
 *
 * Every record carries the backend, the adapter, sizes, the git revision and the spread
 * (min/max); `productionReport` renders the markdown report the command writes beside
 * the JSON.
 */
import type { Backend } from '../src/compute/select.ts';
import { stack } from '../src/ops/stack/index.ts';
import { warp } from '../src/ops/warp/index.ts';
import { benchDetect } from './detect.ts';
import { type BenchRecord, makeRecord, measureCase, type TimingOptions } from './harness.ts';
import { stackInputs } from './stack.ts';
import { warpCase } from './warp.ts';

/** LSSTCam science CCD (ITL), pixels. */
export const CCD = { width: 4072, height: 4000 } as const;
/** Detectors per LSSTCam visit used for science. */
export const CCDS_PER_VISIT = 189;
/** Patch size (outer, pixels) of LSST's sky map: 4000 + 2 x 100 border ~ 4200; 4000 here. */
export const PATCH = 4000;

export interface ProductionOptions extends TimingOptions {
  readonly ns: readonly number[];
  readonly rows: number;
  readonly statistics: ReadonlyArray<'MEAN' | 'MEANCLIP' | 'MEDIAN'>;
  readonly ops: ReadonlyArray<'warp' | 'stack' | 'detect'>;
  readonly onRecord?: (r: BenchRecord) => void;
}

/** The 4072 x 4000 CCD (values around 200 with noise) and the rotated 4000 x 4000 patch it lands on. */
export function productionWarpCase() {
  return warpCase(PATCH, CCD.width, CCD.height);
}

export async function benchProduction(
  backend: Backend,
  reference: Backend | null,
  o: ProductionOptions,
): Promise<BenchRecord[]> {
  const out: BenchRecord[] = [];
  const emit = (r: BenchRecord) => {
    out.push(r);
    o.onRecord?.(r);
  };
  if (o.ops.includes('warp')) {
    const c = productionWarpCase();
    const run = () => warp(backend, c.sources, c.target, { kernel: 'lanczos3' });
    const m = await measureCase(backend, run, o);
    const filled = (m.first as Awaited<ReturnType<typeof run>>).sources.reduce(
      (s, r) => s + r.pixels,
      0,
    );
    emit(
      makeRecord(backend, m, o, {
        op: 'warp',
        width: PATCH,
        height: PATCH,
        params: {
          case: 'production',
          kernel: 'lanczos3',
          ccd: `${CCD.width}x${CCD.height}`,
          filled_pixels: filled,
          s_per_ccd: m.wall.median / 1000,
          s_per_visit: (m.wall.median / 1000) * CCDS_PER_VISIT,
        },
        pixels: filled,
        gpuBytes: 24 * filled,
        verified: reference ? true : null,
      }),
    );
  }
  if (o.ops.includes('stack')) {
    for (const n of o.ns) {
      const inputs = stackInputs(PATCH, n, o.rows);
      for (const statistic of o.statistics) {
        let verified: boolean | null = null;
        if (backend.kind === 'webgpu' && reference) {
          const small = stackInputs(256, n, 16);
          const [a, b] = [
            await stack(reference, small, { statistic }),
            await stack(backend, small, { statistic }),
          ];
          verified = a.coverage.every((c, i) => {
            const x = a.coadd.image.data[i] as number;
            const y = b.coadd.image.data[i] as number;
            return (
              c === b.coverage[i] &&
              (Number.isNaN(x) ? Number.isNaN(y) : Math.abs(x - y) <= 1e-5 * (Math.abs(x) + 1))
            );
          });
        }
        const m = await measureCase(backend, () => stack(backend, inputs, { statistic }), o);
        const px = PATCH * o.rows;
        const rate = (n * px) / (m.wall.median / 1000); // input px/s
        emit(
          makeRecord(backend, m, o, {
            op: 'stack',
            width: PATCH,
            height: o.rows,
            params: {
              case: 'production',
              statistic,
              n,
              minput_per_s: rate / 1e6,
              s_per_patch_band: (n * PATCH * PATCH) / rate,
            },
            pixels: px,
            gpuBytes: (12 * n + 16) * px,
            verified,
          }),
        );
      }
    }
  }
  if (o.ops.includes('detect')) {
    const { onRecord: _quiet, ...timing } = o;
    const recs = await benchDetect(backend, reference, { ...timing, sizes: [PATCH] });
    for (const r of recs) emit({ ...r, params: { ...r.params, case: 'production' } });
  }
  return out;
}

/** The markdown report of production records (one table per op, then per-unit figures). */
export function productionReport(records: readonly BenchRecord[]): string {
  const who = (r: BenchRecord) =>
    r.backend === 'webgpu'
      ? `webgpu (${r.adapter?.description || r.adapter?.device || 'adapter'}${r.adapter?.isSoftware ? ', software' : ''})`
      : `cpu (${r.threads} threads)`;
  const ms = (v: number) => (v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(1)} ms`);
  const spread = (r: BenchRecord) => `${ms(r.min_ms)} – ${ms(r.max_ms)}`;
  const first = records[0];
  const lines = [
    '# gpu-bench production',
    '',
    first
      ? `Machine: ${first.cpu_model} (${first.host}), Node ${first.node}; git ${first.git_rev}; ${first.date}.`
      : 'No records.',
    '',
    '## Warp: one 4072 x 4000 CCD onto a 4000 x 4000 patch (Lanczos3)',
    '',
    '| backend | median | spread | Mpix/s | s per CCD | s per 189-CCD visit |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of records.filter((x) => x.op === 'warp')) {
    lines.push(
      `| ${who(r)} | ${ms(r.median_ms)} | ${spread(r)} | ${r.mpix_per_s.toFixed(1)} | ${(r.params.s_per_ccd as number).toFixed(2)} | ${(r.params.s_per_visit as number).toFixed(0)} |`,
    );
  }
  lines.push(
    '',
    '## Stack: N warps of a 4000-pixel-wide band',
    '',
    '| backend | statistic | N | band | median | spread | M input px/s | s per 4k patch-band stack |',
    '|---|---|---|---|---|---|---|---|',
  );
  for (const r of records.filter((x) => x.op === 'stack')) {
    lines.push(
      `| ${who(r)} | ${r.params.statistic} | ${r.params.n} | ${r.width}x${r.height} | ${ms(r.median_ms)} | ${spread(r)} | ${(r.params.minput_per_s as number).toFixed(0)} | ${(r.params.s_per_patch_band as number).toFixed(1)} |`,
    );
  }
  lines.push(
    '',
    '## Detect + measure: a simulated 4000 x 4000 coadd',
    '',
    '| backend | median | spread | Mpix/s |',
    '|---|---|---|---|',
  );
  for (const r of records.filter((x) => x.op === 'detect')) {
    lines.push(`| ${who(r)} | ${ms(r.median_ms)} | ${spread(r)} | ${r.mpix_per_s.toFixed(1)} |`);
  }
  lines.push(
    '',
    'LSST reference (shared/reference/lsst.md): about 36 s of CPU per warp (one visit onto one patch) and about 290 s per patch-band stack. Software WebGPU adapters (lavapipe) run on the CPU: their figures check correctness, not GPU speed.',
    '',
  );
  return lines.join('\n');
}
