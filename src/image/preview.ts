/**
 * PNG previews of images: an asinh stretch (Lupton et al. 2004) of a float image into
 * 8-bit grey, optional circles around detected sources, written as a PNG (filter 0,
 * zlib from Node) — no dependency. For looking at coadds, not for science.
 */
import { deflateSync } from 'node:zlib';
import type { ImageF } from './image.ts';

/** Options of the stretch. */
export interface PreviewOptions {
  /** Output = asinh((v - min) / softening) scaled so that `max` maps to white. */
  readonly min?: number;
  readonly max?: number;
  /** asinh softening in image units; default: 3 x the robust sky sigma. */
  readonly softening?: number;
  /** Pixel circles to draw (x, y in the image's parent pixels; radius in pixels). */
  readonly circles?: ReadonlyArray<{ readonly x: number; readonly y: number; readonly r: number }>;
  /** Scale the preview down by this integer factor (block average). */
  readonly bin?: number;
}

/** Robust sky level and sigma (median and 0.741 x IQR) of up to 100k finite samples. */
export function robustStats(img: ImageF): { median: number; sigma: number } {
  const d = img.data;
  const step = Math.max(1, Math.floor(d.length / 100_000));
  const s: number[] = [];
  for (let i = 0; i < d.length; i += step) {
    const v = d[i] as number;
    if (Number.isFinite(v)) s.push(v);
  }
  if (s.length === 0) return { median: 0, sigma: 1 };
  s.sort((a, b) => a - b);
  const q = (f: number) => s[Math.min(s.length - 1, Math.floor(f * (s.length - 1)))] as number;
  return { median: q(0.5), sigma: Math.max(0.741 * (q(0.75) - q(0.25)), 1e-30) };
}

/** 8-bit grey pixels (row 0 at the top, i.e. y flipped as astronomers look at images). */
export function stretch(
  img: ImageF,
  o: PreviewOptions = {},
): { width: number; height: number; grey: Uint8Array } {
  const bin = Math.max(1, Math.floor(o.bin ?? 1));
  const W = Math.floor(img.width / bin);
  const H = Math.floor(img.height / bin);
  const { median, sigma } = robustStats(img);
  const min = o.min ?? median - 2 * sigma;
  const soft = o.softening ?? 3 * sigma;
  const max = o.max ?? median + 1000 * sigma;
  const top = Math.asinh((max - min) / soft);
  const grey = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let s = 0;
      let n = 0;
      for (let j = 0; j < bin; j++) {
        for (let i = 0; i < bin; i++) {
          const v = img.data[(y * bin + j) * img.width + x * bin + i] as number;
          if (Number.isFinite(v)) {
            s += v;
            n++;
          }
        }
      }
      const v = n > 0 ? Math.asinh(Math.max(0, s / n - min) / soft) / top : 0;
      grey[(H - 1 - y) * W + x] = Math.max(0, Math.min(255, Math.round(255 * v)));
    }
  }
  for (const c of o.circles ?? []) {
    const cx = (c.x - img.xy0.x) / bin;
    const cy = (c.y - img.xy0.y) / bin;
    const r = Math.max(2, c.r / bin);
    for (let t = 0; t < 64; t++) {
      const a = (2 * Math.PI * t) / 64;
      const x = Math.round(cx + r * Math.cos(a));
      const y = Math.round(cy + r * Math.sin(a));
      if (x >= 0 && y >= 0 && x < W && y < H) grey[(H - 1 - y) * W + x] = 255;
    }
  }
  return { width: W, height: H, grey };
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** An 8-bit greyscale PNG of `width` x `height` pixels (row-major, top row first). */
export function encodePngGrey(width: number, height: number, grey: Uint8Array): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // greyscale
  const raw = new Uint8Array((width + 1) * height);
  for (let y = 0; y < height; y++)
    raw.set(grey.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const parts = [
    Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', new Uint8Array(deflateSync(raw))),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
