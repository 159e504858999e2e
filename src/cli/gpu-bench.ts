/**
 * `gpu-bench`: the performance harness. Measures ops per backend and size, prints a
 * table (or JSON records with --json) and saves the records under bench/results/.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { benchConvolve, type ConvolveBenchOptions, type KernelKind } from '../../bench/convolve.ts';
import { benchDetect } from '../../bench/detect.ts';
import { e2eCommand } from '../../bench/e2e/command.ts';
import {
  type BenchRecord,
  defaultResultsPath,
  renderTable,
  saveRecords,
} from '../../bench/harness.ts';
import { benchMeasure } from '../../bench/measure.ts';
import { benchProduction, productionReport } from '../../bench/production.ts';
import { sizeCommand } from '../../bench/sizing/command.ts';
import { benchStack, type Statistic } from '../../bench/stack.ts';
import { benchWarp, type WarpKernel } from '../../bench/warp.ts';
import { CpuBackend } from '../compute/cpu/cpu-backend.ts';
import type { Backend } from '../compute/select.ts';
import { WebGpuBackend } from '../compute/webgpu/webgpu-backend.ts';
import { CliError, EXIT, runCli, usageFailure } from './main.ts';
import { packageVersion } from './version.ts';

const ROOT = fileURLToPath(
  new URL(import.meta.url.includes('/dist/') ? '../../../' : '../../', import.meta.url),
);

function numberList(v: unknown, name: string): number[] {
  const parts = String(v)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const nums = parts.map(Number);
  if (nums.length === 0 || nums.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new CliError(
      'BAD_OPTION',
      `--${name} takes positive integers separated by commas, got '${v}'`,
      EXIT.usage,
    );
  }
  return nums;
}

/** Run `gpu-bench` with `argv` (without node and script). */
export async function gpuBench(argv: string[]): Promise<void> {
  await runCli('gpu-bench', async () => {
    let code: number = EXIT.ok;
    await yargs(argv)
      .scriptName('gpu-bench')
      .usage('$0 <op> [options]')
      .option('backend', {
        choices: ['all', 'webgpu', 'cpu'] as const,
        default: 'all' as const,
        describe: 'backends to measure (all = cpu, and webgpu when an adapter exists)',
      })
      .option('threads', {
        type: 'number',
        default: 0,
        describe: 'CPU worker threads (0 = one per core)',
      })
      .option('repeats', {
        type: 'number',
        default: 7,
        describe: 'timed runs per case (fewer when a case is slow, never under 3)',
      })
      .option('warmup', { type: 'number', default: 1, describe: 'untimed runs before timing' })
      .option('budget', {
        type: 'number',
        default: 20_000,
        describe: 'about how many ms to spend timing one case',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'print the records as a JSON array on stdout',
      })
      .option('out', {
        type: 'string',
        describe: 'results file (default bench/results/<op>-<tag>-<UTC time>.json)',
      })
      .option('save', {
        type: 'boolean',
        default: true,
        describe: 'save the records (--no-save to skip)',
      })
      .command(
        'convolve',
        'MaskedImage convolution, separable and general kernels',
        (y) =>
          y
            .option('sizes', {
              type: 'string',
              default: '1024,4096',
              describe: 'square image sizes in pixels',
            })
            .option('widths', {
              type: 'string',
              default: '5,11,41',
              describe: 'kernel widths (odd)',
            })
            .option('kinds', {
              type: 'string',
              default: 'separable,general',
              describe: 'separable and/or general',
            })
            .option('quick', {
              type: 'boolean',
              default: false,
              describe: 'a small smoke run: 512 px, widths 5 and 11, 3 repeats',
            }),
        async (args) => {
          const kinds = String(args.kinds)
            .split(',')
            .map((s) => s.trim());
          for (const k of kinds) {
            if (k !== 'separable' && k !== 'general') {
              throw new CliError(
                'BAD_OPTION',
                `--kinds takes separable and/or general, got '${k}'`,
                EXIT.usage,
              );
            }
          }
          const widths = numberList(args.widths, 'widths');
          if (widths.some((w) => w % 2 === 0))
            throw new CliError('BAD_OPTION', '--widths must be odd', EXIT.usage);
          const opts: ConvolveBenchOptions = {
            ...common(args, 512),
            widths: args.quick ? [5, 11] : widths,
            kinds: kinds as KernelKind[],
          };
          const records = await runOnBackends(args.backend, args.threads, (b, ref) =>
            benchConvolve(b, ref, opts),
          );
          finish(records, 'convolve', args);
          code = EXIT.ok;
        },
      )
      .command(
        'warp',
        'one CCD onto a rotated patch grid (Lanczos3 by default)',
        (y) =>
          y
            .option('sizes', {
              type: 'string',
              default: '1024,4096',
              describe: 'CCD and patch size in pixels',
            })
            .option('kernels', {
              type: 'string',
              default: 'lanczos3',
              describe: 'lanczos3, lanczos4, lanczos5, bilinear',
            })
            .option('quick', {
              type: 'boolean',
              default: false,
              describe: 'a small smoke run: 512 px, 3 repeats',
            }),
        async (args) => {
          const kernels = listOf(
            args.kernels,
            ['lanczos3', 'lanczos4', 'lanczos5', 'bilinear'],
            'kernels',
          ) as WarpKernel[];
          const records = await runOnBackends(args.backend, args.threads, (b, ref) =>
            benchWarp(b, ref, {
              ...common(args, 512),
              kernels,
            }),
          );
          finish(records, 'warp', args);
          code = EXIT.ok;
        },
      )
      .command(
        'stack',
        'N warps into a coadd (MEAN, MEANCLIP, MEDIAN)',
        (y) =>
          y
            .option('sizes', { type: 'string', default: '2048', describe: 'warp size in pixels' })
            .option('n', { type: 'string', default: '10', describe: 'numbers of inputs' })
            .option('statistics', {
              type: 'string',
              default: 'MEAN,MEANCLIP,MEDIAN',
              describe: 'MEAN, MEANCLIP and/or MEDIAN',
            })
            .option('quick', {
              type: 'boolean',
              default: false,
              describe: 'a small smoke run: 256 px, N = 5, 3 repeats',
            }),
        async (args) => {
          const statistics = listOf(
            args.statistics,
            ['MEAN', 'MEANCLIP', 'MEDIAN'],
            'statistics',
          ) as Statistic[];
          const records = await runOnBackends(args.backend, args.threads, (b, ref) =>
            benchStack(b, ref, {
              ...common(args, 256),
              ns: args.quick ? [5] : numberList(args.n, 'n'),
              statistics,
            }),
          );
          finish(records, 'stack', args);
          code = EXIT.ok;
        },
      )
      .command(
        'detect',
        'background + detection + measurement on a simulated coadd (stage times in params)',
        (y) =>
          y
            .option('sizes', {
              type: 'string',
              default: '1024,4096',
              describe: 'coadd sizes in pixels',
            })
            .option('quick', {
              type: 'boolean',
              default: false,
              describe: 'a small smoke run: 512 px, 3 repeats',
            }),
        async (args) => {
          const records = await runOnBackends(args.backend, args.threads, (b, ref) =>
            benchDetect(b, ref, {
              ...common(args, 512),
            }),
          );
          finish(records, 'detect', args);
          code = EXIT.ok;
        },
      )
      .command(
        'measure',
        'measurement of detected sources on a simulated coadd',
        (y) =>
          y
            .option('sizes', {
              type: 'string',
              default: '1024,4096',
              describe: 'coadd sizes in pixels',
            })
            .option('quick', {
              type: 'boolean',
              default: false,
              describe: 'a small smoke run: 512 px, 3 repeats',
            }),
        async (args) => {
          const records = await runOnBackends(args.backend, args.threads, (b, ref) =>
            benchMeasure(b, ref, {
              ...common(args, 512),
            }),
          );
          finish(records, 'measure', args);
          code = EXIT.ok;
        },
      )
      .command(
        'production',
        'warp, stack and detect at LSST production sizes (4072x4000 CCDs, 4k patches, N = 10..200), JSON + markdown report',
        (y) =>
          y
            .option('n', {
              type: 'string',
              default: '10,50,200',
              describe: 'numbers of visits per stack',
            })
            .option('rows', {
              type: 'number',
              default: 256,
              describe: 'rows of the 4000-pixel-wide band stacked per case',
            })
            .option('statistics', {
              type: 'string',
              default: 'MEANCLIP',
              describe: 'MEAN, MEANCLIP and/or MEDIAN',
            })
            .option('ops', {
              type: 'string',
              default: 'warp,stack,detect',
              describe: 'which of warp, stack, detect',
            })
            .option('report', {
              type: 'string',
              describe: 'markdown report (default: the results file with .md)',
            }),
        async (args) => {
          const statistics = listOf(
            args.statistics,
            ['MEAN', 'MEANCLIP', 'MEDIAN'],
            'statistics',
          ) as Statistic[];
          const ops = listOf(args.ops, ['warp', 'stack', 'detect'], 'ops') as Array<
            'warp' | 'stack' | 'detect'
          >;
          if (!Number.isInteger(args.rows) || args.rows < 1)
            throw new CliError('BAD_OPTION', '--rows must be a positive integer', EXIT.usage);
          const records = await runOnBackends(args.backend, args.threads, (b, ref) =>
            benchProduction(b, ref, {
              repeats: args.repeats,
              warmup: args.warmup,
              budgetMs: args.budget,
              ns: numberList(args.n, 'n'),
              rows: args.rows,
              statistics,
              ops,
              onRecord: progress(args.json),
            }),
          );
          const path = finish(records, 'production', args);
          const report = args.report ?? (path ? path.replace(/\.json$/, '.md') : undefined);
          if (report) {
            writeFileSync(report, productionReport(records));
            process.stderr.write(`gpu-bench: report written to ${report}\n`);
          }
          code = EXIT.ok;
        },
      )
      .command(sizeCommand)
      .command(e2eCommand)
      .demandCommand(
        1,
        'name a benchmark: convolve, warp, stack, detect, measure, production, size or e2e',
      )
      .strict()
      .version(packageVersion())
      .epilog(
        'Records: op, backend, adapter, width, height, params, median_ms, mpix_per_s, gpu_median_ms, git_rev, ...',
      )
      .fail(usageFailure('gpu-bench'))
      .parseAsync();
    return code;
  });
}

