/**
 * Integer pixel boxes.
 *
 * Conventions (as LSST's `lsst.geom.Box2I`): pixel indices are 0-based integers in the
 * parent (full-CCD or full-patch) coordinate system; pixel (x, y) covers the area
 * [x - 0.5, x + 0.5) x [y - 0.5, y + 0.5), so integer coordinates are pixel centres.
 * A box is inclusive of `minX..maxX` and `minY..maxY`; an empty box has width or height 0.
 */

/** A 2-D integer point or extent, in pixels. */
export interface Point2I {
  readonly x: number;
  readonly y: number;
}

/** An axis-aligned integer pixel box: `min` inclusive corner and `width` x `height` pixels. */
export class Box2I {
  /** Lowest x pixel index inside the box (0-based, parent coordinates). */
  readonly minX: number;
  /** Lowest y pixel index inside the box (0-based, parent coordinates). */
  readonly minY: number;
  /** Number of columns, >= 0. */
  readonly width: number;
  /** Number of rows, >= 0. */
  readonly height: number;

  constructor(minX: number, minY: number, width: number, height: number) {
    if (![minX, minY, width, height].every(Number.isSafeInteger)) {
      throw new RangeError(
        `Box2I needs integer corners and sizes, got (${minX}, ${minY}, ${width}, ${height})`,
      );
    }
    if (width < 0 || height < 0) {
      throw new RangeError(`Box2I needs non-negative sizes, got ${width}x${height}`);
    }
    this.minX = minX;
    this.minY = minY;
    this.width = width;
    this.height = height;
  }

  /** A box from its inclusive min and max corners. */
  static fromMinMax(minX: number, minY: number, maxX: number, maxY: number): Box2I {
    return new Box2I(minX, minY, Math.max(0, maxX - minX + 1), Math.max(0, maxY - minY + 1));
  }

  /** Highest x pixel index inside the box (inclusive). */
  get maxX(): number {
    return this.minX + this.width - 1;
  }

  /** Highest y pixel index inside the box (inclusive). */
  get maxY(): number {
    return this.minY + this.height - 1;
  }

  /** Number of pixels. */
  get area(): number {
    return this.width * this.height;
  }

  /** True when the box holds no pixel. */
  get isEmpty(): boolean {
    return this.width === 0 || this.height === 0;
  }

  /** True when pixel (x, y) is inside. */
  contains(x: number, y: number): boolean {
    return x >= this.minX && x <= this.maxX && y >= this.minY && y <= this.maxY;
  }

  /** True when `other` lies wholly inside this box. */
  containsBox(other: Box2I): boolean {
    return (
      other.isEmpty ||
      (other.minX >= this.minX &&
        other.minY >= this.minY &&
        other.maxX <= this.maxX &&
        other.maxY <= this.maxY)
    );
  }

  /** The overlap of two boxes (possibly empty, then anchored at this box's min corner). */
  intersect(other: Box2I): Box2I {
    const x0 = Math.max(this.minX, other.minX);
    const y0 = Math.max(this.minY, other.minY);
    const x1 = Math.min(this.maxX, other.maxX);
    const y1 = Math.min(this.maxY, other.maxY);
    if (x1 < x0 || y1 < y0) return new Box2I(this.minX, this.minY, 0, 0);
    return Box2I.fromMinMax(x0, y0, x1, y1);
  }

  /** The box grown by `n` pixels on every side (shrunk when `n` < 0, never below empty). */
  grow(n: number): Box2I {
    return new Box2I(
      this.minX - n,
      this.minY - n,
      Math.max(0, this.width + 2 * n),
      Math.max(0, this.height + 2 * n),
    );
  }

  /** Same box shifted by (dx, dy) pixels. */
  shift(dx: number, dy: number): Box2I {
    return new Box2I(this.minX + dx, this.minY + dy, this.width, this.height);
  }

  equals(other: Box2I): boolean {
    return (
      this.minX === other.minX &&
      this.minY === other.minY &&
      this.width === other.width &&
      this.height === other.height
    );
  }

  toString(): string {
    return `Box2I(minX=${this.minX}, minY=${this.minY}, ${this.width}x${this.height})`;
  }
}
