/**
 * `gpu-sim`: the survey simulator from the command line. Writes LSST-like calexps
 * (MEF: IMAGE, MASK, VARIANCE in nJy), the truth catalog (CSV), the visit list and the
 * sky map into a directory, deterministically from a seed.
 */
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { SIM_PRESETS, type SimConfigInput, type SimPresetName, simulate } from '../sim/index.ts';
import { CliError, EXIT, runCli, usageFailure } from './main.ts';
import { packageVersion } from './version.ts';

/** Run `gpu-sim` with `argv` (without node and script). */
export async function gpuSim(argv: string[]): Promise<void> {
  await runCli('gpu-sim', async () => {
    let code: number = EXIT.ok;
    await yargs(argv)
      .scriptName('gpu-sim')
      .usage('$0 --out DIR [--preset tiny|small|medium|lsst] [--seed N] [--config FILE.json]')
      .option('out', {
        type: 'string',
        demandOption: true,
        describe: 'output directory (created if missing)',
      })
      .option('preset', {
        choices: Object.keys(SIM_PRESETS) as SimPresetName[],
        default: 'tiny' as SimPresetName,
        describe:
          'dataset size: tiny (unit tests), small, medium (8 visits x 4 CCDs x 2048^2), lsst (4072x4000 CCDs)',
      })
      .option('seed', {
        type: 'number',
        describe: 'master seed (32-bit unsigned); same seed, same bits',
      })
      .option('config', {
        type: 'string',
        describe: 'JSON file with SimConfig overrides (see docs/data-model.md)',
      })
      .option('threads', {
        type: 'number',
        default: 0,
        describe: 'worker threads (0 = one per core)',
      })
      .option('json', {
        type: 'boolean',
        default: false,
        describe: 'print the result summary as JSON',
      })
      .strict()
      .version(packageVersion())
      .epilog('Exit codes: 0 ok, 1 failed (bad config, cannot write), 2 usage.')
      .fail(usageFailure('gpu-sim'))
      .command(
        '$0',
        'simulate a dataset',
        () => {},
        async (args) => {
          let overrides: SimConfigInput = {};
          if (args.config) {
            try {
              overrides = JSON.parse(readFileSync(args.config, 'utf8')) as SimConfigInput;
            } catch (e) {
              throw new CliError(
                'BAD_CONFIG',
                `cannot read ${args.config} as JSON: ${(e as Error).message}`,
                EXIT.usage,
              );
            }
          }
          const config = {
            ...overrides,
            preset: args.preset,
            ...(args.seed === undefined ? {} : { seed: args.seed }),
          };
          const r = await simulate(config, {
            outDir: args.out,
            ...(args.threads > 0 ? { threads: args.threads } : {}),
          });
          const summary = {
            outDir: r.outDir,
            preset: args.preset,
            seed: r.config.seed,
            calexps: r.calexps.length,
            files: r.files,
            seconds: r.seconds,
          };
          process.stdout.write(
            args.json
              ? `${JSON.stringify(summary, null, 2)}\n`
              : `gpu-sim: ${r.calexps.length} calexps, truth ${r.files.truth}, sky map ${r.files.skymap} in ${r.outDir} ` +
                  `(${r.seconds.toFixed(1)} s)\n`,
          );
          code = EXIT.ok;
        },
      )
      .parseAsync();
    return code;
  });
}
