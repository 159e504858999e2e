/**
 * Exposure: a MaskedImage with its WCS, PSF, photometric calibration, visit information
 * and free metadata (LSST's ExposureF).
 */

import { Header } from '../fits/header.ts';
import type { Box2I, Point2I } from '../geom/box.ts';
import type { Wcs } from '../geom/wcs.ts';
import { ExposureError } from './exposure-errors.ts';
import { ImageF } from './image.ts';
import { Mask } from './mask.ts';
import { MaskedImage } from './masked-image.ts';
import type { PhotoCalib } from './photo-calib.ts';
import type { Psf } from './psf.ts';
import type { VisitInfo } from './visit-info.ts';

/** Components of an {@link Exposure} other than the pixels; all optional. */
export interface ExposureInfo {
  /** Maps **parent** pixel coordinates (0-based, xy0 included) to the sky; null if none. */
  readonly wcs?: Wcs | null;
  /** PSF model (in parent pixel coordinates); null if none. */
  readonly psf?: Psf | null;
  /** nJy per image unit; null if uncalibrated. */
  readonly photoCalib?: PhotoCalib | null;
  /** What was observed; null if unknown. */
  readonly visitInfo?: VisitInfo | null;
  /**
   * Free metadata, an ordered map of FITS-style keys (written to the primary HDU). Keys
   * that the exposure writes itself (visit info, calibration, structure) are overridden.
   */
  readonly metadata?: Header;
}

/**
 * A MaskedImage plus WCS, PSF, photometric calibration, visit info and metadata.
 *
 * Pixel conventions are those of the planes: 0-based parent coordinates, pixel (x, y)
 * at `data[(y - xy0.y) * width + (x - xy0.x)]`. The WCS and PSF always work in parent
 * coordinates, so a sub-image (`subset`, or `readExposure` with a bbox) keeps them as
 * they are and only xy0 changes.
 */
export class Exposure {
  readonly maskedImage: MaskedImage;
  readonly wcs: Wcs | null;
  readonly psf: Psf | null;
  readonly photoCalib: PhotoCalib | null;
  readonly visitInfo: VisitInfo | null;
  /** Free metadata (mutable; an independent Header per exposure). */
  readonly metadata: Header;

  constructor(maskedImage: MaskedImage, info: ExposureInfo = {}) {
    this.maskedImage = maskedImage;
    this.wcs = info.wcs ?? null;
    this.psf = info.psf ?? null;
    this.photoCalib = info.photoCalib ?? null;
    this.visitInfo = info.visitInfo ?? null;
    this.metadata = info.metadata ?? new Header();
  }

  /** A zero-filled exposure (image 0, mask 0, variance 0) with the given components. */
  static create(
    width: number,
    height: number,
    options: ExposureInfo & { xy0?: Point2I } = {},
  ): Exposure {
    const mi = MaskedImage.create(width, height, options.xy0 ? { xy0: options.xy0 } : {});
    return new Exposure(mi, options);
  }

  get image(): ImageF {
    return this.maskedImage.image;
  }

  get mask(): Mask {
    return this.maskedImage.mask;
  }

  /** Variance plane (image units squared). */
  get variance(): ImageF {
    return this.maskedImage.variance;
  }

  get width(): number {
    return this.maskedImage.width;
  }

  get height(): number {
    return this.maskedImage.height;
  }

  get xy0(): Point2I {
    return this.maskedImage.xy0;
  }

  /** Pixel box in parent coordinates. */
  get bbox(): Box2I {
    return this.maskedImage.bbox;
  }

  /** The same components with another MaskedImage (not copied). */
  withMaskedImage(maskedImage: MaskedImage): Exposure {
    return new Exposure(maskedImage, this.info());
  }

  /** The non-pixel components (metadata cloned). */
  info(): ExposureInfo {
    return {
      wcs: this.wcs,
      psf: this.psf,
      photoCalib: this.photoCalib,
      visitInfo: this.visitInfo,
      metadata: this.metadata.clone(),
    };
  }

  /**
   * A deep copy of the pixels inside `bbox` (parent coordinates; must lie inside this
   * exposure's bbox). The result's xy0 is the bbox's corner; WCS and PSF are shared.
   */
  subset(bbox: Box2I): Exposure {
    const own = this.bbox;
    if (bbox.isEmpty || !own.containsBox(bbox)) {
      throw new ExposureError(
        'EXPOSURE_BAD_ARGUMENT',
        `bbox ${bbox.toString()} is empty or not inside the exposure's ${own.toString()}; pass a box inside it`,
      );
    }
    const w = bbox.width;
    const h = bbox.height;
    const xy0 = { x: bbox.minX, y: bbox.minY };
    const img = new ImageF(w, h, { xy0 });
    const vr = new ImageF(w, h, { xy0 });
    const msk = new Mask(w, h, { xy0, planes: this.mask.planes });
    const W = this.width;
    for (let j = 0; j < h; j++) {
      const from = (bbox.minY - own.minY + j) * W + (bbox.minX - own.minX);
      img.data.set(this.image.data.subarray(from, from + w), j * w);
      vr.data.set(this.variance.data.subarray(from, from + w), j * w);
      msk.data.set(this.mask.data.subarray(from, from + w), j * w);
    }
    return new Exposure(new MaskedImage(img, msk, vr), this.info());
  }

  /** A deep copy of the pixels and metadata (WCS, PSF, calibration are immutable and shared). */
  clone(): Exposure {
    return new Exposure(this.maskedImage.clone(), this.info());
  }
}
