/**
 * Shared entry-point plumbing of the CLIs: typed errors become one clear line on stderr
 * and a documented exit code, never a bare stack trace.
 *
 * Exit codes (batch systems may retry on 3, 4 and 130):
 *   0 success; 1 failure of the work itself (bad input data, op refused, every unit
 *   failed); 2 usage error (unknown option or value); 3 no usable compute backend;
 *   4 GPU device lost or out of memory; 5 partial failure (some units failed, the others
 *   are written; the run summary lists which and why); 70 internal error (a bug: please
 *   report); 130 interrupted (SIGINT/SIGTERM; finished units are kept, re-run to go on).
 */
import { ComputeError } from '../compute/errors.ts';
import { OpError } from '../ops/errors.ts';
import { SchedulerError } from '../scheduler/errors.ts';

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  noBackend: 3,
  device: 4,
  partial: 5,
  internal: 70,
  interrupted: 130,
} as const;

/** An error a command raises on purpose, with its exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  readonly code: string;
  constructor(code: string, message: string, exitCode: number = EXIT.failed) {
    super(message);
    this.name = 'CliError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** The exit code for an error thrown by a command. */
export function exitCodeOf(e: unknown): number {
  if (e instanceof CliError) return e.exitCode;
  if (e instanceof ComputeError) {
    if (e.code === 'NO_WEBGPU_ADAPTER') return EXIT.noBackend;
    if (e.code === 'BAD_BACKEND') return EXIT.usage;
    if (e.code === 'GPU_DEVICE_LOST' || e.code === 'GPU_OUT_OF_MEMORY') return EXIT.device;
    return EXIT.failed;
  }
  if (e instanceof OpError) return EXIT.failed;
  if (e instanceof SchedulerError) return e.code === 'INTERRUPTED' ? EXIT.interrupted : EXIT.failed;
  // Every subsystem's typed errors (FitsError, WcsError, ExposureError, SimError, ...)
  // and Node's system errors carry a string `code`: the work failed, not gpu-drp.
  if (e instanceof Error && typeof (e as { code?: unknown }).code === 'string') return EXIT.failed;
  return EXIT.internal;
}

/**
 * A yargs `.fail()` handler: usage errors become a CliError (exit 2) that names the
 * problem and points at --help; errors thrown by command handlers pass through.
 */
export function usageFailure(
  prog: string,
): (msg: string | undefined, err: Error | undefined) => never {
  return (msg, err) => {
    if (err) throw err;
    throw new CliError('USAGE', `${msg ?? 'bad usage'} (run ${prog} --help)`, EXIT.usage);
  };
}

/** Run a CLI body; print errors as `<prog>: error [CODE]: message` and set the exit code. */
export async function runCli(prog: string, body: () => Promise<number | undefined>): Promise<void> {
  try {
    process.exitCode = (await body()) ?? EXIT.ok;
  } catch (e) {
    const code = exitCodeOf(e);
    const tag = (e as { code?: string }).code;
    const msg = e instanceof Error ? e.message : String(e);
    process.stderr.write(`${prog}: error${tag ? ` [${tag}]` : ''}: ${msg}\n`);
    if (code === EXIT.internal && e instanceof Error && e.stack)
      process.stderr.write(`${e.stack}\n`);
    process.exitCode = code;
  }
}
