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
    await this.mapRows(module, fn, args, rows, options);
  }

  /**
   * As parallelRows, and return each band's result, in row order (for reductions: the
   * caller combines the partial results in that fixed order, so the total does not
   * depend on the thread count).
   */
  async mapRows<A extends object, R = unknown>(
    module: URL,
    fn: string,
    args: A,
    rows: number,
    options: { pixelsPerRow?: number; minRowsPerTask?: number; bandRows?: number } = {},
  ): Promise<R[]> {
    if (this.disposed) throw new BackendDisposedError('cpu');
    if (rows <= 0) return [];
    const work = rows * (options.pixelsPerRow ?? 1);
    // Below ~64k pixels a worker round trip costs more than the kernel.
    const inline = this.threads <= 1 || work < 65_536;
    const minRows = Math.max(1, options.minRowsPerTask ?? 1);
    // A fixed band height (bandRows) makes the split, and so any reduction, independent
    // of the thread count.
    const step =
      options.bandRows ??
      (inline ? rows : Math.ceil(rows / Math.min(Math.ceil(rows / minRows), this.threads * 4)));
    const bands: Array<{ start: number; end: number }> = [];
    for (let start = 0; start < rows; start += step)
      bands.push({ start, end: Math.min(rows, start + step) });
    if (inline) {
      const f = await this.inline(module, fn);
      const out: R[] = [];
      for (const b of bands) out.push((await f({ ...args, ...b })) as R);
      return out;
    }
    this.pool ??= new WorkerPool(this.threads);
    const pool = this.pool;
    return Promise.all(bands.map((b) => pool.run<R>(module, fn, { ...args, ...b })));
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
