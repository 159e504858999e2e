/**
 * A pool of worker threads that read AND decode CCD inputs (GZIP_2 tile decompression,
 * byte swapping, mask checks, WCS and PSF parsing), so that this work runs beside the
 * main thread's GPU submission loop instead of inside it.
 *
 * Each worker runs the same readers as the main thread (`readExposure`'s two steps, or
 * `readPlainImageWithWeight`) and posts the result as plain data with the pixel planes on
 * SharedArrayBuffer; the main thread rebuilds the Exposure around those same buffers (no
 * pixel is copied) and the header cards, WCS parameters and PSF extension. The result is
 * the one the main-thread reader returns: same pixels, mask plane dictionary, WCS, PSF,
 * calibration, visit info and metadata. A reader error comes back as the same class with
 * the same `code`, message and context (`file`, `hdu`, `key`, cause chain), so callers
 * that skip or report bad inputs by `code` work unchanged.
 *
 * Workers are the CPU backend's worker pool (src/compute/cpu/pool.ts): started on the
 * first read (from .ts sources under vitest/tsx, from .js when built), unref'd while
 * idle (an idle pool never keeps the process alive), terminated by {@link ReadPool.close}.
 */

import { defaultThreadCount, WorkerPool } from '../compute/cpu/pool.ts';
import { FitsError } from '../fits/errors.ts';
import { Header } from '../fits/header.ts';
import { GeomError, SkyMapError, WcsError } from '../geom/errors.ts';
import { Wcs } from '../geom/wcs.ts';
import { ImageError, ImageShapeError, MaskPlaneError } from '../image/errors.ts';
import { Exposure } from '../image/exposure.ts';
import { ExposureError } from '../image/exposure-errors.ts';
import { ImageF } from '../image/image.ts';
import { Mask, MaskPlaneDict } from '../image/mask.ts';
import { MaskedImage } from '../image/masked-image.ts';
import { PhotoCalib } from '../image/photo-calib.ts';
import { PSF_EXTNAME, psfFromFits } from '../image/psf.ts';
import { SchedulerError } from './errors.ts';
import type { DecodeReply, DecodeRequest, ErrorMessage, ExposureMessage } from './read-worker.ts';

/** One input to read: a calexp, or a plain image with its weight map (SWarp convention). */
export interface ReadInput {
  /** Calexp (or plain image) path. */
  readonly path: string;
  /** Weight map (inverse variance) of a plain image; null or absent for a calexp. */
  readonly weightPath?: string | null | undefined;
}

/** A decoded input. */
export interface ReadResult {
  /**
   * What `readExposure(path)` (or `readPlainImageWithWeight(path, weightPath)`) returns
   * on the main thread; planes on SharedArrayBuffer memory.
   */
  readonly exposure: Exposure;
  /** Bytes of the files read (image + weight map), as their sizes on disk. */
  readonly bytes: number;
  /** Wall time the worker spent reading and decoding, ms (queueing not included). */
  readonly ms: number;
}

// Under vitest/tsx the sources are .ts; built code is .js next to this file.
const WORKER_MODULE = import.meta.url.endsWith('.ts')
  ? new URL('./read-worker.ts', import.meta.url)
  : new URL('./read-worker.js', import.meta.url);

/**
 * Decodes CCD inputs on `threads` worker threads (0: one per available core). Reads run
 * in the order they are asked for, up to `threads` at a time; each resolves on its own.
 *
 * @example
 * const pool = new ReadPool(2);
 * try {
 *   const reads = visit.inputs.map((i) => pool.read(i)); // all queued at once
 *   for (const r of await Promise.all(reads)) use(r.exposure);
 * } finally {
 *   await pool.close();
 * }
 */
export class ReadPool {
  /** Worker threads used. */
  readonly threads: number;
  private pool: WorkerPool | null = null;
  private closed = false;

  constructor(threads: number) {
    if (!Number.isFinite(threads) || threads < 0) {
      throw new SchedulerError(
        'READ_POOL_BAD_ARGUMENT',
        `threads must be 0 (one per core) or a positive number, got ${threads}`,
      );
    }
    this.threads = threads >= 1 ? Math.floor(threads) : defaultThreadCount();
  }

