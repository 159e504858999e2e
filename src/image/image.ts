import { Box2I, type Point2I } from '../geom/box.ts';
import { ImageShapeError } from './errors.ts';
import { allocFloat32 } from './pixel-buffer.ts';

/**
 * A float32 image with an origin.
 *
 * Pixel (x, y) of the parent system (0-based; integer coordinates are pixel centres)
 * is stored at `data[(y - xy0.y) * width + (x - xy0.x)]`: rows are contiguous, x is
 * the fastest axis (as FITS NAXIS1). Units are those of the data (counts, nJy, ...).
 */
export class ImageF {
  readonly width: number;
  readonly height: number;
  /** Parent coordinates of the first stored pixel (LSST's xy0). */
  readonly xy0: Point2I;
  /** Row-major pixels, length width * height. */
  readonly data: Float32Array;

  constructor(width: number, height: number, options: { xy0?: Point2I; data?: Float32Array } = {}) {
    checkSize(width, height);
    this.width = width;
    this.height = height;
    this.xy0 = options.xy0 ?? { x: 0, y: 0 };
    if (options.data && options.data.length !== width * height) {
      throw new ImageShapeError(
        `ImageF ${width}x${height} needs ${width * height} pixels, got an array of ${options.data.length}`,
      );
    }
    this.data = options.data ?? allocFloat32(width * height);
  }

  /** The image's pixel box in parent coordinates. */
  get bbox(): Box2I {
    return new Box2I(this.xy0.x, this.xy0.y, this.width, this.height);
  }

  /** Value at parent pixel (x, y). */
  get(x: number, y: number): number {
    return this.data[(y - this.xy0.y) * this.width + (x - this.xy0.x)] as number;
  }

  /** Set the value at parent pixel (x, y). */
  set(x: number, y: number, v: number): void {
    this.data[(y - this.xy0.y) * this.width + (x - this.xy0.x)] = v;
  }

  /** A deep copy (new shared storage). */
  clone(): ImageF {
    const out = new ImageF(this.width, this.height, { xy0: this.xy0 });
    out.data.set(this.data);
    return out;
  }
}

/** Throws unless `width` and `height` are non-negative safe integers. */
export function checkSize(width: number, height: number): void {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 0 || height < 0) {
    throw new ImageShapeError(`image sizes must be non-negative integers, got ${width}x${height}`);
  }
}
