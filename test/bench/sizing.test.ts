/**
 * The facility sizing model (bench/sizing): hand-computed totals for a small survey,
 * calibration of the defaults against the lsst.md figures, monotonicity, shares, the
 * LSST baseline, throughputs from the committed bench/results records, the SVG chart
 * read back as XML, input validation, and the `size` command through its handler.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_RESULTS_DIR, runSize, sizeCommand } from '../../bench/sizing/command.ts';
import { SizingError } from '../../bench/sizing/errors.ts';
import {
  DEFAULT_INPUTS,
  geometry,
  lsstBaseline,
  nightlyWork,
  parseSizingInputs,
  releaseWork,
  type SizingInputs,
  sizeFacilities,
  windowSeconds,
} from '../../bench/sizing/model.ts';
import { renderMarkdown } from '../../bench/sizing/report.ts';
import { renderSvg } from '../../bench/sizing/svg.ts';
import {
  applyProfile,
  type DeviceThroughput,
  loadThroughputs,
  type StackPoint,
  stackRateAt,
  type ThroughputSet,
} from '../../bench/sizing/throughputs.ts';

const RESULTS = new URL('../../bench/results/', import.meta.url).pathname;
const PROFILE = new URL('../../bench/sizing/profiles/h100-targets.json', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'gpu-drp-sizing-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A device with round rates: warp 1 Mpix/s, MEANCLIP 2 M input px/s (N = 10 only), detect 0.5 Mpix/s, read 10 MB/s. */
function device(scale = 1, id = 'test:device'): DeviceThroughput {
  return {
    id,
    label: `test device x${scale}`,
    kind: 'gpu',
    origin: 'measured',
    warpMpixPerS: { lanczos3: { value: 1 * scale, source: 'test' } },
    stack: {
      MEANCLIP: [{ n: 10, minputPerS: 2 * scale, source: 'test' }],
      MEAN: [{ n: 10, minputPerS: 4 * scale, source: 'test' }],
    },
    detectMpixPerS: { value: 0.5 * scale, source: 'test' },
    ioMBPerS: { uncompressed: { value: 10 * scale, source: 'test' } },
    notes: [],
  };
}

function set(...devices: DeviceThroughput[]): ThroughputSet {
  return { devices, files: [], ignored: [] };
}

/** 2 visits a night, 10 nights, 4 CCDs of 100 x 100 px, 2 tracts of 4 patches of 100 px (no border), 2 bands. */
const SMALL = {
  survey: {
    visitsPerNight: 2,
    nightsPerYear: 10,
    ccdsPerVisit: 4,
    ccdWidthPx: 100,
    ccdHeightPx: 100,
    bandWeights: { r: 1, i: 1 },
  },
  skymap: {
    tracts: 2,
    patchesPerTract: 4,
    patchInnerPx: 100,
    patchBorderPx: 0,
    skyOverlapFactor: 1,
  },
  releases: [{ name: 'DR1', years: 1 }],
  sizeFor: 'DR1',
  facilities: [
    { name: 'A', sharePercent: 50, nightlySharePercent: null },
    { name: 'B', sharePercent: 50, nightlySharePercent: null },
  ],
  schedule: { campaignDays: 1, nightlyWindowHours: 24, utilisation: 1 },
  lsst: { wallPerCpu: 1 },
};

