/**
 * `gpu-bench e2e`: the yargs command of the end-to-end benchmark (bench/e2e/run.ts).
 * Registered in gpu-bench with `.command(e2eCommand)`; also runnable alone through
 * bench/e2e/cli.ts.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Argv, CommandModule } from 'yargs';
import type { SimPresetName } from '../../src/sim/config.ts';
import { E2eError } from './errors.ts';
import { runE2e } from './run.ts';

/** Repository root, from this module's place in the source tree or in dist/. */
export const REPO_ROOT = fileURLToPath(
  new URL(import.meta.url.includes('/dist/') ? '../../../' : '../../', import.meta.url),
);

/** Parsed options of `gpu-bench e2e`. */
export interface E2eArgs {
  readonly preset: SimPresetName;
  readonly seed: number;
  readonly data?: string | undefined;
  readonly threads: number;
  readonly repeat: number;
  readonly out?: string | undefined;
  readonly report?: string | undefined;
  readonly backend: string;
  readonly 'skip-peers': boolean;
  readonly 'require-peers': boolean;
  readonly threshold: number;
  readonly json?: boolean | undefined;
}

function builder(y: Argv): Argv<E2eArgs> {
  return y
    .option('preset', {
      choices: ['tiny', 'small', 'medium', 'lsst'] as const,
      default: 'medium' as const,
      describe: 'simulated data set (medium: 8 visits x 4 CCDs of 2048^2 onto a 4000^2 grid)',
    })
    .option('seed', { type: 'number', default: 1, describe: 'simulator seed' })
    .option('data', {
      type: 'string',
      describe:
        'data cache: simulated there when missing (default tmp/bench-e2e/<preset>-seed<seed>)',
    })
    .option('threads', {
      type: 'number',
      default: 2,
      describe: 'threads for gpu-coadd, SWarp and Source Extractor',
    })
    .option('repeat', {
      type: 'number',
      default: 1,
      describe: 'timed runs of each side (alternating order; medians reported)',
    })
    .option('out', {
      type: 'string',
      describe: 'JSON record (default bench/results/e2e-<preset>-<backend>.json)',
    })
    .option('report', {
      type: 'string',
      describe: 'markdown report (default: the JSON path with .md)',
    })
    .option('backend', {
      choices: ['cpu', 'webgpu', 'auto'] as const,
      default: 'cpu' as const,
      describe: "gpu-coadd's compute backend",
    })
    .option('skip-peers', {
      type: 'boolean',
      default: false,
      describe: 'run gpu-coadd only, even when SWarp and Source Extractor are installed',
    })
    .option('require-peers', {
      type: 'boolean',
      default: false,
      describe: 'fail when SWarp or Source Extractor is missing (instead of running ours only)',
    })
    .option('threshold', {
      type: 'number',
      default: 5,
      describe: 'detection threshold, sigma of the PSF-smoothed noise (both sides)',
    }) as unknown as Argv<E2eArgs>;
}

/**
 * Runs the benchmark for parsed `args`: progress on stderr, then the report (markdown)
 * or, with `json`, the record on stdout.
 */
export async function e2eHandler(args: E2eArgs): Promise<void> {
  // Under gpu-bench the global --backend also allows 'all': one backend per run here.
  const backend = args.backend === 'all' ? 'auto' : args.backend;
  if (backend !== 'cpu' && backend !== 'webgpu' && backend !== 'auto') {
    throw new E2eError('E2E_BAD_OPTION', `--backend takes cpu, webgpu or auto, got '${backend}'`);
  }
  const quiet = args.json === true;
  const result = await runE2e({
    root: REPO_ROOT,
    preset: args.preset,
    seed: args.seed,
    dataDir: resolve(args.data ?? `${REPO_ROOT}tmp/bench-e2e/${args.preset}-seed${args.seed}`),
    threads: args.threads,
    repeat: args.repeat,
    backend,
    skipPeers: args['skip-peers'],
    requirePeers: args['require-peers'],
    threshold: args.threshold,
    out: args.out === undefined ? undefined : resolve(args.out),
    report: args.report === undefined ? undefined : resolve(args.report),
    log: (line) => {
      if (!quiet) process.stderr.write(`${line}\n`);
    },
  });
  if (quiet) process.stdout.write(`${JSON.stringify(result.record, null, 2)}\n`);
  else process.stdout.write(readFileSync(result.reportPath, 'utf8'));
}

/** The `e2e` command for gpu-bench: `.command(e2eCommand)`. */
export const e2eCommand: CommandModule<object, E2eArgs> = {
  command: 'e2e',
  describe:
    'end to end: gpu-coadd vs SWarp + Source Extractor on simulated calexps, timed side by side, with accuracy against truth',
  builder,
  handler: e2eHandler,
};
