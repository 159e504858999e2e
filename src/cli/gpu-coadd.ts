/**
 * `gpu-coadd`: the astronomer's and facility's entry point: `run` (calexps -> patch
 * coadds and source catalogs), `demo` (the same on a simulated field), `info`.
 */

import type { Argv } from 'yargs';
import yargs from 'yargs';
import { coaddDemo, coaddRun } from './coadd-command.ts';
import { collectInfo, renderInfo } from './info.ts';
import { EXIT, runCli, usageFailure } from './main.ts';
import { packageVersion } from './version.ts';

/** Run `gpu-coadd` with `argv` (without node and script). */
export async function gpuCoadd(argv: string[]): Promise<void> {
  await runCli('gpu-coadd', async () => {
    let code: number = EXIT.ok;
    await yargs(argv)
      .scriptName('gpu-coadd')
      .usage('$0 <command> [options]')
      .command(
        'info',
        'show which compute backends are usable and the WebGPU adapter (vendor, architecture, device, limits, features)',
        (y) =>
          y.option('json', {
            type: 'boolean',
            default: false,
            describe: 'print the report as JSON',
          }),
        async (args) => {
          const r = await collectInfo(packageVersion());
          process.stdout.write(
            args.json ? `${JSON.stringify(r, null, 2)}\n` : `${renderInfo(r)}\n`,
          );
          code = EXIT.ok;
        },
      )
      .command(
        'run [inputs..]',
        'warp, stack, detect and measure calexps (files, quoted globs or directories; or plain images with NAME.weight.fits weight maps beside them) onto sky-map patches or a grid',
        (y) =>
          coaddOptions(y)
            .positional('inputs', {
              type: 'string',
              array: true,
              describe:
                'calexp files, globs ("visit*/calexp_*.fits", ** for any depth) or directories of them',
            })
            .option('skymap', {
              type: 'string',
              describe: 'sky map config JSON (kind "discrete" or "rings", as gpu-sim writes)',
            })
            .option('tract', {
              type: 'number',
              array: true,
              describe: 'only these tracts of the sky map',
            })
            .option('grid', {
              type: 'string',
              describe: 'an explicit grid: FITS header or a text .head (NAXIS1/2 + TAN WCS)',
            })
            .option('butler', {
              type: 'string',
              describe:
                'read calexps from this Butler repository and put the coadds (deepCoadd, deepCoadd_coverage, deepCoadd_calexp, deepCoadd_det, deepCoadd_meas) into --output-run instead of files',
            })
            .option('collections', {
              type: 'string',
              array: true,
              describe:
                'with --butler: collections searched for calexp (and skyMap), comma-separated or repeated',
            })
            .option('where', {
              type: 'string',
              describe:
                'with --butler: where-expression on the calexps\' data IDs, e.g. "visit IN (1000, 1001)"',
            })
            .option('output-run', {
              type: 'string',
              describe:
                'with --butler: the RUN collection for the outputs (default gpu-coadd/<UTC time>)',
            })
            .option('skymap-name', {
              type: 'string',
              describe:
                "with --butler: the sky map's registered name (default: the --skymap config's name, or the one skyMap dataset)",
            }),
        async (args) => {
          code = await coaddRun((args.inputs as string[] | undefined) ?? [], {
            ...args,
            out: args.out,
            skymap: args.skymap,
            grid: args.grid,
            tract: args.tract,
          });
        },
      )
      .command(
        'demo',
        'simulate a small field (gpu-sim) and coadd it on the embedded defaults',
        (y) =>
          coaddOptions(y)
            .option('preset', {
              choices: ['tiny', 'small'] as const,
              default: 'tiny' as const,
              describe: 'simulated field',
            })
            .option('seed', { type: 'number', default: 1, describe: 'simulation seed' }),
        async (args) => {
          code = await coaddDemo({ ...args, skymap: undefined, grid: undefined, tract: undefined });
        },
      )
      .demandCommand(1, 'name a command: run, demo or info')
      .strict()
      .version(packageVersion())
      .epilog(
        'Exit codes: 0 ok, 1 failed, 2 usage, 3 no usable backend (--backend webgpu without an adapter), 4 GPU device lost or out of memory, 5 partial failure (some coadds failed; summary.json says which), 70 internal error, 130 interrupted (finished coadds kept; run again to go on).\n' +
          'Environment: GPU_DRP_BACKEND=auto|webgpu|cpu chooses the compute backend.',
      )
      .fail(usageFailure('gpu-coadd'))
      .parseAsync();
    return code;
  });
}

/** Options of `run` and `demo`. */
function coaddOptions<T>(y: Argv<T>) {
  return y
    .option('out', { type: 'string', default: 'gpu-coadd-out', describe: 'output directory' })
    .option('statistic', {
      choices: ['MEANCLIP', 'MEAN', 'MEDIAN'] as const,
      default: 'MEANCLIP' as const,
      describe: 'stacking statistic (MEAN streams the visits through a fused warp and accumulate)',
    })
    .option('kernel', {
      choices: ['lanczos3', 'lanczos4', 'lanczos5', 'bilinear'] as const,
      default: 'lanczos3' as const,
      describe: 'warping kernel',
    })
    .option('threshold', {
      type: 'number',
      default: 5,
      describe: 'detection threshold (sigma of the smoothed noise)',
    })
    .option('backend', {
      choices: ['auto', 'webgpu', 'cpu'] as const,
      describe: 'compute backend (default: $GPU_DRP_BACKEND, else auto)',
    })
    .option('threads', {
      type: 'number',
      default: 0,
      describe: 'CPU worker threads (0 = one per core)',
    })
    .option('devices', {
      type: 'number',
      default: 1,
      describe:
        'compute devices to open on the chosen adapter; each takes patch-band coadds from one queue (on a node with several GPUs, run one gpu-coadd per GPU)',
    })
    .option('read-threads', {
      type: 'number',
      describe:
        'worker threads that read and decode the input files beside the compute work (0: on the main thread; default: cores - 1, at most 4)',
    })
    .option('device-memory', {
      type: 'number',
      describe:
        'device memory budget per device, MiB (default 8192 on a hardware GPU, min(4096, RAM/4) on a software adapter); work is cut into row bands to fit',
    })
    .option('host-memory', {
      type: 'number',
      describe:
        'host memory budget, MiB (default 60% of RAM); warps beyond it are kept in a scratch file',
    })
    .option('clobber', {
      type: 'boolean',
      default: false,
      describe: 'redo patches that are already finished',
    })
    .option('strict', {
      type: 'boolean',
      default: false,
      describe:
        'fail on the first unreadable input or failed coadd instead of reporting it and going on',
    })
    .option('json', {
      type: 'boolean',
      default: false,
      describe: 'print the run summary as JSON on stdout',
    });
}