describe('a small survey, by hand', () => {
  const inputs = parseSizingInputs(SMALL);
  const g = geometry(inputs);

  it('geometry: pieces, warp pixels and warps per visit', () => {
    expect(g.patchOuterPx).toBe(100);
    // (w + O) / P x (h + O) / P = 2 x 2 patch pieces per CCD; every CCD pixel lands in one patch.
    expect(g.ccdWarpsPerCcd).toBe(4);
    expect(g.warpPixelsPerCcd).toBe(10_000);
    // A = 4 x 100^2 = 40,000 px, R = sqrt(A / pi) = 112.8379 px:
    // (A + 4 R O + O^2) / P^2 = (40,000 + 45,135.17 + 10,000) / 10,000.
    expect(g.focalPlanePx).toBe(40_000);
    expect(g.patchWarpsPerVisit).toBeCloseTo(9.513517, 5);
    expect(g.patches).toBe(8);
    expect(g.bands).toEqual([
      { band: 'r', fraction: 0.5 },
      { band: 'i', fraction: 0.5 },
    ]);
  });

  it('release work totals', () => {
    const w = releaseWork(inputs, g, 'DR1', 1);
    expect(w.visits).toBe(20);
    expect(w.ccdExposures).toBe(80);
    expect(w.ccdWarps).toBe(320);
    expect(w.warpOutputPixels).toBe(800_000);
    expect(w.patchVisitWarps).toBeCloseTo(190.27034, 4);
    expect(w.patchBands).toBe(16);
    // 190.27 warps split evenly over 2 bands and 8 patches.
    expect(w.visitsPerPatchBand.map((b) => b.n)).toEqual([
      expect.closeTo(11.891896, 5),
      expect.closeTo(11.891896, 5),
    ]);
    expect(w.stackInputPixels).toBeCloseTo(1_902_703.4, 0);
    expect(w.coaddPixels).toBe(160_000);
    expect(w.inputBytes).toBe(80 * 10_000 * 12);
    expect(w.outputBytes).toBe(160_000 * 12);
  });

  it('device-seconds per step, devices and facilities', () => {
    const r = sizeFacilities(inputs, set(device()));
    const t = r.releases[0]!.perDevice[0]!;
    expect(t.seconds.warp).toBeCloseTo(0.8, 12); // 800,000 px / 1e6 px/s
    expect(t.seconds.stack).toBeCloseTo(0.9513517, 6); // 1.9027e6 input px / 2e6 (N = 11.9: one point, constant rate)
    expect(t.seconds.detect).toBeCloseTo(0.32, 12); // 160,000 px / 0.5e6
    expect(t.seconds.io).toBeCloseTo(1.152, 12); // (9.6e6 + 1.92e6) B / 1e7 B/s
    expect(t.totalSeconds).toBeCloseTo(3.2233517, 6);
    expect(t.missing).toEqual([]);
    expect(t.stackExtrapolated.map((e) => e.band)).toEqual(['r', 'i']);
    expect(r.releases[0]!.windowSeconds).toBe(86_400);
    expect(t.devices).toBeCloseTo(3.2233517 / 86_400, 12);
    for (const f of r.facilities.release) {
      expect(f.devices[0]!.exact).toBeCloseTo(t.devices / 2, 15);
      expect(f.devices[0]!.whole).toBe(1);
    }
    // One night: 2 visits, 8 CCDs: warp 80,000 px, read 8 x 120,000 B.
    const n = r.nightly.perDevice[0]!;
    expect(n.seconds).toEqual({ warp: expect.closeTo(0.08, 12), io: expect.closeTo(0.096, 12) });
    expect(n.devices).toBeCloseTo(0.176 / 86_400, 12);
  });

  it('LSST baseline: 36 s x warps + 290 s and 83 s x patch-bands', () => {
    const r = sizeFacilities(inputs, set(device()));
    const l = r.releases[0]!.lsst;
    const warps = 20 * g.patchWarpsPerVisit;
    expect(l.cpuSeconds.warp).toBeCloseTo(36 * warps, 9);
    expect(l.cpuSeconds.stack).toBe(290 * 16);
    expect(l.cpuSeconds.detect).toBe(83 * 16);
    expect(l.coreHours).toBeCloseTo((36 * warps + 290 * 16 + 83 * 16) / 3600, 9);
    expect(l.cores).toBeCloseTo((36 * warps + 290 * 16 + 83 * 16) / 86_400, 9);
    // GPUs : cores — LSST cores replaced by one device.
    expect(r.ratios[0]!.release).toBeCloseTo(l.cores / r.releases[0]!.perDevice[0]!.devices, 6);
    expect(r.nightly.lsst.cpuSeconds.warp).toBeCloseTo(36 * 2 * g.patchWarpsPerVisit, 9);
  });
});

