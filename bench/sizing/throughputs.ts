/**
 * Throughputs for the sizing model: per device (one CPU core, one GPU, or one software
 * adapter), how fast it warps, stacks, detects and reads input, taken from the benchmark
 * records under bench/results/ (`loadThroughputs`) or given by a profile JSON
 * (`applyProfile`).
 *
 * Units and conversions (each record field as bench/harness.ts writes it):
 * - warp: `mpix_per_s` = output pixels that received a value / median wall time, host to
 *   host (uploads and downloads included), in 1e6 px/s. Used as is per GPU; divided by
 *   `threads` for the CPU backend, giving the rate of one core (linear scaling with cores
 *   assumed: the records were taken with every core of the machine busy).
 * - stack: `minput_per_s` = N x output pixels / median wall time, 1e6 input px/s (older
 *   records without it: `mpix_per_s` x N, the same quantity). One point per N; the model
 *   interpolates between N (see `stackRateAt`). Per core as for warp.
 * - detect: `mpix_per_s` = coadd pixels (width x height) / median wall time of
 *   background + detection + measurement, 1e6 px/s. Per core as for warp.
 * - I/O: the FITS read benchmark (`bench: 'fits-read'`): `decodedMBps` = decoded MB
 *   (1e6 B) / median read time, for one reader (Node main thread), uncompressed and
 *   GZIP_2. It is the host's rate and is given to every device from that results folder
 *   (one reader thread per core, or per GPU).
 * - Wall times, not GPU timestamp times, are used for GPUs: the pipeline pays transfers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { SizingError } from './errors.ts';

/** Warp kernels the benchmarks record (`params.kernel`). */
export const WARP_KERNELS = ['lanczos3', 'lanczos4', 'lanczos5', 'bilinear'] as const;
export type WarpKernel = (typeof WARP_KERNELS)[number];
/** Stack statistics the benchmarks record (`params.statistic`). */
export const STATISTICS = ['MEAN', 'MEANCLIP', 'MEDIAN'] as const;
export type Statistic = (typeof STATISTICS)[number];
/** Input file encodings the FITS read benchmark measures. */
export const COMPRESSIONS = ['uncompressed', 'gzip2'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/**
 * What one sized "device" is:
 * - `cpu-core`: one core running the CPU backend (sizes come out in cores);
 * - `gpu`: one hardware GPU (a WebGPU hardware adapter, or a GPU profile);
 * - `software-gpu`: a software WebGPU adapter (lavapipe/llvmpipe: the CPU emulating a
 *   GPU). Its figures are for correctness runs only and are never GPU performance.
 */
export type DeviceKind = 'cpu-core' | 'gpu' | 'software-gpu';

/** A rate and where it came from (file, case, conversion), for reports. */
export interface Rate {
  /** The rate per device, in the unit of the field that holds it. */
  readonly value: number;
  /** Provenance in words: file, case, raw figure and conversion. */
  readonly source: string;
}

/** A stack throughput at N inputs: million input pixels per second per device. */
export interface StackPoint {
  readonly n: number;
  /** 1e6 input pixels (N x output pixels) per second per device. */
  readonly minputPerS: number;
  readonly source: string;
}

/** The throughputs of one device. */
export interface DeviceThroughput {
  /** Stable key, e.g. `cpu:AMD EPYC x2:2t` or `webgpu:<adapter description>`. */
  readonly id: string;
  /** Human label for tables and the chart legend. */
  readonly label: string;
  readonly kind: DeviceKind;
  /** `measured`: benchmark records (or a profile of measured figures); `projection`: a target, not a measurement. */
  readonly origin: 'measured' | 'projection';
  /** Warp output Mpix/s per device, by kernel. */
  readonly warpMpixPerS: Readonly<Partial<Record<WarpKernel, Rate>>>;
  /** Stack points by statistic, sorted by N, one per N. */
  readonly stack: Readonly<Partial<Record<Statistic, readonly StackPoint[]>>>;
  /** Background + detection + measurement, coadd Mpix/s per device. */
  readonly detectMpixPerS: Rate | null;
  /** Input read and decode rate, MB/s (1e6 B/s) per device, by encoding. */
  readonly ioMBPerS: Readonly<Partial<Record<Compression, Rate>>>;
  /** Free notes (profile notes, record caveats). */
  readonly notes: readonly string[];
}

/** Everything `loadThroughputs` found. */
export interface ThroughputSet {
  /** Devices in a stable order: CPU cores, then GPUs, then software adapters; by id within a kind. */
  readonly devices: readonly DeviceThroughput[];
  /** Files read (base names), sorted. */
  readonly files: readonly string[];
  /** Files or records skipped, with the reason. */
  readonly ignored: readonly { readonly file: string; readonly reason: string }[];
}

/** The fields of a BenchRecord (bench/harness.ts) the model reads. */
const RecordSchema = z.object({
  op: z.string(),
  backend: z.enum(['cpu', 'webgpu']),
  adapter: z
    .object({
      description: z.string(),
      isSoftware: z.boolean(),
    })
    .passthrough()
    .nullable(),
  width: z.number().positive(),
  height: z.number().positive(),
  params: z.record(z.string(), z.unknown()),
  median_ms: z.number().positive(),
  mpix_per_s: z.number().positive(),
  minput_per_s: z.number().positive().optional(),
  threads: z.number().int().nonnegative(),
  git_rev: z.string(),
  cpu_model: z.string(),
  date: z.string(),
});
type BenchRecordLike = z.infer<typeof RecordSchema>;

const FitsReadSchema = z.object({
  bench: z.literal('fits-read'),
  size: z.array(z.number()),
  cpu: z.string(),
  cores: z.number(),
  results: z.partialRecord(
    z.enum(COMPRESSIONS),
    z.object({ node: z.object({ decodedMBps: z.number().positive(), medianMs: z.number() }) }),
  ),
  git_rev: z.string(),
  date: z.string(),
});
type FitsReadLike = z.infer<typeof FitsReadSchema>;

/** Newer fits-read records keep git_rev and date under `machine`: read them from there. */
function hoistMachine(json: unknown): unknown {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return json;
  const j = json as Record<string, unknown>;
  const m = j.machine as Record<string, unknown> | undefined;
  if (!m || typeof m !== 'object') return json;
  return { ...j, git_rev: j.git_rev ?? m.git_rev, date: j.date ?? m.date };
}

interface Sourced<T> {
  readonly file: string;
  readonly value: T;
}

/** True for files this model writes itself (never read back as benchmark input). */
function isSizingOutput(name: string): boolean {
  return name.startsWith('sizing');
}

/**
 * Read every `*.json` benchmark file in `resultsDir` and build one throughput entry per
 * device (backend + adapter for WebGPU; backend + CPU model + threads for the CPU).
 * For each op and case, the best matching record is the one at the largest image
 * (closest to production sizes, least fixed overhead per pixel), then the newest.
 * Files named `sizing*` (this model's own output) are skipped.
 */
export function loadThroughputs(resultsDir: string): ThroughputSet {
  let names: string[];
  try {
    names = readdirSync(resultsDir)
      .filter((n) => n.endsWith('.json') && !isSizingOutput(n))
      .sort();
  } catch (e) {
    throw new SizingError(
      'SIZING_READ_FAILED',
      `cannot list benchmark results in '${resultsDir}' (${(e as Error).message}); pass --results DIR with the bench/results JSON files`,
      { cause: e },
    );
  }
  const records: Sourced<BenchRecordLike>[] = [];
  const reads: Sourced<FitsReadLike>[] = [];
  const ignored: { file: string; reason: string }[] = [];
  for (const name of names) {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(join(resultsDir, name), 'utf8'));
    } catch (e) {
      ignored.push({ file: name, reason: `not JSON (${(e as Error).message})` });
      continue;
    }
    if (Array.isArray(json)) {
      json.forEach((item, i) => {
        const r = RecordSchema.safeParse(item);
        if (r.success) records.push({ file: name, value: r.data });
        else ignored.push({ file: `${name}[${i}]`, reason: 'not a benchmark record' });
      });
      continue;
    }
    const f = FitsReadSchema.safeParse(hoistMachine(json));
    if (f.success) reads.push({ file: name, value: f.data });
    else ignored.push({ file: name, reason: 'neither a record array nor a FITS read result' });
  }

  const groups = new Map<string, Sourced<BenchRecordLike>[]>();
  for (const r of records) {
    const id = deviceId(r.value);
    const g = groups.get(id) ?? [];
    g.push(r);
    groups.set(id, g);
  }
  const io = ioRates(reads);
  const devices: DeviceThroughput[] = [];
  for (const [id, group] of groups) {
    const steps = group.filter((r) => ['warp', 'stack', 'detect'].includes(r.value.op));
    for (const r of group) {
      if (r.value.op !== 'warp' && r.value.op !== 'stack' && r.value.op !== 'detect')
        ignored.push({ file: r.file, reason: `op '${r.value.op}' is not a sizing step` });
    }
    if (steps.length === 0) continue;
    const first = steps[0]!.value;
    const kind: DeviceKind =
      first.backend === 'cpu' ? 'cpu-core' : first.adapter?.isSoftware ? 'software-gpu' : 'gpu';
    devices.push({
      id,
      label: deviceLabel(first, kind),
      kind,
      origin: 'measured',
      warpMpixPerS: warpRates(steps),
      stack: stackPoints(steps),
      detectMpixPerS: detectRate(steps),
      ioMBPerS: io,
      notes: [],
    });
  }
  return {
    devices: sortDevices(devices),
    files: [...new Set([...records.map((r) => r.file), ...reads.map((r) => r.file)])].sort(),
    ignored: dedupeIgnored(ignored),
  };
}

