/**
 * Read-pool benchmark: N simulated calexps (the `medium` preset's CCDs, 2048 x 2048 by
 * default, GZIP_2 as the simulator writes them, and uncompressed copies) read and
 * decoded
 * - `main`: one after another on the main thread, as the scheduler's readVisit does
 *   (`readExposure` + stat per CCD);
 * - `pool`: all queued at once on a {@link ReadPool} of `--threads` workers (started
 *   before timing; the start-up is timed once, separately).
 * Cases alternate within each run (run 0 is a warm-up) so both see the same machine
 * load. For each: wall time; how long the main thread was busy (event-loop utilization
 * `active`, and the main thread's own CPU time from /proc/self/task/<pid>/stat, not the
 * process's); the longest event-loop stall (monitorEventLoopDelay max, 1 ms resolution),
 * i.e. how long a GPU submission loop on the main thread would have waited at worst.
 *
 * Writes bench/results/read-pool-<size>.json (with the load average before and after)
 * and prints it.
 * Run: node --expose-gc --import tsx bench/read-pool.ts [--size 2048] [--n 8] [--runs 3]
 *   [--threads 2]
 */

import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { readExposure, writeExposure } from '../src/image/exposure-fits.ts';
import { ReadPool } from '../src/scheduler/read-pool.ts';
import { simulate } from '../src/sim/simulate.ts';
import { cliArg, machineFacts } from './harness.ts';

const size = Number(cliArg('size', '2048'));
const n = Number(cliArg('n', '8'));
const runs = Number(cliArg('runs', '3'));
const threads = Number(cliArg('threads', '2'));

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const clockTicks = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time of the main thread alone (user + system), ms; null off Linux. */
function mainThreadCpuMs(): number | null {
  try {
    const s = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3 (state).
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / clockTicks;
  } catch {
    return null;
  }
}

interface Sample {
  readonly wallMs: number;
  /** Event-loop busy time (ELU active), ms. */
  readonly mainActiveMs: number;
  /** Main thread CPU time, ms (10 ms ticks). */
  readonly mainCpuMs: number | null;
  /** All threads' CPU time, ms. */
  readonly processCpuMs: number;
  /** Longest event-loop stall, ms. */
  readonly loopDelayMaxMs: number;
  /** 99th percentile of event-loop delay, ms. */
  readonly loopDelayP99Ms: number;
}

async function measure(f: () => Promise<number>): Promise<Sample> {
  (globalThis as { gc?: () => void }).gc?.();
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = mainThreadCpuMs();
  const pcpu0 = process.cpuUsage();
  const t0 = performance.now();
  const width = await f();
  const wallMs = performance.now() - t0;
  const pcpu = process.cpuUsage(pcpu0);
  const cpu1 = mainThreadCpuMs();
  const elu = performance.eventLoopUtilization(elu0);
  h.disable();
  if (width !== size) throw new Error(`decoded width ${width}, expected ${size}`);
  return {
    wallMs,
    mainActiveMs: elu.active,
    mainCpuMs: cpu0 === null || cpu1 === null ? null : cpu1 - cpu0,
    processCpuMs: (pcpu.user + pcpu.system) / 1000,
    loopDelayMaxMs: h.max / 1e6,
    loopDelayP99Ms: h.percentile(99) / 1e6,
  };
}

const dir = await mkdtemp(join(tmpdir(), 'read-pool-bench-'));
const load0 = loadavg();
const pool = new ReadPool(threads);
try {
  // 2 x 2 CCDs per visit; enough visits for n CCDs.
  const t0 = performance.now();
  const sim = await simulate(
    {
      preset: 'medium',
      detector: { width: size, height: size },
      visits: { count: Math.ceil(n / 4), ditherArcsec: 60 },
      output: { compress: 'gzip2' },
    },
    { outDir: join(dir, 'sim') },
  );
  const gzip2 = sim.calexps.slice(0, n).map((c) => join(dir, 'sim', c.path));
  const uncompressed: string[] = [];
  for (const [i, p] of gzip2.entries()) {
    const out = join(dir, `plain-${i}.fits`);
    await writeExposure(out, await readExposure(p));
    uncompressed.push(out);
  }
  const setupS = (performance.now() - t0) / 1000;
  const startup = await measure(async () => (await pool.read({ path: gzip2[0]! })).exposure.width);

  const cases = {
    main: async (paths: readonly string[]) => {
      let w = 0;
      for (const p of paths) {
        const e = await readExposure(p);
        await stat(p);
        w = e.width;
      }
      return w;
    },
    pool: async (paths: readonly string[]) => {
      const rs = await Promise.all(paths.map((path) => pool.read({ path })));
      return rs[rs.length - 1]!.exposure.width;
    },
  } as const;
  const results: Record<string, unknown> = {};
  for (const [kind, paths] of Object.entries({ gzip2, uncompressed })) {
    const samples: Record<keyof typeof cases, Sample[]> = { main: [], pool: [] };
    for (let r = 0; r <= runs; r++) {
      for (const c of Object.keys(cases) as (keyof typeof cases)[]) {
        const s = await measure(() => cases[c](paths));
        if (r > 0) samples[c].push(s);
      }
    }
    const summary = (xs: Sample[]) => ({
      medianWallMs: median(xs.map((s) => s.wallMs)),
      medianMainActiveMs: median(xs.map((s) => s.mainActiveMs)),
      medianMainCpuMs: xs[0]?.mainCpuMs === null ? null : median(xs.map((s) => s.mainCpuMs!)),
      medianProcessCpuMs: median(xs.map((s) => s.processCpuMs)),
      medianLoopDelayMaxMs: median(xs.map((s) => s.loopDelayMaxMs)),
      medianLoopDelayP99Ms: median(xs.map((s) => s.loopDelayP99Ms)),
      runs: xs,
    });
    const main = summary(samples.main);
    const pooled = summary(samples.pool);
    let fileBytes = 0;
    for (const p of paths) fileBytes += (await stat(p)).size;
    results[kind] = {
      fileMBPerCcd: fileBytes / n / 1e6,
      main,
      pool: pooled,
      wallSpeedup: main.medianWallMs / pooled.medianWallMs,
      mainThreadMsFreed: main.medianMainActiveMs - pooled.medianMainActiveMs,
      mainThreadFractionFreed: 1 - pooled.medianMainActiveMs / main.medianMainActiveMs,
    };
  }
  const record = {
    bench: 'read-pool',
    ccd: { width: size, height: size, planes: 'image f32 + mask i32 + variance f32, PSF, TAN-SIP' },
    n,
    runs,
    threads,
    setupSeconds: setupS,
    poolStartupFirstReadMs: startup.wallMs,
    results,
    loadavgBefore: load0,
    loadavgAfter: loadavg(),
    ...machineFacts(),
  };
  const out = new URL(`./results/read-pool-${size}.json`, import.meta.url).pathname;
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(`${out}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(`${out}.tmp`, out);
  console.log(JSON.stringify(record, null, 2));
} finally {
  await pool.close();
  await rm(dir, { recursive: true, force: true });
}