describe('defaults against the lsst.md figures', () => {
  const inputs = parseSizingInputs();
  const g = geometry(inputs);

  it('reproduce RTN-109 DR1: 569 warps per visit and 7.4M patch-bands', () => {
    expect(g.geometricWarpsPerVisit).toBeCloseTo(390.635, 2);
    expect(g.patchWarpsPerVisit / (107e6 / 188e3)).toBeCloseTo(1, 3);
    const dr11 = releaseWork(inputs, g, 'DR11', 10);
    expect(dr11.patchBands / 7.4e6).toBeCloseTo(1, 4);
    expect(dr11.visits).toBe(2_100_000);
  });

  it('a night is 700 visits, 132,300 CCD images (about 130k, DMTN-135)', () => {
    const n = nightlyWork(inputs, g);
    expect(n.visits).toBe(700);
    expect(n.ccdExposures).toBe(132_300);
    expect(n.inputBytes).toBe(132_300 * 4072 * 4000 * 12);
  });

  it('per-band visits follow the SRD depths (r = i = 184/824 of the warps)', () => {
    const w = releaseWork(inputs, g, 'DR11', 10);
    const r = w.visitsPerPatchBand.find((b) => b.band === 'r')!.n;
    expect(r).toBeCloseTo((w.patchVisitWarps * 184) / 824 / g.patches, 9);
    expect(w.visitsPerPatchBand.reduce((s, b) => s + b.n, 0) * g.patches).toBeCloseTo(
      w.patchVisitWarps,
      0,
    );
  });

  it('LSST stack CPU scales with N when stackReferenceVisits is set', () => {
    const scaled = parseSizingInputs({ lsst: { stackReferenceVisits: 14.5 } });
    const w = releaseWork(scaled, g, 'DR11', 10);
    const l = lsstBaseline(scaled, g, w, windowSeconds(scaled, 'release'));
    const expected = w.visitsPerPatchBand.reduce((s, b) => s + (290 * g.patches * b.n) / 14.5, 0);
    expect(l.cpuSeconds.stack).toBeCloseTo(expected, 3);
    expect(l.cpuSeconds.stack).toBeCloseTo((290 * w.patchVisitWarps) / 14.5, 0);
  });
});

describe('monotonicity and shares', () => {
  const base = parseSizingInputs();
  const devs = set(device(1, 'a'), device(3, 'b'));

  it('more visits need more devices and more LSST cores', () => {
    const more = parseSizingInputs({ survey: { visitsPerNight: 800 } });
    const a = sizeFacilities(base, devs);
    const b = sizeFacilities(more, devs);
    for (let i = 0; i < 2; i++) {
      expect(b.releases.at(-1)!.perDevice[i]!.devices).toBeGreaterThan(
        a.releases.at(-1)!.perDevice[i]!.devices,
      );
      expect(b.nightly.perDevice[i]!.devices).toBeGreaterThan(a.nightly.perDevice[i]!.devices);
    }
    expect(b.releases.at(-1)!.lsst.cores).toBeGreaterThan(a.releases.at(-1)!.lsst.cores);
    // Later releases hold more data.
    const cores = a.releases.map((c) => c.perDevice[0]!.devices);
    for (let i = 1; i < cores.length; i++) expect(cores[i]!).toBeGreaterThan(cores[i - 1]!);
  });

  it('a device 3x faster in every rate needs a third of the devices', () => {
    const r = sizeFacilities(base, devs);
    const slow = r.releases.at(-1)!.perDevice[0]!;
    const fast = r.releases.at(-1)!.perDevice[1]!;
    expect(fast.devices).toBeLessThan(slow.devices);
    expect(fast.devices / slow.devices).toBeCloseTo(1 / 3, 12);
    expect(r.ratios[1]!.release! / r.ratios[0]!.release!).toBeCloseTo(3, 9);
  });

  it('facility shares add up to the total; whole devices round up', () => {
    const r = sizeFacilities(base, devs);
    for (const [rows, c] of [
      [r.facilities.release, r.releases.at(-1)!],
      [r.facilities.nightly, r.nightly],
    ] as const) {
      expect(rows.map((f) => f.sharePercent)).toEqual([35, 25, 40]);
      for (let i = 0; i < 2; i++) {
        const sum = rows.reduce((s, f) => s + f.devices[i]!.exact, 0);
        expect(sum).toBeCloseTo(c.perDevice[i]!.devices, 9);
        for (const f of rows) {
          expect(f.devices[i]!.whole).toBe(Math.ceil(f.devices[i]!.exact - 1e-9));
          expect(f.devices[i]!.whole).toBeGreaterThanOrEqual(f.devices[i]!.exact);
        }
      }
      expect(rows.reduce((s, f) => s + f.lsstCores.exact, 0)).toBeCloseTo(c.lsst.cores, 6);
    }
  });

  it('nightly shares can differ from the DR shares', () => {
    const inputs = parseSizingInputs({
      facilities: [
        { name: 'USDF', sharePercent: 35, nightlySharePercent: 100 },
        { name: 'FrDF', sharePercent: 25, nightlySharePercent: 0 },
        { name: 'UKDF', sharePercent: 40, nightlySharePercent: 0 },
      ],
    });
    const r = sizeFacilities(inputs, devs);
    expect(r.facilities.nightly[0]!.devices[0]!.exact).toBeCloseTo(
      r.nightly.perDevice[0]!.devices,
      12,
    );
    expect(r.facilities.nightly[1]!.devices[0]!.whole).toBe(0);
    expect(r.facilities.release[1]!.sharePercent).toBe(25);
  });

  it('a missing step is reported and the total is a lower bound', () => {
    const noDetect: DeviceThroughput = { ...device(), detectMpixPerS: null };
    const r = sizeFacilities(base, set(noDetect));
    const t = r.releases.at(-1)!.perDevice[0]!;
    expect(t.missing).toEqual(['detect']);
    expect(t.totalSeconds).toBeCloseTo(
      (t.seconds.warp ?? 0) + (t.seconds.stack ?? 0) + (t.seconds.io ?? 0),
      6,
    );
    expect(r.ratios[0]!.release).toBeNull();
    expect(r.caveats.some((c) => c.includes('no throughput for detect'))).toBe(true);
  });
});

