/**
 * Worker side of the CCD read pool ({@link ./read-pool.ts}): reads and decodes one input
 * (a calexp, or a plain image with its weight map) with the very functions the main
 * thread would call, and turns the Exposure into plain data that `postMessage` can carry:
 * pixel planes stay on their SharedArrayBuffer (so they reach the main thread without a
 * copy), everything else is small (header cards, WCS parameters, the PSF extension as it
 * was read).
 *
 * The module runs inside the CPU backend's worker pool (src/compute/cpu/pool.ts), which
 * imports it by URL and calls {@link decodeInput}. Failures are returned, not thrown: the
 * pool would flatten a thrown error into a generic WorkerError, while the scheduler
 * needs the reader's own class and `code` (see {@link encodeError}).
 */

import { stat } from 'node:fs/promises';
import type { Card } from '../fits/card.ts';
import { type FitsFile, readFits } from '../fits/reader.ts';
import type { TanSipWcsParams, TanWcsParams, Wcs } from '../geom/wcs.ts';
import type { Exposure } from '../image/exposure.ts';
import {
  exposureFromFits,
  readExposure,
  readPlainImageWithWeight,
} from '../image/exposure-fits.ts';
import { extName } from '../image/exposure-fits-headers.ts';
import { isShared } from '../image/pixel-buffer.ts';
import { PSF_EXTNAME } from '../image/psf.ts';
import type { VisitInfo } from '../image/visit-info.ts';

/** What {@link decodeInput} reads: a calexp, or a plain image and its weight map. */
export interface DecodeRequest {
  /** The calexp (or plain image) path. */
  readonly path: string;
  /** The weight map (inverse variance) of a plain image; null or absent for a calexp. */
  readonly weightPath?: string | null | undefined;
}

/**
 * The WCS as the parameters of `Wcs.tan` / `Wcs.tanSip` (0-based parent-pixel `crpix`,
 * degrees); rebuilding from these repeats exactly what the reader's last step did.
 */
export interface WcsMessage extends TanWcsParams {
  readonly sip?: TanSipWcsParams['sip'];
}

/** The PSF extension exactly as read from the file (EXTNAME PSF): cards, pixels, shape. */
export interface PsfMessage {
  readonly cards: readonly Card[];
  /** The kernel image (any numeric type), null when the extension has no data. */
  readonly data: ArrayLike<number> | null;
  /** [NAXIS1, NAXIS2] (FITS order). */
  readonly shape: readonly number[];
}

/**
 * An Exposure as plain, structured-cloneable data. Planes are row-major, pixel (x, y) of
 * parent coordinates at `(y - xy0.y) * width + (x - xy0.x)`, on SharedArrayBuffer.
 */
export interface ExposureMessage {
  /** Pixels. */
  readonly width: number;
  /** Pixels. */
  readonly height: number;
  /** Parent pixel coordinates of the first pixel. */
  readonly xy0: { readonly x: number; readonly y: number };
  /** Float32 image plane. */
  readonly image: Float32Array;
  /** Int32 bit-plane mask. */
  readonly mask: Int32Array;
  /** Float32 variance plane (image units squared). */
  readonly variance: Float32Array;
  /** Mask plane dictionary, name -> bit. */
  readonly planes: Readonly<Record<string, number>>;
  readonly wcs: WcsMessage | null;
  readonly psf: PsfMessage | null;
  /** nJy per count and its 1-sigma error; null when uncalibrated. */
  readonly photoCalib: { readonly mean: number; readonly err: number } | null;
  readonly visitInfo: VisitInfo | null;
  /** The metadata header's cards, in order. */
  readonly metadata: readonly Card[];
}

/**
 * An error as plain data: the class name (looked up again on the main thread), the own
 * data fields (`name`, `code`, `file`, `hdu`, `key`, `errno`, ...), message, stack and
 * cause chain.
 */
export interface ErrorMessage {
  /** `constructor.name` of the error, e.g. `'ExposureError'`. */
  readonly className: string;
  readonly message: string;
  readonly stack: string | undefined;
  /** Own enumerable fields whose values are primitives (undefined kept). */
  readonly fields: Readonly<Record<string, string | number | boolean | bigint | null | undefined>>;
  /** The `cause`, when the error has one of its own. */
  readonly cause?: ErrorMessage | { readonly value: string | number | boolean | null | undefined };
}

/** Reply of {@link decodeInput}. */
export type DecodeReply =
  | {
      readonly ok: true;
      readonly exposure: ExposureMessage;
      /** Bytes of the files read (image + weight map), from stat(). */
      readonly bytes: number;
      /** Wall time of the read and decode in the worker, ms. */
      readonly ms: number;
    }
  | { readonly ok: false; readonly error: ErrorMessage };

