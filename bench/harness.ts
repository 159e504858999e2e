/**
 * The benchmark harness: timing (warm-up, repeats, median), records with the backend,
 * adapter, sizes and git revision, and saving under bench/results/. Benchmarks are
 * measured here, never in timed unit tests.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';
import { dirname, join } from 'node:path';
import type { AdapterDescription, BackendKind } from '../src/compute/backend.ts';
import type { Backend } from '../src/compute/select.ts';

/** One benchmark measurement, as written to JSON. */
export interface BenchRecord {
  readonly op: string;
  readonly backend: BackendKind;
  /** The WebGPU adapter, or null for the CPU backend. */
  readonly adapter: AdapterDescription | null;
  readonly width: number;
  readonly height: number;
  /** The op's parameters (kernel width and kind, ...). */
  readonly params: Readonly<Record<string, unknown>>;
  /** Median wall time of one op call, host to host (uploads and downloads included), ms. */
  readonly median_ms: number;
  readonly min_ms: number;
  readonly max_ms: number;
  /** Megapixels of the output per second at the median wall time. */
  readonly mpix_per_s: number;
  /** Median GPU time of the op's passes from timestamp queries (webgpu), ms. */
  readonly gpu_median_ms: number | null;
  /** Bytes the GPU passes move per call by the op's own count (for bandwidth floors). */
  readonly gpu_bytes: number | null;
  /** gpu_bytes / gpu_median_ms, in GB/s. */
  readonly gpu_gb_per_s: number | null;
  readonly repeats: number;
  readonly warmup: number;
  /** CPU worker threads (cpu backend). */
  readonly threads: number;
  /** Result checked against the CPU backend before timing (webgpu); max |diff| / scale. */
  readonly verified: boolean | null;
  readonly git_rev: string;
  readonly node: string;
  readonly host: string;
  readonly cpu_model: string;
  readonly date: string;
}

/** How a case is timed (the options every benchmark takes). */
export interface TimingOptions {
  readonly repeats: number;
  readonly warmup: number;
  /** Stop repeating a case once it has used about this many ms (at least 3 runs). */
  readonly budgetMs: number;
}

/** Wall-time and GPU-time measurement of one case. */
export interface Measured {
  readonly wall: { median: number; min: number; max: number };
  readonly gpuMs: number | null;
  readonly repeats: number;
  /** The value the first (untimed) run returned. */
  readonly first: unknown;
}

/**
 * Time `run` on `backend`: one untimed run sizes the repeats to the budget, `warmup - 1`
 * more untimed runs, then the timed ones; on a WebGPU backend with timestamps, as many
 * runs again under `profile` give the GPU pass time.
 */
export async function measureCase(
  backend: Backend,
  run: () => Promise<unknown>,
  o: TimingOptions,
): Promise<Measured> {
  const t0 = performance.now();
  const first = await run();
  const once = performance.now() - t0;
  const repeats = Math.max(3, Math.min(o.repeats, Math.floor(o.budgetMs / Math.max(once, 1e-3))));
  const wall = await timeIt(run, repeats, Math.max(0, o.warmup - 1));
  let gpuMs: number | null = null;
  if (backend.kind === 'webgpu' && backend.hasTimestamps) {
    const g: number[] = [];
    for (let i = 0; i < repeats; i++) g.push((await backend.profile(run)).timing.totalMs);
    gpuMs = median(g);
  }
  return { wall, gpuMs, repeats, first };
}

/** A record from a measured case; `pixels` of output make `mpix_per_s`. */
export function makeRecord(
  backend: Backend,
  m: Measured,
  o: TimingOptions,
  c: {
    op: string;
    width: number;
    height: number;
    params: Readonly<Record<string, unknown>>;
    pixels: number;
    gpuBytes: number | null;
    verified: boolean | null;
  },
): BenchRecord {
  const info = backend.info();
  const bytes = backend.kind === 'webgpu' ? c.gpuBytes : null;
  return {
    op: c.op,
    backend: backend.kind,
    adapter: info.adapter,
    width: c.width,
    height: c.height,
    params: c.params,
    median_ms: m.wall.median,
    min_ms: m.wall.min,
    max_ms: m.wall.max,
    mpix_per_s: c.pixels / m.wall.median / 1e3,
    gpu_median_ms: m.gpuMs,
    gpu_bytes: bytes,
    gpu_gb_per_s: m.gpuMs !== null && bytes !== null ? bytes / m.gpuMs / 1e6 : null,
    repeats: m.repeats,
    warmup: o.warmup,
    threads: info.threads,
    verified: c.verified,
    ...machineFacts(),
  };
}