describe('stackRateAt', () => {
  const pts: StackPoint[] = [
    { n: 10, minputPerS: 160, source: '' },
    { n: 40, minputPerS: 80, source: '' },
  ];
  it('is exact at the points and a power law between them', () => {
    expect(stackRateAt(pts, 10)).toEqual({ minputPerS: 160, extrapolated: false });
    expect(stackRateAt(pts, 40)).toEqual({ minputPerS: 80, extrapolated: false });
    // Rate halves over a factor 4 in N: at N = 20 (half-way in log N) it is 160 / sqrt(2).
    expect(stackRateAt(pts, 20).minputPerS).toBeCloseTo(160 / Math.SQRT2, 9);
  });
  it('extrapolates only towards slower', () => {
    // Beyond the last point the falling power law continues: N = 160 -> 40.
    expect(stackRateAt(pts, 160)).toEqual({
      minputPerS: expect.closeTo(40, 9),
      extrapolated: true,
    });
    // Below the first point a falling rate is held (no credit for an unmeasured speed-up).
    expect(stackRateAt(pts, 2)).toEqual({ minputPerS: 160, extrapolated: true });
    const rising: StackPoint[] = [
      { n: 10, minputPerS: 100, source: '' },
      { n: 100, minputPerS: 1000, source: '' },
    ];
    expect(stackRateAt(rising, 1000).minputPerS).toBe(1000);
    expect(stackRateAt(rising, 1).minputPerS).toBeCloseTo(10, 9);
    expect(stackRateAt([pts[0]!], 500)).toEqual({ minputPerS: 160, extrapolated: true });
  });
});

interface RawRecord {
  op: string;
  backend: string;
  width: number;
  params: Record<string, unknown>;
  mpix_per_s: number;
  minput_per_s?: number;
  median_ms: number;
  threads: number;
}

function records(file: string): RawRecord[] {
  return JSON.parse(readFileSync(join(RESULTS, file), 'utf8')) as RawRecord[];
}

