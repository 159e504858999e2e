/**
 * Running the command-line entry points in tests: as a user runs them (a separate Node
 * process loading the TypeScript sources through tsx), or in this process (the same
 * command function, output captured, exit code read back: no start-up cost per call).
 */
import { spawnSync } from 'node:child_process';

const root = new URL('../../', import.meta.url).pathname;

/** What a command printed and how it ended. */
export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `src/cli/bin/<bin>.ts` in a child process (cwd: the repository root). */
export function runBin(
  bin: string,
  args: readonly string[],
  o: { env?: Record<string, string>; timeoutMs?: number } = {},
): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `src/cli/bin/${bin}.ts`, ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, ...(o.env ?? {}) },
    timeout: o.timeoutMs ?? 300_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Run a CLI function (e.g. `butlerCli`) in this process with `args`. */
export async function runInProcess(
  fn: (argv: string[]) => Promise<void>,
  args: readonly string[],
): Promise<CliResult & { code: number }> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write;
  const err = process.stderr.write;
  const before = process.exitCode;
  process.exitCode = undefined;
  process.stdout.write = ((c: string | Uint8Array) => {
    stdout += String(c);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => {
    stderr += String(c);
    return true;
  }) as typeof process.stderr.write;
  try {
    await fn([...args]);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = before;
  return { code, stdout, stderr };
}
