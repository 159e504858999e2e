/**
 * Where a unit keeps its warps between warping and stacking: in host memory, or (when N
 * warps exceed the host budget) in one scratch file per warp, read back a row band at a
 * time. Bands are views (memory) or fresh arrays (file) with the band's xy0.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ImageF } from '../image/image.ts';
import { Mask } from '../image/mask.ts';
import { MaskedImage } from '../image/masked-image.ts';
import { allocFloat32, allocInt32 } from '../image/pixel-buffer.ts';

export class WarpStore {
  private readonly mem: MaskedImage[] = [];
  private readonly files: string[] = [];
  private template: MaskedImage | null = null;

  /** `spillDir`: where scratch files go (null: keep warps in memory). */
  constructor(private readonly spillDir: string | null) {}

  get size(): number {
    return this.spillDir ? this.files.length : this.mem.length;
  }

  /** Keep warp number `size` (they are added in visit order). */
  put(w: MaskedImage): void {
    this.template ??= w;
    if (!this.spillDir) {
      this.mem.push(w);
      return;
    }
    const path = join(this.spillDir, `warp-${this.files.length}.raw`);
    const fd = openSync(path, 'w');
    try {
      for (const a of [w.image.data, w.mask.data, w.variance.data]) {
        writeSync(fd, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      }
    } finally {
      closeSync(fd);
    }
    this.files.push(path);
  }

  /** Rows [y0, y0 + rows) (relative to the target's first row) of warp `k`. */
  band(k: number, y0: number, rows: number): MaskedImage {
    const t = this.template as MaskedImage;
    const w = t.width;
    const xy0 = { x: t.xy0.x, y: t.xy0.y + y0 };
    const from = y0 * w;
    const n = rows * w;
    let img: Float32Array;
    let msk: Int32Array;
    let vr: Float32Array;
    if (!this.spillDir) {
      const m = this.mem[k] as MaskedImage;
      if (y0 === 0 && rows === t.height) return m;
      img = m.image.data.subarray(from, from + n);
      msk = m.mask.data.subarray(from, from + n);
      vr = m.variance.data.subarray(from, from + n);
    } else {
      img = allocFloat32(n);
      msk = allocInt32(n);
      vr = allocFloat32(n);
      const plane = t.width * t.height * 4;
      const fd = openSync(this.files[k] as string, 'r');
      try {
        readPlane(fd, img, from * 4);
        readPlane(fd, msk, plane + from * 4);
        readPlane(fd, vr, 2 * plane + from * 4);
      } finally {
        closeSync(fd);
      }
    }
    return new MaskedImage(
      new ImageF(w, rows, { xy0, data: img }),
      new Mask(w, rows, { xy0, data: msk, planes: t.mask.planes }),
      new ImageF(w, rows, { xy0, data: vr }),
    );
  }
}

function readPlane(fd: number, into: Float32Array | Int32Array, position: number): void {
  const bytes = new Uint8Array(into.buffer, into.byteOffset, into.byteLength);
  let done = 0;
  while (done < bytes.length) {
    const n = readSync(fd, bytes, done, bytes.length - done, position + done);
    if (n === 0) throw new Error(`scratch warp file ended early at byte ${position + done}`);
    done += n;
  }
}