describe('loadThroughputs on the committed bench/results records', () => {
  const dir = join(tmp, 'committed');
  const files = [
    'warp-cpu.json',
    'stack-cpu.json',
    'detect-cpu-4096.json',
    'fits-read-4096.json',
    'warp-webgpu-lavapipe-1024.json',
    'stack-webgpu-lavapipe-1024.json',
    'convolve-cpu-4096.json',
  ];
  // A copy of the committed files, so records added later elsewhere do not change the picks.
  mkdirSync(dir, { recursive: true });
  for (const f of files) copyFileSync(join(RESULTS, f), join(dir, f));
  const t = loadThroughputs(dir);
  const cpu = t.devices.find((d) => d.kind === 'cpu-core')!;
  const lava = t.devices.find((d) => d.kind === 'software-gpu')!;

  it('finds one CPU device and one software adapter, no GPU', () => {
    expect(t.devices.map((d) => d.kind)).toEqual(['cpu-core', 'software-gpu']);
    expect(cpu.id).toBe('cpu:AMD EPYC x2:2t');
    expect(lava.label).toContain('llvmpipe');
    expect(lava.label).toContain('not a GPU');
    expect(t.ignored).toContainEqual({
      file: 'convolve-cpu-4096.json',
      reason: "op 'convolve' is not a sizing step",
    });
  });

  it('warp: the 4096^2 lanczos3 record, Mpix/s per core', () => {
    const rec = records('warp-cpu.json').find(
      (r) => r.width === 4096 && r.params.kernel === 'lanczos3',
    )!;
    expect(cpu.warpMpixPerS.lanczos3!.value).toBe(rec.mpix_per_s / rec.threads);
    expect(cpu.warpMpixPerS.lanczos3!.value).toBeCloseTo(15.3867 / 2, 3);
    expect(cpu.warpMpixPerS.lanczos3!.source).toContain('warp-cpu.json');
    const lrec = records('warp-webgpu-lavapipe-1024.json')[0]!;
    expect(lava.warpMpixPerS.lanczos3!.value).toBe(lrec.mpix_per_s);
  });

  it('stack: M input px/s per core at each N', () => {
    const recs = records('stack-cpu.json').filter((r) => r.params.statistic === 'MEANCLIP');
    expect(cpu.stack.MEANCLIP!.map((p) => p.n)).toEqual([10, 30]);
    for (const p of cpu.stack.MEANCLIP!) {
      const rec = recs.find((r) => r.params.n === p.n)!;
      expect(p.minputPerS).toBe(rec.minput_per_s! / rec.threads);
    }
    expect(cpu.stack.MEANCLIP![0]!.minputPerS).toBeCloseTo(155.19 / 2, 1);
    expect(lava.stack.MEAN!.map((p) => p.n)).toEqual([10]);
  });

  it('detect and I/O', () => {
    const rec = records('detect-cpu-4096.json')[0]!;
    expect(cpu.detectMpixPerS!.value).toBe(rec.mpix_per_s / rec.threads);
    // 4096^2 px in 1.672 s on 2 threads.
    expect(cpu.detectMpixPerS!.value).toBeCloseTo(
      (4096 * 4096) / (rec.median_ms / 1e3) / 1e6 / 2,
      9,
    );
    expect(lava.detectMpixPerS).toBeNull();
    const io = JSON.parse(readFileSync(join(RESULTS, 'fits-read-4096.json'), 'utf8'));
    expect(cpu.ioMBPerS.uncompressed!.value).toBe(io.results.uncompressed.node.decodedMBps);
    expect(cpu.ioMBPerS.gzip2!.value).toBe(io.results.gzip2.node.decodedMBps);
  });

  it('loads the live bench/results folder (skipping its own sizing outputs)', () => {
    const live = loadThroughputs(DEFAULT_RESULTS_DIR);
    expect(live.devices.some((d) => d.kind === 'cpu-core')).toBe(true);
    expect(live.files.some((f) => f.startsWith('sizing'))).toBe(false);
  });
});

