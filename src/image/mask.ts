import { Box2I, type Point2I } from '../geom/box.ts';
import { ImageShapeError, MaskPlaneError } from './errors.ts';
import { checkSize } from './image.ts';
import { allocInt32 } from './pixel-buffer.ts';

/**
 * LSST's default mask planes and their bits (lsst.afw.image.Mask). The dictionary is
 * written to FITS headers as MP_<NAME> = bit so files stay self-describing.
 */
export const DEFAULT_MASK_PLANES: Readonly<Record<string, number>> = Object.freeze({
  BAD: 0,
  SAT: 1,
  INTRP: 2,
  CR: 3,
  EDGE: 4,
  DETECTED: 5,
  DETECTED_NEGATIVE: 6,
  SUSPECT: 7,
  NO_DATA: 8,
});

/** The most planes an int32 mask holds. */
export const MAX_MASK_PLANES = 32;

/** A name -> bit dictionary of mask planes. Immutable; `withPlane` returns a new one. */
export class MaskPlaneDict {
  readonly planes: Readonly<Record<string, number>>;

  constructor(planes: Readonly<Record<string, number>> = DEFAULT_MASK_PLANES) {
    const seen = new Set<number>();
    for (const [name, bit] of Object.entries(planes)) {
      if (!Number.isInteger(bit) || bit < 0 || bit >= MAX_MASK_PLANES) {
        throw new MaskPlaneError(`mask plane ${name} has bit ${bit}; bits run 0..31`);
      }
      if (seen.has(bit)) throw new MaskPlaneError(`mask bit ${bit} is assigned twice`);
      seen.add(bit);
    }
    this.planes = Object.freeze({ ...planes });
  }

  /** Bit index of a plane; throws MaskPlaneError naming the known planes when absent. */
  bit(name: string): number {
    const b = this.planes[name];
    if (b === undefined) {
      throw new MaskPlaneError(
        `unknown mask plane ${name}; known: ${Object.keys(this.planes).join(', ')} (add it with withPlane)`,
      );
    }
    return b;
  }

  /** Bit mask (1 << bit) OR-ed over the named planes. */
  bitMask(...names: readonly string[]): number {
    let m = 0;
    for (const n of names) m |= 1 << this.bit(n);
    return m;
  }

  has(name: string): boolean {
    return this.planes[name] !== undefined;
  }

  /** A dictionary with `name` added at the lowest free bit (or unchanged if present). */
  withPlane(name: string): MaskPlaneDict {
    if (this.has(name)) return this;
    const used = new Set(Object.values(this.planes));
    for (let b = 0; b < MAX_MASK_PLANES; b++) {
      if (!used.has(b)) return new MaskPlaneDict({ ...this.planes, [name]: b });
    }
    throw new MaskPlaneError(`cannot add mask plane ${name}: all ${MAX_MASK_PLANES} bits are used`);
  }
}

/**
 * An int32 bit-plane mask. Layout and origin as ImageF: pixel (x, y) at
 * `data[(y - xy0.y) * width + (x - xy0.x)]`.
 */
export class Mask {
  readonly width: number;
  readonly height: number;
  readonly xy0: Point2I;
  readonly data: Int32Array;
  readonly planes: MaskPlaneDict;

  constructor(
    width: number,
    height: number,
    options: { xy0?: Point2I; data?: Int32Array; planes?: MaskPlaneDict } = {},
  ) {
    checkSize(width, height);
    this.width = width;
    this.height = height;
    this.xy0 = options.xy0 ?? { x: 0, y: 0 };
    if (options.data && options.data.length !== width * height) {
      throw new ImageShapeError(
        `Mask ${width}x${height} needs ${width * height} pixels, got an array of ${options.data.length}`,
      );
    }
    this.data = options.data ?? allocInt32(width * height);
    this.planes = options.planes ?? new MaskPlaneDict();
  }

  get bbox(): Box2I {
    return new Box2I(this.xy0.x, this.xy0.y, this.width, this.height);
  }

  get(x: number, y: number): number {
    return this.data[(y - this.xy0.y) * this.width + (x - this.xy0.x)] as number;
  }

  set(x: number, y: number, v: number): void {
    this.data[(y - this.xy0.y) * this.width + (x - this.xy0.x)] = v;
  }

  /** Bit mask of the named planes (see MaskPlaneDict.bitMask). */
  bitMask(...names: readonly string[]): number {
    return this.planes.bitMask(...names);
  }

  clone(): Mask {
    const out = new Mask(this.width, this.height, { xy0: this.xy0, planes: this.planes });
    out.data.set(this.data);
    return out;
  }
}
