/**
 * A stand-alone runner of `gpu-bench e2e` until gpu-bench registers the command:
 *   node dist/bench/e2e/cli.js e2e --preset small
 *   node --import tsx bench/e2e/cli.ts e2e --preset tiny --repeat 3
 * Exit codes as gpu-bench's (src/cli/main.ts): 0 ok, 1 failed, 2 usage.
 */
import yargs from 'yargs';
import { runCli, usageFailure } from '../../src/cli/main.ts';
import { e2eCommand } from './command.ts';

await runCli('gpu-bench', async () => {
  await yargs(process.argv.slice(2))
    .scriptName('gpu-bench')
    .command(e2eCommand)
    .demandCommand(1, 'name the benchmark: e2e')
    .strict()
    .fail(usageFailure('gpu-bench'))
    .parseAsync();
  return 0;
});