describe('loadThroughputs picks and converts', () => {
  const base = {
    backend: 'webgpu',
    adapter: {
      vendor: 'nvidia',
      architecture: 'hopper',
      device: 'h100',
      description: 'NVIDIA H100 80GB HBM3',
      isSoftware: false,
      featureLevel: 'core',
    },
    height: 0,
    min_ms: 1,
    max_ms: 1,
    gpu_median_ms: null,
    gpu_bytes: null,
    gpu_gb_per_s: null,
    repeats: 3,
    warmup: 1,
    threads: 0,
    verified: true,
    git_rev: 'abc',
    node: 'v20',
    host: 'gpu',
    cpu_model: 'Xeon x16',
  };
  it('largest image first, then newest; stack without minput_per_s uses mpix x N; sizing files skipped', () => {
    const dir = join(tmp, 'synthetic');
    mkdirSync(dir, { recursive: true });
    const rec = (o: Record<string, unknown>) => ({ ...base, median_ms: 10, ...o, height: o.width });
    writeFileSync(
      join(dir, 'warp-gpu.json'),
      JSON.stringify([
        rec({
          op: 'warp',
          width: 1024,
          params: { kernel: 'lanczos3' },
          mpix_per_s: 900,
          date: '2027-01-02',
        }),
        rec({
          op: 'warp',
          width: 4096,
          params: { kernel: 'lanczos3' },
          mpix_per_s: 500,
          date: '2027-01-01',
        }),
        rec({
          op: 'warp',
          width: 4096,
          params: { kernel: 'lanczos3' },
          mpix_per_s: 600,
          date: '2027-01-03',
        }),
        rec({
          op: 'stack',
          width: 4096,
          params: { statistic: 'MEANCLIP', n: 100 },
          mpix_per_s: 20,
          date: '2027-01-01',
        }),
      ]),
    );
    writeFileSync(
      join(dir, 'sizing-x.json'),
      JSON.stringify([
        rec({
          op: 'warp',
          width: 8192,
          params: { kernel: 'lanczos3' },
          mpix_per_s: 1,
          date: '2030-01-01',
        }),
      ]),
    );
    writeFileSync(join(dir, 'notes.json'), JSON.stringify({ hello: 1 }));
    const t = loadThroughputs(dir);
    expect(t.devices).toHaveLength(1);
    const d = t.devices[0]!;
    expect(d.kind).toBe('gpu');
    expect(d.id).toBe('webgpu:NVIDIA H100 80GB HBM3');
    expect(d.warpMpixPerS.lanczos3!.value).toBe(600);
    expect(d.stack.MEANCLIP).toEqual([
      { n: 100, minputPerS: 2000, source: expect.stringContaining('warp-gpu.json') },
    ]);
    expect(d.ioMBPerS).toEqual({});
    expect(t.files).toEqual(['warp-gpu.json']);
    expect(t.ignored.map((x) => x.file)).toEqual(['notes.json']);
    // With a measured hardware GPU, the "no GPU measured" caveat goes away.
    const r = sizeFacilities(parseSizingInputs(), t);
    expect(r.caveats.some((c) => c.startsWith('No hardware GPU'))).toBe(false);
    expect(r.releases.at(-1)!.perDevice[0]!.missing).toEqual(['detect', 'io']);
  });

  it('a missing folder is a SizingError that names it', () => {
    expect(() => loadThroughputs(join(tmp, 'nope'))).toThrow(
      /cannot list benchmark results in .*nope/,
    );
  });
});

describe('profiles', () => {
  it('add a projected device, labelled as such', () => {
    const t = applyProfile(set(device()), JSON.parse(readFileSync(PROFILE, 'utf8')), PROFILE);
    const h = t.devices.find((d) => d.id === 'projection:h100-targets')!;
    expect(h.origin).toBe('projection');
    expect(h.kind).toBe('gpu');
    // 16.78 Mpx in 0.5 ms.
    expect(h.warpMpixPerS.lanczos3!.value).toBeCloseTo((4096 * 4096) / 0.5e-3 / 1e6, -1);
    const r = sizeFacilities(parseSizingInputs(), t);
    expect(r.caveats.some((c) => c.includes('projection (targets, not measurements)'))).toBe(true);
  });

  it('override a loaded device field by field', () => {
    const t = applyProfile(
      set(device()),
      { devices: [{ id: 'test:device', detectMpixPerS: 7 }] },
      'p.json',
    );
    expect(t.devices[0]!.detectMpixPerS).toEqual({ value: 7, source: 'p.json (profile)' });
    expect(t.devices[0]!.warpMpixPerS.lanczos3!.value).toBe(1);
    expect(t.devices[0]!.origin).toBe('measured');
  });

  it('reject nonsense with the path of the problem', () => {
    const bad = () =>
      applyProfile(set(), { devices: [{ id: 'x', warpMpixPerS: { lanczos3: -5 } }] }, 'p.json');
    expect(bad).toThrow(SizingError);
    expect(bad).toThrow(/devices\.0\.warpMpixPerS\.lanczos3/);
    expect(() => applyProfile(set(), { devices: [{ id: 'new' }] }, 'p.json')).toThrow(
      /needs "label" and "kind"/,
    );
  });
});

