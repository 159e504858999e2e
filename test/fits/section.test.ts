import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImageArray } from '../../src/fits/image.ts';
import { readFits, readImageSection, writeFits } from '../../src/fits/index.ts';

const dir = await mkdtemp(join(tmpdir(), 'fits-section-'));
const path = join(dir, 'sections.fits');
const nx = 100;
const ny = 80;
const f32 = new Float32Array(nx * ny).map((_, i) => Math.sin(i) * 100);
f32[7 + nx * 9] = Number.NaN;
const u16 = new Uint16Array(nx * ny).map((_, i) => (i * 37) % 65536);
const i32 = new Int32Array(nx * ny).map((_, i) => i * 1000 - 5_000_000);

beforeAll(async () => {
  await writeFits(path, [
    { data: null },
    { name: 'PLAIN', data: f32, shape: [nx, ny] },
    { name: 'UNSIGNED', data: u16, shape: [nx, ny], blank: 65535 },
    { name: 'GZ', data: f32, shape: [nx, ny], compression: { type: 'GZIP_2', tile: [16, 16] } },
    { name: 'RICE', data: i32, shape: [nx, ny], compression: { type: 'RICE_1', tile: [nx, 1] } },
    { name: 'RICEU', data: u16, shape: [nx, ny], compression: { type: 'RICE_1', tile: [32, 10] } },
  ]);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

function cut(
  data: ImageArray,
  width: number,
  x0: number,
  y0: number,
  w: number,
  h: number,
): number[] {
  const out: number[] = [];
  for (let y = y0; y < y0 + h; y++)
    for (let x = x0; x < x0 + w; x++) out.push(Number(data[x + width * y]));
  return out;
}

const boxes = [
  { x0: 0, y0: 0, width: nx, height: ny },
  { x0: 5, y0: 7, width: 13, height: 11 },
  { x0: 15, y0: 15, width: 2, height: 2 },
  { x0: 0, y0: 40, width: nx, height: 3 },
  { x0: 99, y0: 79, width: 1, height: 1 },
  { x0: 31, y0: 9, width: 50, height: 60 },
];

describe('readImageSection', () => {
  for (const name of ['PLAIN', 'UNSIGNED', 'GZ', 'RICE', 'RICEU']) {
    it(`${name}: every box equals the same box of a full read`, async () => {
      const full = (await readFits(path)).image(name);
      for (const box of boxes) {
        const s = await readImageSection(path, name, box);
        expect(s.shape).toEqual([box.width, box.height]);
        expect(s.data.constructor).toBe(full.data!.constructor);
        expect(Array.from(s.data, Number)).toEqual(
          cut(full.data!, nx, box.x0, box.y0, box.width, box.height),
        );
        expect(s.header.get('NAXIS1')).toBe(nx);
      }
    });
  }

  it('exposes BLANK and finds HDUs by index', async () => {
    const s = await readImageSection(path, 2, { x0: 1, y0: 1, width: 3, height: 3 });
    expect(s.blank).toBe(65535);
    expect(s.data).toBeInstanceOf(Uint16Array);
    expect(s.data[0]).toBe(((1 + nx) * 37) % 65536);
  });

  it('reads sections of CFITSIO-compressed files with 2-D tiles', async () => {
    const file = 'fixtures/fits/ref/fpack-rice-i32-tiles.fits';
    const full = (await readFits(file)).image(1);
    const s = await readImageSection(file, 1, { x0: 10, y0: 12, width: 30, height: 20 });
    expect(Array.from(s.data, Number)).toEqual(cut(full.data!, full.shape[0]!, 10, 12, 30, 20));
  });

  it('refuses boxes outside the image and non-image HDUs', async () => {
    await expect(
      readImageSection(path, 'PLAIN', { x0: 90, y0: 0, width: 20, height: 1 }),
    ).rejects.toMatchObject({
      code: 'FITS_BAD_ARGUMENT',
      file: path,
    });
    await expect(
      readImageSection(path, 'GZ', { x0: 0, y0: 0, width: 0, height: 1 }),
    ).rejects.toMatchObject({
      code: 'FITS_BAD_ARGUMENT',
    });
    await expect(
      readImageSection(path, 0, { x0: 0, y0: 0, width: 1, height: 1 }),
    ).rejects.toMatchObject({
      code: 'FITS_BAD_ARGUMENT',
    });
    await expect(
      readImageSection(path, 'NOPE', { x0: 0, y0: 0, width: 1, height: 1 }),
    ).rejects.toMatchObject({
      code: 'FITS_HDU_NOT_FOUND',
    });
    await expect(
      readImageSection(join(dir, 'missing.fits'), 0, { x0: 0, y0: 0, width: 1, height: 1 }),
    ).rejects.toMatchObject({
      code: 'FITS_IO',
    });
  });
});