function dedupeIgnored(list: { file: string; reason: string }[]) {
  const seen = new Set<string>();
  return list.filter((x) => {
    const k = `${x.file}\u0000${x.reason}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

const KIND_ORDER: Record<DeviceKind, number> = { 'cpu-core': 0, gpu: 1, 'software-gpu': 2 };

/** CPU cores first, then GPUs, then software adapters; by id within a kind. */
export function sortDevices(devices: readonly DeviceThroughput[]): DeviceThroughput[] {
  return [...devices].sort(
    (a, b) => KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

function deviceId(r: BenchRecordLike): string {
  if (r.backend === 'cpu') return `cpu:${r.cpu_model}:${r.threads}t`;
  return `webgpu:${r.adapter?.description ?? 'unknown adapter'}`;
}

function deviceLabel(r: BenchRecordLike, kind: DeviceKind): string {
  if (kind === 'cpu-core')
    return `CPU backend, per core (${r.cpu_model}, measured with ${r.threads} threads)`;
  const d = r.adapter?.description ?? 'unknown adapter';
  return kind === 'software-gpu'
    ? `WebGPU on ${d} (software adapter, not a GPU)`
    : `WebGPU on ${d} (one GPU)`;
}

/** Divisor turning a whole-machine CPU rate into a per-core rate (1 for WebGPU). */
function perDevice(r: BenchRecordLike): number {
  return r.backend === 'cpu' ? Math.max(1, r.threads) : 1;
}

/** Largest image first, then the newest date, then the file name (deterministic). */
function better(a: Sourced<BenchRecordLike>, b: Sourced<BenchRecordLike>): boolean {
  const pa = a.value.width * a.value.height;
  const pb = b.value.width * b.value.height;
  if (pa !== pb) return pa > pb;
  if (a.value.date !== b.value.date) return a.value.date > b.value.date;
  return a.file < b.file;
}

function pickBest(list: Sourced<BenchRecordLike>[]): Sourced<BenchRecordLike> | null {
  let best: Sourced<BenchRecordLike> | null = null;
  for (const r of list) if (!best || better(r, best)) best = r;
  return best;
}

function describe(r: Sourced<BenchRecordLike>, what: string, raw: string): string {
  const v = r.value;
  const per = perDevice(v) > 1 ? ` / ${perDevice(v)} threads` : '';
  return `${r.file}: ${v.op} ${v.width}x${v.height} ${what}, ${raw}${per} (git ${v.git_rev}, ${v.date.slice(0, 10)})`;
}

function warpRates(group: Sourced<BenchRecordLike>[]): Partial<Record<WarpKernel, Rate>> {
  const out: Partial<Record<WarpKernel, Rate>> = {};
  for (const k of WARP_KERNELS) {
    const best = pickBest(
      group.filter((r) => r.value.op === 'warp' && r.value.params.kernel === k),
    );
    if (!best) continue;
    out[k] = {
      value: best.value.mpix_per_s / perDevice(best.value),
      source: describe(best, k, `${best.value.mpix_per_s.toFixed(2)} Mpix/s`),
    };
  }
  return out;
}

function stackPoints(group: Sourced<BenchRecordLike>[]): Partial<Record<Statistic, StackPoint[]>> {
  const out: Partial<Record<Statistic, StackPoint[]>> = {};
  for (const s of STATISTICS) {
    const byN = new Map<number, Sourced<BenchRecordLike>[]>();
    for (const r of group) {
      const n = r.value.params.n;
      if (r.value.op !== 'stack' || r.value.params.statistic !== s) continue;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) continue;
      byN.set(n, [...(byN.get(n) ?? []), r]);
    }
    const points: StackPoint[] = [];
    for (const [n, list] of byN) {
      const best = pickBest(list)!;
      const input = best.value.minput_per_s ?? best.value.mpix_per_s * n;
      points.push({
        n,
        minputPerS: input / perDevice(best.value),
        source: describe(best, `${s} N=${n}`, `${input.toFixed(1)} M input px/s`),
      });
    }
    if (points.length > 0) out[s] = points.sort((a, b) => a.n - b.n);
  }
  return out;
}

function detectRate(group: Sourced<BenchRecordLike>[]): Rate | null {
  const best = pickBest(group.filter((r) => r.value.op === 'detect'));
  if (!best) return null;
  return {
    value: best.value.mpix_per_s / perDevice(best.value),
    source: describe(
      best,
      'background+detect+measure',
      `${best.value.median_ms.toFixed(0)} ms = ${best.value.mpix_per_s.toFixed(2)} Mpix/s`,
    ),
  };
}

/** The newest FITS read result gives the host's read rate per encoding. */
function ioRates(reads: Sourced<FitsReadLike>[]): Partial<Record<Compression, Rate>> {
  const newest = [...reads].sort((a, b) =>
    a.value.date === b.value.date
      ? a.file < b.file
        ? -1
        : 1
      : a.value.date > b.value.date
        ? -1
        : 1,
  )[0];
  const out: Partial<Record<Compression, Rate>> = {};
  if (!newest) return out;
  const v = newest.value;
  for (const c of COMPRESSIONS) {
    const res = v.results[c];
    if (!res) continue;
    out[c] = {
      value: res.node.decodedMBps,
      source: `${newest.file}: FITS read ${v.size.join('x')} 3-plane exposure, ${c}, one reader thread on ${v.cpu} (git ${v.git_rev}, ${v.date.slice(0, 10)})`,
    };
  }
  return out;
}

const positive = z.number().positive();

/** One device in a throughput profile (see {@link ProfileSchema}). */
const ProfileDeviceSchema = z
  .object({
    /** Matches a loaded device's id to override its figures, or names a new device. */
    id: z.string().min(1),
    label: z.string().min(1).optional(),
    kind: z.enum(['cpu-core', 'gpu', 'software-gpu']).optional(),
    origin: z.enum(['measured', 'projection']).optional(),
    note: z.string().optional(),
    /** Warp output Mpix/s per device, by kernel. */
    warpMpixPerS: z.partialRecord(z.enum(WARP_KERNELS), positive).optional(),
    /** Stack input Mpix/s per device at N inputs, by statistic. */
    stackMinputPerS: z
      .partialRecord(
        z.enum(STATISTICS),
        z.array(z.object({ n: z.number().int().positive(), rate: positive }).strict()).min(1),
      )
      .optional(),
    /** Background + detect + measure, coadd Mpix/s per device. */
    detectMpixPerS: positive.optional(),
    /** Input read rate, MB/s per device, by encoding. */
    ioMBPerS: z.partialRecord(z.enum(COMPRESSIONS), positive).optional(),
  })
  .strict();

/**
 * A throughput profile (`--profile FILE`): devices whose figures override or add to
 * those loaded from bench/results. Rates are per device (one core or one GPU).
 */
export const ProfileSchema = z
  .object({
    description: z.string().optional(),
    devices: z.array(ProfileDeviceSchema).min(1),
  })
  .strict();
/** A parsed throughput profile. */
export type ThroughputProfile = z.infer<typeof ProfileSchema>;

/**
 * Apply a profile to a throughput set: a profile device with a loaded id replaces the
 * figures it gives (a statistic's stack points are replaced as a whole); a new id adds a
 * device, which must then have `label` and `kind`. `origin` defaults to 'projection' for
 * new devices (a profile is a claim, not a record). `file` names the profile in sources.
 */
export function applyProfile(set: ThroughputSet, profile: unknown, file: string): ThroughputSet {
  const parsed = ProfileSchema.safeParse(profile);
  if (!parsed.success) {
    throw new SizingError(
      'SIZING_BAD_PROFILE',
      `throughput profile ${file} is invalid: ${issueList(parsed.error.issues)}; see docs/sizing.md for the profile format`,
    );
  }
  const name = basename(file);
  const devices = [...set.devices];
  for (const p of parsed.data.devices) {
    const i = devices.findIndex((d) => d.id === p.id);
    const base: DeviceThroughput | null = i >= 0 ? devices[i]! : null;
    if (!base && (!p.label || !p.kind)) {
      throw new SizingError(
        'SIZING_BAD_PROFILE',
        `throughput profile ${file}: device '${p.id}' matches no device in the results, so it needs "label" and "kind" (cpu-core, gpu or software-gpu)`,
      );
    }
    const src = `${name} (profile${p.origin === 'projection' || (!base && !p.origin) ? ', projection' : ''})`;
    const warp: Partial<Record<WarpKernel, Rate>> = { ...(base?.warpMpixPerS ?? {}) };
    for (const k of WARP_KERNELS) {
      const v = p.warpMpixPerS?.[k];
      if (v !== undefined) warp[k] = { value: v, source: src };
    }
    const stack: Partial<Record<Statistic, readonly StackPoint[]>> = { ...(base?.stack ?? {}) };
    for (const s of STATISTICS) {
      const pts = p.stackMinputPerS?.[s];
      if (!pts) continue;
      const byN = new Map(pts.map((q) => [q.n, q.rate]));
      stack[s] = [...byN]
        .map(([n, rate]) => ({ n, minputPerS: rate, source: src }))
        .sort((a, b) => a.n - b.n);
    }
    const io: Partial<Record<Compression, Rate>> = { ...(base?.ioMBPerS ?? {}) };
    for (const c of COMPRESSIONS) {
      const v = p.ioMBPerS?.[c];
      if (v !== undefined) io[c] = { value: v, source: src };
    }
    const next: DeviceThroughput = {
      id: p.id,
      label: p.label ?? base!.label,
      kind: p.kind ?? base!.kind,
      origin: p.origin ?? base?.origin ?? 'projection',
      warpMpixPerS: warp,
      stack,
      detectMpixPerS:
        p.detectMpixPerS !== undefined
          ? { value: p.detectMpixPerS, source: src }
          : (base?.detectMpixPerS ?? null),
      ioMBPerS: io,
      notes: [...(base?.notes ?? []), ...(p.note ? [p.note] : [])],
    };
    if (i >= 0) devices[i] = next;
    else devices.push(next);
  }
  return { ...set, devices: sortDevices(devices), files: [...set.files, name] };
}

/** "path: message; path: message" for zod issues. */
export function issueList(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(top level)'}: ${i.message}`)
    .join('; ');
}

/**
 * Stack input rate (1e6 input px/s per device) at `n` inputs from measured points
 * (sorted by n): between points, log-log interpolation (a power law in N through each
 * pair); outside the measured range, the power law of the nearest pair, but only in the
 * direction that makes the device slower (a rate that rises with N is held at the last
 * measured value; no unmeasured speed-up is credited). One point: that rate for every N
 * (time proportional to N). `extrapolated` says whether `n` lies outside the points.
 */
export function stackRateAt(
  points: readonly StackPoint[],
  n: number,
): { readonly minputPerS: number; readonly extrapolated: boolean } {
  const first = points[0];
  if (!first) throw new Error('stackRateAt: no points');
  const last = points[points.length - 1]!;
  if (points.length === 1) return { minputPerS: first.minputPerS, extrapolated: n !== first.n };
  const slope = (a: StackPoint, b: StackPoint) =>
    Math.log(b.minputPerS / a.minputPerS) / Math.log(b.n / a.n);
  if (n < first.n) {
    const s = Math.max(0, slope(first, points[1]!));
    return { minputPerS: first.minputPerS * (n / first.n) ** s, extrapolated: true };
  }
  if (n > last.n) {
    const s = Math.min(0, slope(points[points.length - 2]!, last));
    return { minputPerS: last.minputPerS * (n / last.n) ** s, extrapolated: true };
  }
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i]!;
    const b = points[i + 1]!;
    if (n >= a.n && n <= b.n) {
      if (n === a.n) return { minputPerS: a.minputPerS, extrapolated: false };
      return { minputPerS: a.minputPerS * (n / a.n) ** slope(a, b), extrapolated: false };
    }
  }
  return { minputPerS: last.minputPerS, extrapolated: false };
}
