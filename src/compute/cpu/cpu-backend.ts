import type { BackendBase, BackendInfo } from '../backend.ts';
import { BackendDisposedError } from '../errors.ts';
import { defaultThreadCount, WorkerPool } from './pool.ts';

/** Options of the CPU backend. */
export interface CpuBackendOptions {
  /** Worker threads; 0 or absent = one per available core; 1 = run on the calling thread. */
  readonly threads?: number;
}

/** A half-open range of rows [start, end) handed to a row kernel. */
export interface RowRange {
  readonly start: number;
  readonly end: number;
}

/**
 * The CPU backend: row-band parallel kernels on worker threads over SharedArrayBuffer.
 * A kernel is an exported function `(args & RowRange) => void` of an ES module; it is
 * called for disjoint row bands, in workers or (for small work or threads = 1) inline,
 * with the very same code either way so results do not depend on the thread count.
 */
export class CpuBackend implements BackendBase {
  readonly kind = 'cpu' as const;
  readonly threads: number;
  private pool: WorkerPool | null = null;
  private disposed = false;
  private readonly inlineModules = new Map<string, Promise<Record<string, unknown>>>();

  constructor(options: CpuBackendOptions = {}) {
    const t = options.threads ?? 0;
    this.threads = t > 0 ? Math.floor(t) : defaultThreadCount();
  }

  info(): BackendInfo {
    return {
      kind: 'cpu',
      adapter: null,
      threads: this.threads,
      limits: null,
      features: [],
      timestamps: false,
    };
  }

  /**
   * Run `module#fn` over rows [0, rows) split into bands. `minRowsPerTask` keeps tasks
   * big enough to pay for a message; `pixelsPerRow` lets tiny images run inline.
   */
  async parallelRows<A extends object>(
    module: URL,
    fn: string,
    args: A,
    rows: number,
    options: { pixelsPerRow?: number; minRowsPerTask?: number } = {},
  ): Promise<void> {
    if (this.disposed) throw new BackendDisposedError('cpu');
    if (rows <= 0) return;
    const work = rows * (options.pixelsPerRow ?? 1);
    // Below ~64k pixels a worker round trip costs more than the kernel.
    if (this.threads <= 1 || work < 65_536) {
      const f = await this.inline(module, fn);
      await f({ ...args, start: 0, end: rows });
      return;
    }
    this.pool ??= new WorkerPool(this.threads);
    const minRows = Math.max(1, options.minRowsPerTask ?? 1);
    const tasks = Math.min(Math.ceil(rows / minRows), this.threads * 4);
    const step = Math.ceil(rows / tasks);
    const jobs: Promise<unknown>[] = [];
    for (let start = 0; start < rows; start += step) {
      jobs.push(this.pool.run(module, fn, { ...args, start, end: Math.min(rows, start + step) }));
    }
    await Promise.all(jobs);
  }

  private async inline(module: URL, fn: string): Promise<(a: object) => unknown> {
    const key = String(module);
    let m = this.inlineModules.get(key);
    if (!m) {
      m = import(key) as Promise<Record<string, unknown>>;
      this.inlineModules.set(key, m);
    }
    const f = (await m)[fn];
    if (typeof f !== 'function') throw new Error(`${key} has no exported function ${fn}`);
    return f as (a: object) => unknown;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.pool?.dispose();
    this.pool = null;
  }
}
