/**
 * `gpu-coadd`: the astronomer's and facility's entry point. Today: `info`. The coadd
 * itself (warp, stack, detect over CCD exposures) arrives with the scheduler.
 */
import yargs from 'yargs';
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
      .demandCommand(1, 'name a command: info')
      .strict()
      .version(packageVersion())
      .epilog(
        'Exit codes: 0 ok, 1 failed, 2 usage, 3 no usable backend, 4 GPU device lost or out of memory, 70 internal error.\n' +
          'Environment: GPU_DRP_BACKEND=auto|webgpu|cpu chooses the compute backend.',
      )
      .fail(usageFailure('gpu-coadd'))
      .parseAsync();
    return code;
  });
}