/**
 * Reads and decodes one input in this thread and returns it as an
 * {@link ExposureMessage} (or the reader's error as an {@link ErrorMessage}). Called by
 * the worker pool; usable in any thread.
 */
export async function decodeInput(request: DecodeRequest): Promise<DecodeReply> {
  const t0 = performance.now();
  try {
    const { path, weightPath } = request;
    const exposure = weightPath
      ? encodeExposure(await readPlainImageWithWeight(path, weightPath), null)
      : await decodeCalexp(path);
    const bytes = (await stat(path)).size + (weightPath ? (await stat(weightPath)).size : 0);
    return { ok: true, exposure, bytes, ms: performance.now() - t0 };
  } catch (e) {
    return { ok: false, error: encodeError(e) };
  }
}

/**
 * `readExposure(path)` in two steps (readFits, then exposureFromFits, which is what
 * readExposure does without a bbox), so that the PSF extension is at hand as read: an
 * image PSF renormalizes its kernel when built, so it must be rebuilt from the file's
 * values, not from its own. When readFits fails, readExposure itself is called for the
 * error, so that the caller sees exactly the error the main-thread reader raises.
 */
async function decodeCalexp(path: string, attempts = 3): Promise<ExposureMessage> {
  let fits: FitsFile;
  try {
    fits = await readFits(path, { sharedMemory: true });
  } catch (e) {
    // Throws the reader's ExposureError for this file; if the file has become readable
    // meanwhile (it was being written), decode it afresh.
    await readExposure(path);
    if (attempts <= 1) throw e;
    return decodeCalexp(path, attempts - 1);
  }
  const exposure = exposureFromFits(fits, path);
  let psf: PsfMessage | null = null;
  if (exposure.psf) {
    const hdu = fits.hdus.find((h) => extName(h.header) === PSF_EXTNAME);
    if (hdu?.type === 'image') {
      psf = {
        cards: hdu.header.cards,
        data: hdu.data as ArrayLike<number> | null,
        shape: hdu.shape,
      };
    }
  }
  return encodeExposure(exposure, psf);
}

/** The exposure as plain data; `psf` is its PSF extension as read (null when none). */
function encodeExposure(exposure: Exposure, psf: PsfMessage | null): ExposureMessage {
  const { image, mask, variance } = exposure.maskedImage;
  for (const [name, data] of [
    ['image', image.data],
    ['mask', mask.data],
    ['variance', variance.data],
  ] as const) {
    // The readers put every plane on shared memory; a plane that is not would be copied
    // through postMessage, which is correct but is the cost this module exists to avoid.
    if (!isShared(data)) throw new Error(`the ${name} plane is not on shared memory`);
  }
  const pc = exposure.photoCalib;
  return {
    width: exposure.width,
    height: exposure.height,
    xy0: { x: exposure.xy0.x, y: exposure.xy0.y },
    image: image.data,
    mask: mask.data,
    variance: variance.data,
    planes: mask.planes.planes,
    wcs: exposure.wcs ? encodeWcs(exposure.wcs) : null,
    psf,
    photoCalib: pc ? { mean: pc.calibrationMean, err: pc.calibrationErr } : null,
    visitInfo: exposure.visitInfo,
    metadata: exposure.metadata.cards,
  };
}

function encodeWcs(wcs: Wcs): WcsMessage {
  const sip = wcs.sip;
  return {
    crpix: wcs.crpix,
    crval: wcs.crval,
    cd: wcs.cd,
    lonpole: wcs.lonpole,
    radesys: wcs.radesys,
    ...(wcs.equinox !== undefined ? { equinox: wcs.equinox } : {}),
    ...(sip ? { sip } : {}),
  };
}

/** An error (and its cause chain, at most 8 deep) as plain data. */
export function encodeError(e: unknown, depth = 0): ErrorMessage {
  if (!(e instanceof Error)) {
    return { className: 'Error', message: String(e), stack: undefined, fields: {} };
  }
  const fields: Record<string, string | number | boolean | bigint | null | undefined> = {};
  for (const [k, v] of Object.entries(e)) {
    if (
      v === null ||
      v === undefined ||
      ['string', 'number', 'boolean', 'bigint'].includes(typeof v)
    )
      fields[k] = v as string | number | boolean | bigint | null | undefined;
  }
  const base = { className: e.constructor.name, message: e.message, stack: e.stack, fields };
  if (!Object.hasOwn(e, 'cause') || depth >= 8) return base;
  const cause: unknown = e.cause;
  if (cause instanceof Error) return { ...base, cause: encodeError(cause, depth + 1) };
  // `new Error(m, { cause: undefined })` has an own `cause` (undefined): keep that too.
  return {
    ...base,
    cause: {
      value:
        typeof cause === 'number' ||
        typeof cause === 'boolean' ||
        cause === null ||
        cause === undefined
          ? cause
          : String(cause),
    },
  };
}