function listOf(v: unknown, allowed: readonly string[], name: string): string[] {
  const items = String(v)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = items.filter((i) => !allowed.includes(i));
  if (items.length === 0 || bad.length > 0) {
    throw new CliError(
      'BAD_OPTION',
      `--${name} takes ${allowed.join(', ')}; got '${v}'`,
      EXIT.usage,
    );
  }
  return items;
}

/** Sizes, repeats, warm-up, budget and progress from the shared options (--quick: one small size, 3 repeats). */
function common(
  args: {
    quick: boolean;
    sizes: string;
    repeats: number;
    warmup: number;
    budget: number;
    json: boolean;
  },
  quickSize: number,
) {
  return {
    sizes: args.quick ? [quickSize] : numberList(args.sizes, 'sizes'),
    repeats: args.quick ? 3 : args.repeats,
    warmup: args.warmup,
    budgetMs: args.budget,
    onRecord: progress(args.json),
  };
}

function progress(json: boolean): (r: BenchRecord) => void {
  return (r) => {
    if (!json)
      process.stderr.write(
        `  ${r.backend} ${r.width}x${r.height} ${JSON.stringify(r.params)}: ${r.median_ms.toFixed(1)} ms\n`,
      );
  };
}

async function runOnBackends(
  which: 'all' | 'webgpu' | 'cpu',
  threads: number,
  body: (b: Backend, reference: Backend | null) => Promise<BenchRecord[]>,
): Promise<BenchRecord[]> {
  const cpu = new CpuBackend({ threads });
  const records: BenchRecord[] = [];
  try {
    if (which !== 'webgpu') records.push(...(await body(cpu, null)));
    if (which !== 'cpu') {
      let gpu: WebGpuBackend | null = null;
      try {
        gpu = await WebGpuBackend.create();
      } catch (e) {
        if (which === 'webgpu') throw e;
        process.stderr.write(
          `gpu-bench: no WebGPU adapter (${(e as Error).message}); measured the CPU backend only\n`,
        );
      }
      if (gpu) {
        try {
          records.push(...(await body(gpu, cpu)));
        } finally {
          await gpu.dispose();
        }
      }
    }
  } finally {
    await cpu.dispose();
  }
  return records;
}

function finish(
  records: BenchRecord[],
  op: string,
  args: { json: boolean; out?: string | undefined; save: boolean },
): string | null {
  let saved: string | null = null;
  if (args.save) {
    const tag = [
      ...new Set(
        records.map((r) =>
          r.backend === 'webgpu' ? (r.adapter?.isSoftware ? 'webgpu-sw' : 'webgpu-hw') : 'cpu',
        ),
      ),
    ].join('+');
    const path = saveRecords(args.out ?? defaultResultsPath(ROOT, op, tag || 'none'), records);
    process.stderr.write(`gpu-bench: ${records.length} records saved to ${path}\n`);
    saved = path;
  }
  process.stdout.write(
    args.json ? `${JSON.stringify(records, null, 2)}\n` : `${renderTable(records)}\n`,
  );
  return saved;
}
