/**
 * A growable list of raster runs: four int32 columns (row, first column, one past the
 * last column, and a key — a label or a union-find parent), doubled when full.
 */
export class RunList {
  y = new Int32Array(1024);
  x0 = new Int32Array(1024);
  x1 = new Int32Array(1024);
  key = new Int32Array(1024);
  /** Runs held. */
  n = 0;

  /** Append a run; returns its index. */
  push(y: number, x0: number, x1: number, key: number): number {
    if (this.n === this.y.length) {
      const cap = 2 * this.n;
      const grow = (a: Int32Array) => {
        const b = new Int32Array(cap);
        b.set(a);
        return b;
      };
      this.y = grow(this.y);
      this.x0 = grow(this.x0);
      this.x1 = grow(this.x1);
      this.key = grow(this.key);
    }
    const i = this.n++;
    this.y[i] = y;
    this.x0[i] = x0;
    this.x1[i] = x1;
    this.key[i] = key;
    return i;
  }
}
