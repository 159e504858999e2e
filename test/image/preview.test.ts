import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ImageF } from '../../src/image/image.ts';
import { encodePngGrey, stretch } from '../../src/image/preview.ts';

/** Minimal PNG reader: chunk types, IHDR size, and the unfiltered rows of IDAT. */
function readPng(png: Uint8Array) {
  expect([...png.subarray(0, 8)]).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
  const v = new DataView(png.buffer, png.byteOffset, png.byteLength);
  const types: string[] = [];
  let width = 0;
  let height = 0;
  let idat: Uint8Array = new Uint8Array(0);
  for (let o = 8; o < png.length; ) {
    const len = v.getUint32(o);
    const type = String.fromCharCode(...png.subarray(o + 4, o + 8));
    types.push(type);
    const data = png.subarray(o + 8, o + 8 + len);
    if (type === 'IHDR') {
      width = v.getUint32(o + 8);
      height = v.getUint32(o + 12);
    }
    if (type === 'IDAT') idat = data;
    o += 12 + len;
  }
  return { types, width, height, raw: new Uint8Array(inflateSync(idat)) };
}

describe('PNG preview', () => {
  it('encodes 8-bit grey rows that a decoder reads back', () => {
    const grey = Uint8Array.from({ length: 7 * 3 }, (_, i) => i * 11);
    const p = readPng(encodePngGrey(7, 3, grey));
    expect(p.types).toEqual(['IHDR', 'IDAT', 'IEND']);
    expect([p.width, p.height]).toEqual([7, 3]);
    for (let y = 0; y < 3; y++) {
      expect(p.raw[y * 8]).toBe(0); // filter type 0
      expect([...p.raw.subarray(y * 8 + 1, y * 8 + 8)]).toEqual([
        ...grey.subarray(y * 7, y * 7 + 7),
      ]);
    }
  });

  it('asinh stretch: sky dark, a star bright, y flipped, circles drawn, NaN black', () => {
    const im = new ImageF(40, 30);
    for (let i = 0; i < im.data.length; i++) im.data[i] = ((i * 7919) % 13) - 6; // sky noise around 0
    im.set(10, 5, 5000);
    im.set(39, 29, Number.NaN);
    const { width, height, grey } = stretch(im, { circles: [{ x: 30, y: 20, r: 4 }] });
    expect([width, height]).toEqual([40, 30]);
    const at = (x: number, y: number) => grey[(height - 1 - y) * width + x] as number;
    expect(at(10, 5)).toBeGreaterThan(200);
    expect(at(20, 10)).toBeLessThan(80);
    expect(at(34, 20)).toBe(255);
    expect(at(39, 29)).toBe(0);
  });
});