describe('input validation', () => {
  function err(overrides: unknown): SizingError {
    try {
      parseSizingInputs(overrides);
    } catch (e) {
      return e as SizingError;
    }
    throw new Error('expected a SizingError');
  }

  it('rejects negative visits with the path and the rule', () => {
    const e = err({ survey: { visitsPerNight: -5 } });
    expect(e).toBeInstanceOf(SizingError);
    expect(e.code).toBe('SIZING_BAD_INPUT');
    expect(e.message).toContain('survey.visitsPerNight: visitsPerNight must be > 0');
  });

  it('rejects shares that do not sum to 100%', () => {
    const e = err({
      facilities: [
        { name: 'USDF', sharePercent: 35, nightlySharePercent: null },
        { name: 'FrDF', sharePercent: 25, nightlySharePercent: null },
        { name: 'UKDF', sharePercent: 30, nightlySharePercent: null },
      ],
    });
    expect(e.message).toContain(
      'facility shares must sum to 100%, got 90% (USDF 35%, FrDF 25%, UKDF 30%)',
    );
  });

  it('rejects unknown keys, unknown releases, utilisation above 1 and non-objects', () => {
    expect(err({ survey: { visitsPerNite: 3 } }).message).toContain(
      'Unrecognized key: "visitsPerNite"',
    );
    expect(err({ sizeFor: 'DR12' }).message).toContain("sizeFor 'DR12' is not a release");
    expect(err({ schedule: { utilisation: 1.5 } }).message).toContain('utilisation must be <= 1');
    expect(err([1, 2]).message).toContain('must be an object of overrides');
    expect(err({ survey: { bandWeights: { r: 0 } } }).message).toContain(
      'at least one band needs a weight > 0',
    );
  });

  it('merges overrides onto the defaults (objects by key, arrays replaced)', () => {
    const i: SizingInputs = parseSizingInputs({
      survey: { visitsPerNight: 800 },
      releases: [{ name: 'X', years: 2 }],
      sizeFor: 'X',
    });
    expect(i.survey.visitsPerNight).toBe(800);
    expect(i.survey.ccdsPerVisit).toBe(189);
    expect(i.releases).toEqual([{ name: 'X', years: 2 }]);
    expect(DEFAULT_INPUTS.survey.visitsPerNight).toBe(700);
    // Band weights are replaced as a whole: the bands given are the bands used.
    expect(parseSizingInputs({ survey: { bandWeights: { r: 2 } } }).survey.bandWeights).toEqual({
      r: 2,
    });
  });
});