  /**
   * Reads and decodes one input on a worker.
   *
   * @throws the reader's own errors, rebuilt: ExposureError (EXPOSURE_IO,
   *   EXPOSURE_BAD_FITS, EXPOSURE_MISSING_HDU, EXPOSURE_BAD_WCS, ...), as
   *   `readExposure`/`readPlainImageWithWeight` document them; SchedulerError
   *   READ_POOL_CLOSED after (or during) {@link close}, READ_WORKER_FAILED when a worker
   *   died (the next read starts fresh workers).
   */
  async read(input: ReadInput): Promise<ReadResult> {
    if (this.closed) throw closedError(input.path);
    const pool = this.pool ?? new WorkerPool(this.threads);
    this.pool = pool;
    const request: DecodeRequest = { path: input.path, weightPath: input.weightPath ?? null };
    let reply: DecodeReply;
    try {
      reply = await pool.run<DecodeReply>(WORKER_MODULE, 'decodeInput', request);
    } catch (e) {
      if (this.closed) throw closedError(input.path, e);
      // A worker that exits takes its queue down and stays in the pool; retire the pool.
      if (this.pool === pool) {
        this.pool = null;
        void pool.dispose();
      }
      throw new SchedulerError(
        'READ_WORKER_FAILED',
        `a read worker failed while reading ${input.path}: ${(e as Error)?.message ?? String(e)}; the next read starts fresh workers (or read on the main thread with readExposure)`,
        { cause: e },
      );
    }
    if (!reply.ok) throw decodeError(reply.error);
    return {
      exposure: decodeExposure(reply.exposure, input.path),
      bytes: reply.bytes,
      ms: reply.ms,
    };
  }

  /**
   * Terminates the workers; reads still running reject with READ_POOL_CLOSED, and so do
   * later ones. Idempotent.
   */
  async close(): Promise<void> {
    this.closed = true;
    const pool = this.pool;
    this.pool = null;
    await pool?.dispose();
  }
}

function closedError(path: string, cause?: unknown): SchedulerError {
  return new SchedulerError(
    'READ_POOL_CLOSED',
    `the read pool was closed before ${path} was read; create a new ReadPool to read more`,
    cause === undefined ? undefined : { cause },
  );
}

/** The Exposure around the posted planes (shared, not copied); see read-worker.ts. */
function decodeExposure(m: ExposureMessage, file: string): Exposure {
  const { width: w, height: h, xy0 } = m;
  const mi = new MaskedImage(
    new ImageF(w, h, { xy0, data: m.image }),
    new Mask(w, h, { xy0, data: m.mask, planes: new MaskPlaneDict(m.planes) }),
    new ImageF(w, h, { xy0, data: m.variance }),
  );
  const wcs = m.wcs
    ? m.wcs.sip
      ? Wcs.tanSip({ ...m.wcs, sip: m.wcs.sip })
      : Wcs.tan(m.wcs)
    : null;
  // The same call, on the same cards and values, as exposureFromFits makes.
  const psf = m.psf
    ? psfFromFits(new Header(m.psf.cards), m.psf.data, m.psf.shape, { file, hdu: PSF_EXTNAME })
    : null;
  return new Exposure(mi, {
    wcs,
    psf,
    photoCalib: m.photoCalib ? new PhotoCalib(m.photoCalib.mean, m.photoCalib.err) : null,
    visitInfo: m.visitInfo,
    metadata: new Header(m.metadata),
  });
}

/** Error classes the readers raise, by constructor name; others come back as Error. */
const ERROR_CLASSES: Readonly<Record<string, new (...args: never[]) => Error>> = {
  ExposureError,
  FitsError,
  GeomError,
  WcsError,
  SkyMapError,
  ImageError,
  ImageShapeError,
  MaskPlaneError,
  SchedulerError,
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/**
 * The error as the worker saw it: an instance of the same class (a native error object
 * whose prototype is the class's, built without running the class's constructor, which
 * would prefix the context to the message a second time), with its message, stack, own
 * fields and cause chain.
 */
function decodeError(m: ErrorMessage): Error {
  const cls = ERROR_CLASSES[m.className] ?? Error;
  const e = Reflect.construct(Error, [m.message], cls) as Error;
  const define = (key: string, value: unknown, enumerable: boolean) =>
    Object.defineProperty(e, key, { value, writable: true, configurable: true, enumerable });
  if (m.stack !== undefined) define('stack', m.stack, false);
  if (m.cause !== undefined) {
    define('cause', 'className' in m.cause ? decodeError(m.cause) : m.cause.value, false);
  }
  for (const [k, v] of Object.entries(m.fields)) define(k, v, true);
  return e;
}