/** Wall-clock statistics of `fn` after `warmup` untimed runs. */
export async function timeIt(
  fn: () => Promise<unknown>,
  repeats: number,
  warmup: number,
): Promise<{ median: number; min: number; max: number; all: number[] }> {
  for (let i = 0; i < warmup; i++) await fn();
  const all: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    all.push(performance.now() - t0);
  }
  return { median: median(all), min: Math.min(...all), max: Math.max(...all), all };
}

export function median(a: readonly number[]): number {
  const s = [...a].sort((x, y) => x - y);
  const n = s.length;
  if (n === 0) return Number.NaN;
  return n % 2 ? (s[(n - 1) / 2] as number) : ((s[n / 2 - 1] as number) + (s[n / 2] as number)) / 2;
}

/** `git rev-parse --short HEAD` (+ "-dirty"), else $GPU_DRP_GIT_REV, else "unknown". */
export function gitRev(): string {
  if (process.env.GPU_DRP_GIT_REV) return process.env.GPU_DRP_GIT_REV;
  try {
    const rev = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return dirty ? `${rev}-dirty` : rev;
  } catch {
    return 'unknown';
  }
}

/** Machine facts every record carries. */
export function machineFacts(): Pick<
  BenchRecord,
  'git_rev' | 'node' | 'host' | 'cpu_model' | 'date'
> {
  return {
    git_rev: gitRev(),
    node: process.version,
    host: hostname(),
    cpu_model: `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}`,
    date: new Date().toISOString(),
  };
}

/** Write records atomically as pretty JSON; returns the path. */
export function saveRecords(path: string, records: readonly BenchRecord[]): string {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(records, null, 2)}\n`);
  renameSync(tmp, path);
  return path;
}

/** Default results file: bench/results/<op>-<backends>-<UTC stamp>.json under `root`. */
export function defaultResultsPath(root: string, op: string, tag: string): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return join(root, 'bench', 'results', `${op}-${tag}-${stamp}.json`);
}

/** A compact table of records for the terminal. */
export function renderTable(records: readonly BenchRecord[]): string {
  const head = [
    'op',
    'backend',
    'size',
    'params',
    'median ms',
    'Mpix/s',
    'Minput/s',
    'gpu ms',
    'GB/s',
  ];
  const rows = records.map((r) => [
    r.op,
    r.backend === 'webgpu' ? `webgpu(${r.adapter?.isSoftware ? 'sw' : 'hw'})` : `cpu(${r.threads})`,
    `${r.width}x${r.height}`,
    Object.entries(r.params)
      .map(([k, v]) => `${k}=${v}`)
      .join(' '),
    r.median_ms.toFixed(1),
    r.mpix_per_s.toFixed(1),
    'minput_per_s' in r ? (r as { minput_per_s: number }).minput_per_s.toFixed(1) : '-',
    r.gpu_median_ms === null ? '-' : r.gpu_median_ms.toFixed(2),
    r.gpu_gb_per_s === null ? '-' : r.gpu_gb_per_s.toFixed(1),
  ]);
  const widths = head.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const fmt = (r: readonly string[]) => r.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  return [fmt(head), fmt(widths.map((w) => '-'.repeat(w))), ...rows.map(fmt)].join('\n');
}

/** The value after `--<name>` on the command line, else `fallback` (scripts run directly). */
export function cliArg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? (process.argv[i + 1] as string) : fallback;
}

/** Deterministic sky-like planes: noise around a background, a few bits in the mask. */
export function skyPlanes(n: number): {
  image: Float32Array;
  mask: Int32Array;
  variance: Float32Array;
} {
  const npix = n * n;
  const image = new Float32Array(npix);
  const mask = new Int32Array(npix);
  const variance = new Float32Array(npix);
  let s = 12345;
  for (let i = 0; i < npix; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const u = s / 4294967296;
    image[i] = 1000 + 30 * (u - 0.5);
    variance[i] = 900 + u;
    mask[i] = u < 0.01 ? 1 << (s % 9) : 0;
  }
  return { image, mask, variance };
}

/** Wall and CPU (this process, all threads) milliseconds of one call. */
export async function wallAndCpu(f: () => unknown): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await f();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1000 };
}
