import type { Box2I, Point2I } from '../geom/box.ts';
import { ImageShapeError } from './errors.ts';
import { ImageF } from './image.ts';
import { Mask, type MaskPlaneDict } from './mask.ts';

/**
 * Image, mask and variance of one pixel grid (LSST's MaskedImage). Variance is in the
 * image's units squared. All three planes share width, height and xy0.
 */
export class MaskedImage {
  readonly image: ImageF;
  readonly mask: Mask;
  /** Per-pixel variance (image units squared); +Inf where a pixel carries no information. */
  readonly variance: ImageF;

  constructor(image: ImageF, mask: Mask, variance: ImageF) {
    for (const [name, p] of [
      ['mask', mask],
      ['variance', variance],
    ] as const) {
      if (
        p.width !== image.width ||
        p.height !== image.height ||
        p.xy0.x !== image.xy0.x ||
        p.xy0.y !== image.xy0.y
      ) {
        throw new ImageShapeError(
          `MaskedImage planes differ: image ${image.width}x${image.height} at (${image.xy0.x}, ${image.xy0.y}), ` +
            `${name} ${p.width}x${p.height} at (${p.xy0.x}, ${p.xy0.y}); give all planes one size and origin`,
        );
      }
    }
    this.image = image;
    this.mask = mask;
    this.variance = variance;
  }

  /** A zero-filled MaskedImage (mask 0, variance 0). */
  static create(
    width: number,
    height: number,
    options: { xy0?: Point2I; planes?: MaskPlaneDict } = {},
  ): MaskedImage {
    const xy0 = options.xy0 ?? { x: 0, y: 0 };
    return new MaskedImage(
      new ImageF(width, height, { xy0 }),
      new Mask(width, height, options.planes ? { xy0, planes: options.planes } : { xy0 }),
      new ImageF(width, height, { xy0 }),
    );
  }

  get width(): number {
    return this.image.width;
  }

  get height(): number {
    return this.image.height;
  }

  get xy0(): Point2I {
    return this.image.xy0;
  }

  get bbox(): Box2I {
    return this.image.bbox;
  }

  clone(): MaskedImage {
    return new MaskedImage(this.image.clone(), this.mask.clone(), this.variance.clone());
  }
}