describe('report and chart', () => {
  const t = applyProfile(
    loadThroughputs(RESULTS),
    JSON.parse(readFileSync(PROFILE, 'utf8')),
    PROFILE,
  );
  const r = sizeFacilities(parseSizingInputs(), t);
  const svg = renderSvg(r);
  const md = renderMarkdown(r, {
    svgFile: 'sizing.svg',
    resultsDir: 'bench/results',
    throughputs: t,
    surveyFile: null,
    profileFile: null,
  });

  it('the SVG is well-formed XML with one bar per facility and series in each panel', () => {
    expect(XMLValidator.validate(svg)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(svg);
    const rects: Record<string, string>[] = [];
    const walk = (x: unknown): void => {
      if (Array.isArray(x)) x.forEach(walk);
      else if (x && typeof x === 'object') {
        for (const [k, v] of Object.entries(x)) {
          if (k === 'rect')
            for (const e of [v].flat())
              if ((e as Record<string, string>).class === 'bar')
                rects.push(e as Record<string, string>);
          walk(v);
        }
      }
    };
    walk(doc);
    const series = r.devices.filter((d) => d.kind !== 'software-gpu').length + 1; // + LSST
    expect(rects).toHaveLength(2 * 3 * series);
    for (const panel of ['release', 'nightly'] as const) {
      const rows = r.facilities[panel];
      for (const f of rows) {
        const bars = rects.filter(
          (b) => b['data-panel'] === panel && b['data-facility'] === f.name,
        );
        expect(bars.map((b) => b['data-series'])).toEqual([
          ...r.devices.filter((d) => d.kind !== 'software-gpu').map((d) => d.id),
          'lsst',
        ]);
        const lsst = bars.find((b) => b['data-series'] === 'lsst')!;
        expect(Number(lsst['data-value'])).toBeCloseTo(f.lsstCores.exact, 2);
      }
    }
    // No software adapter is drawn.
    expect(svg).not.toContain('llvmpipe');
  });

  it('the report never shows the software adapter as a GPU or in the facility tables', () => {
    const facilities = md.split('### Devices per facility')[1]!.split('## Inputs')[0]!;
    expect(facilities).not.toContain('llvmpipe');
    expect(md).toContain('(software adapter, not a GPU)');
    expect(md).toContain('No hardware GPU benchmark record');
    expect(md).toContain('*(projection)*');
    expect(md).toContain('![Devices needed per facility](sizing.svg)');
  });

  it('is deterministic', () => {
    const r2 = sizeFacilities(parseSizingInputs(), t);
    expect(renderSvg(r2)).toBe(svg);
    expect(
      renderMarkdown(r2, {
        svgFile: 'sizing.svg',
        resultsDir: 'bench/results',
        throughputs: t,
        surveyFile: null,
        profileFile: null,
      }),
    ).toBe(md);
  });
});

describe('the size command', () => {
  afterEach(() => vi.restoreAllMocks());
  const args = (o: Record<string, unknown>) =>
    ({
      _: ['size'],
      $0: 'gpu-bench',
      results: RESULTS,
      profile: undefined,
      survey: undefined,
      release: undefined,
      out: undefined,
      tag: undefined,
      json: false,
      ...o,
    }) as never;

  it('writes sizing.md/svg/json with --out and prints JSON with --json', async () => {
    const out = join(tmp, 'out');
    const survey = join(tmp, 'survey.yaml');
    writeFileSync(survey, 'survey:\n  visitsPerNight: 800\nschedule:\n  campaignDays: 120\n');
    const chunks: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
      chunks.push(String(c));
      return true;
    });
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    await sizeCommand.handler(
      args({ survey, profile: PROFILE, out, tag: 't', json: true, release: 'DR6' }),
    );
    const printed = JSON.parse(chunks.join(''));
    const written = JSON.parse(readFileSync(join(out, 'sizing-t.json'), 'utf8'));
    expect(printed).toEqual(written);
    expect(written.inputs.survey.visitsPerNight).toBe(800);
    expect(written.inputs.schedule.campaignDays).toBe(120);
    expect(written.sizedRelease).toBe('DR6');
    expect(readFileSync(join(out, 'sizing-t.md'), 'utf8')).toContain(
      '![Devices needed per facility](sizing-t.svg)',
    );
    expect(XMLValidator.validate(readFileSync(join(out, 'sizing-t.svg'), 'utf8'))).toBe(true);
    // Same answer as the library call.
    const lib = runSize({ results: RESULTS, survey, profile: PROFILE, release: 'DR6' });
    expect(written.facilities).toEqual(JSON.parse(lib.json).facilities);
  });

  it('prints a summary without --json', async () => {
    const chunks: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => {
      chunks.push(String(c));
      return true;
    });
    await sizeCommand.handler(args({}));
    const text = chunks.join('');
    expect(text).toMatch(/^DR11: 2,100,000 visits/);
    expect(text).toContain('LSST baseline cores:');
    expect(text).not.toContain('llvmpipe');
  });

  it('bad survey files fail with SizingError and a clear message', async () => {
    const bad = join(tmp, 'bad.json');
    writeFileSync(bad, JSON.stringify({ survey: { visitsPerNight: -1 } }));
    await expect(async () => sizeCommand.handler(args({ survey: bad }))).rejects.toThrow(
      /survey\.visitsPerNight: visitsPerNight must be > 0/,
    );
    const broken = join(tmp, 'broken.json');
    writeFileSync(broken, '{ not json');
    await expect(async () => sizeCommand.handler(args({ survey: broken }))).rejects.toMatchObject({
      code: 'SIZING_READ_FAILED',
    });
    await expect(async () => sizeCommand.handler(args({ tag: '../x' }))).rejects.toThrow(
      /--tag takes/,
    );
  });
});
