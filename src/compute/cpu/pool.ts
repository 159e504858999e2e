/**
 * A small worker-thread pool for tile-parallel CPU kernels.
 *
 * Why our own pool and not piscina/workerpool: every task here is a large tile of one
 * kernel over SharedArrayBuffer planes (a few tasks per thread per op, never millions of
 * tiny ones), so queueing, transfer lists and worker recycling buy nothing; what we do
 * need is to name the kernel by module URL (so src/compute never imports src/ops) and
 * to load TypeScript kernels in development through tsx, which a 100-line pool does
 * with no dependency.
 */

import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BackendDisposedError, WorkerError } from '../errors.ts';

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  readonly worker: Worker;
  busy: boolean;
}

interface QueuedTask {
  readonly id: number;
  readonly module: string;
  readonly fn: string;
  readonly args: unknown;
}

const workerUrl = (() => {
  const here = import.meta.url;
  // Under vitest/tsx the sources are .ts; built code is .js next to this file.
  return here.endsWith('.ts') ? new URL('./worker.ts', here) : new URL('./worker.js', here);
})();

/**
 * Start one worker. Built code runs worker.js directly; from sources (tests, tsx) the
 * worker first registers tsx's loader so that it can import .ts kernels (Node 20 does not
 * pass --import hooks on to worker threads).
 */
function startWorker(): Worker {
  if (!workerUrl.pathname.endsWith('.ts')) return new Worker(workerUrl);
  // The ESM build of tsx's API (its CJS build cannot register from an eval'd worker).
  const pkg = createRequire(import.meta.url).resolve('tsx/package.json');
  const api = pathToFileURL(join(dirname(pkg), 'dist/esm/api/index.mjs')).href;
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(workerUrl.href)}); });`;
  return new Worker(boot, { eval: true });
}

/** The number of threads `threads: 0` (auto) resolves to: one per available core. */
export function defaultThreadCount(): number {
  return Math.max(1, availableParallelism());
}

/** Pool of `size` worker threads running exported functions of ES modules. */
export class WorkerPool {
  readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly queue: QueuedTask[] = [];
  private nextId = 1;
  private disposed = false;

  constructor(size: number) {
    this.size = Math.max(1, Math.floor(size));
  }

  private spawn(): void {
    for (let i = this.slots.length; i < this.size; i++) {
      const worker = startWorker();
      const slot: Slot = { worker, busy: false };
      worker.on(
        'message',
        (m: {
          id: number;
          ok: boolean;
          result?: unknown;
          error?: { message: string; stack?: string };
        }) => {
          slot.busy = false;
          // Idle workers must not keep the process alive; busy ones must (pump refs them).
          worker.unref();
          const p = this.pending.get(m.id);
          this.pending.delete(m.id);
          if (p) {
            if (m.ok) p.resolve(m.result);
            else p.reject(new WorkerError(m.error?.message ?? 'unknown error'));
          }
          this.pump();
        },
      );
      worker.on('error', (e) => this.failAll(e));
      worker.on('exit', (code) => {
        if (!this.disposed) this.failAll(new Error(`worker exited with code ${code}`));
      });
      worker.unref();
      this.slots.push(slot);
    }
  }

  private failAll(e: unknown): void {
    const err =
      e instanceof WorkerError
        ? e
        : new WorkerError(String((e as Error)?.message ?? e), { cause: e });
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.queue.length = 0;
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.busy) continue;
      const t = this.queue.shift()!;
      slot.busy = true;
      slot.worker.ref();
      slot.worker.postMessage(t);
    }
  }

  /** Run `module#fn(args)` on a worker; resolves with its (structured-cloned) result. */
  run<T = unknown>(module: string | URL, fn: string, args: unknown): Promise<T> {
    if (this.disposed) return Promise.reject(new BackendDisposedError('cpu'));
    if (this.slots.length === 0) this.spawn();
    const id = this.nextId++;
    const p = new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    });
    this.queue.push({ id, module: String(module), fn, args });
    this.pump();
    return p;
  }

  /** Terminate all workers. Idempotent. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.failAll(new BackendDisposedError('cpu'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.slots.length = 0;
  }
}
