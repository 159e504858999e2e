/**
 * The streaming writer and the file reader: `fitsToBytes`, `fitsChunks` and `writeFits`
 * produce the same bytes (pixels encoded chunk by chunk, DATASUM summed on the way),
 * checksums match a word-by-word reference, `readFits(path)` (headers first, each data
 * unit read into its own memory) agrees with `parseFits(bytes)`, including its errors,
 * and `sharedMemory` puts image pixels on SharedArrayBuffer.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Header } from '../../src/fits/header.ts';
import {
  type FitsFile,
  fitsChunks,
  fitsToBytes,
  type HduInput,
  parseFits,
  readFits,
  writeFits,
} from '../../src/fits/index.ts';
import { CHUNK_BYTES } from '../../src/fits/swap-sum.ts';

const dir = await mkdtemp(join(tmpdir(), 'fits-streaming-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

let seed = 77;
function next(): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return seed;
}

/** Word-by-word 32-bit ones' complement sum of big-endian words. */
function referenceSum(bytes: Uint8Array): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let s = 0;
  for (let i = 0; i + 4 <= bytes.length; i += 4) {
    s += v.getUint32(i);
    if (s > 0xffffffff) s -= 0xffffffff;
  }
  return s;
}

/** A file with every kind of data unit; the float64 plane spans two encoder chunks. */
function mixedHdus(): HduInput[] {
  const w = 1100;
  const h = 500; // 1100 x 500 float64 = 4.4 MB: more than one encoder chunk
  const f64 = new Float64Array(w * h);
  for (let i = 0; i < f64.length; i++) f64[i] = (next() / 2 ** 32 - 0.5) * 1e6;
  f64[3] = Number.NaN;
  const u16 = new Uint16Array(1031 * 517); // odd sizes: a tail after the last 16 bytes
  for (let i = 0; i < u16.length; i++) u16[i] = next() & 0xffff;
  const i8 = new Int8Array(333);
  for (let i = 0; i < i8.length; i++) i8[i] = (next() & 0xff) - 128;
  const f32 = new Float32Array(64 * 48);
  for (let i = 0; i < f32.length; i++) f32[i] = next() / 1e5;
  const meta = new Header();
  meta.set('OBSERVER', 'streaming test');
  return [
    { header: meta, data: null },
    { name: 'F64', data: f64, shape: [w, h] },
    { name: 'U16', data: u16, shape: [1031, 517], blank: 7 },
    { name: 'I8', data: i8, shape: [333] },
    { name: 'GZ', data: f32, shape: [64, 48], compression: { type: 'GZIP_2' } },
    {
      type: 'bintable',
      name: 'CAT',
      columns: [
        { name: 'id', data: Int32Array.from([1, 2, 3]) },
        { name: 'name', data: ['a', 'bb', 'ccc'] },
      ],
    },
  ];
}

/** Concatenates chunks, copying each as it comes (chunk views are reused later). */
function concat(chunks: Iterable<Uint8Array>): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const c of chunks) parts.push(c.slice());
  const out = new Uint8Array(parts.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of parts) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Offsets of every HDU's header and (padded) data unit, from the header cards. */
function dataUnits(
  bytes: Uint8Array,
): { start: number; end: number; headerStart: number; header: Header }[] {
  const out: { start: number; end: number; headerStart: number; header: Header }[] = [];
  let at = 0;
  while (at < bytes.length) {
    const cards: string[] = [];
    let end = at;
    for (;;) {
      const card = Buffer.from(bytes.subarray(end, end + 80)).toString('latin1');
      end += 80;
      if (card.startsWith('END     ')) break;
      cards.push(card);
    }
    const h = Header.fromCardImages(cards);
    const dataStart = Math.ceil(end / 2880) * 2880;
    const naxis = Number(h.get('NAXIS'));
    let n = naxis === 0 ? 0 : Math.abs(Number(h.get('BITPIX'))) / 8;
    for (let i = 1; i <= naxis; i++) n *= Number(h.get(`NAXIS${i}`));
    n += Number(h.get('PCOUNT') ?? 0);
    const padded = Math.ceil(n / 2880) * 2880;
    out.push({ headerStart: at, start: dataStart, end: dataStart + padded, header: h });
    at = dataStart + padded;
  }
  return out;
}

function expectSameHdus(a: FitsFile, b: FitsFile): void {
  expect(a.hdus.length).toBe(b.hdus.length);
  a.hdus.forEach((x, i) => {
    const y = b.hdus[i]!;
    expect(x.type).toBe(y.type);
    expect([...x.header].map((c) => JSON.stringify(c))).toEqual(
      [...y.header].map((c) => JSON.stringify(c)),
    );
    if (x.type === 'image' && y.type === 'image') {
      expect(x.shape).toEqual(y.shape);
      expect(x.blank).toEqual(y.blank);
      if (x.data === null) expect(y.data).toBeNull();
      else {
        expect(x.data.constructor).toBe(y.data!.constructor);
        const bx = Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength);
        const by = Buffer.from(y.data!.buffer, y.data!.byteOffset, y.data!.byteLength);
        expect(bx.equals(by)).toBe(true);
      }
    }
    if (x.type === 'bintable' && y.type === 'bintable') {
      expect(x.columns.map((c) => c.data)).toEqual(y.columns.map((c) => c.data));
    }
  });
}

describe('writer: one file, three ways', () => {
  for (const checksum of [true, false]) {
    it(`fitsToBytes, fitsChunks and writeFits give the same bytes (checksum ${checksum})`, async () => {
      const hdus = mixedHdus();
      const bytes = fitsToBytes(hdus, { checksum });
      const chunks = fitsChunks(hdus, { checksum });
      expect(chunks.byteLength).toBe(bytes.length);
      const streamed = concat(chunks);
      expect(Buffer.from(streamed).equals(Buffer.from(bytes))).toBe(true);
      const path = join(dir, `three-ways-${checksum}.fits`);
      await writeFits(path, hdus, { checksum });
      expect((await readFile(path)).equals(Buffer.from(bytes))).toBe(true);
      expect(bytes.length % 2880).toBe(0);
    });
  }

  it('DATASUM of every HDU is the word-by-word sum of its data unit; CHECKSUM makes it -0', () => {
    const bytes = fitsToBytes(mixedHdus());
    const units = dataUnits(bytes);
    expect(units).toHaveLength(6);
    expect(() => parseFits(bytes, { verifyChecksum: true })).not.toThrow();
    units.forEach((u, i) => {
      const datasum = referenceSum(bytes.subarray(u.start, u.end));
      expect(u.header.get('DATASUM'), `HDU ${i}`).toBe(String(datasum));
      const whole = referenceSum(bytes.subarray(u.headerStart, u.end));
      expect(whole, `HDU ${i}`).toBe(0xffffffff);
    });
  });

  it('a chunk stays valid while the next one is encoded (double buffering)', () => {
    const hdus = mixedHdus();
    const bytes = fitsToBytes(hdus);
    let at = 0;
    let previous: { view: Uint8Array; at: number } | null = null;
    let count = 0;
    for (const chunk of fitsChunks(hdus)) {
      if (previous) {
        // The previous chunk still holds its bytes after the iterator produced this one.
        const want = bytes.subarray(previous.at, previous.at + previous.view.length);
        expect(Buffer.from(previous.view).equals(Buffer.from(want))).toBe(true);
      }
      expect(chunk.length).toBeLessThanOrEqual(CHUNK_BYTES);
      previous = { view: chunk, at };
      at += chunk.length;
      count++;
    }
    expect(at).toBe(bytes.length);
    expect(count).toBeGreaterThan(4);
  });

  it('concurrent writeFits calls do not share encoding memory', async () => {
    const a = mixedHdus();
    const b = mixedHdus();
    const paths = [join(dir, 'concurrent-a.fits'), join(dir, 'concurrent-b.fits')];
    await Promise.all([writeFits(paths[0]!, a), writeFits(paths[1]!, b)]);
    expect((await readFile(paths[0]!)).equals(Buffer.from(fitsToBytes(a)))).toBe(true);
    expect((await readFile(paths[1]!)).equals(Buffer.from(fitsToBytes(b)))).toBe(true);
  });

  it('a bad input fails before any file exists; nothing is left behind', async () => {
    const path = join(dir, 'bad.fits');
    await expect(
      writeFits(path, [{ data: new Float32Array(5), shape: [2, 2] }]),
    ).rejects.toMatchObject({ code: 'FITS_BAD_ARGUMENT' });
    expect(() => fitsChunks([{ data: new Float32Array(5), shape: [2, 2] }])).toThrow(
      expect.objectContaining({ code: 'FITS_BAD_ARGUMENT' }),
    );
    await expect(readFile(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('reader: from a path as from bytes', () => {
  it('readFits(path) returns what parseFits(bytes) returns, checksums verified', async () => {
    const bytes = fitsToBytes(mixedHdus());
    const path = join(dir, 'mixed.fits');
    await writeFile(path, bytes);
    const fromPath = await readFits(path, { verifyChecksum: true });
    const fromBytes = parseFits(bytes, { verifyChecksum: true });
    expectSameHdus(fromPath, fromBytes);
    expect(fromPath.file).toBe(path);
  });

  it('sharedMemory: image pixels (decompressed ones too) on SharedArrayBuffer', async () => {
    const bytes = fitsToBytes(mixedHdus());
    const path = join(dir, 'shared.fits');
    await writeFile(path, bytes);
    for (const f of [
      await readFits(path, { sharedMemory: true }),
      parseFits(bytes, { sharedMemory: true }),
    ]) {
      expectSameHdus(f, parseFits(bytes));
      for (const name of ['F64', 'U16', 'I8', 'GZ']) {
        const d = f.image(name).data!;
        expect(d.buffer, name).toBeInstanceOf(SharedArrayBuffer);
        // One buffer per plane, starting at its first pixel.
        expect(d.byteOffset).toBe(0);
        expect(d.buffer.byteLength).toBe(d.byteLength);
      }
    }
    for (const f of [await readFits(path), parseFits(bytes)]) {
      expect(f.image('F64').data!.buffer).not.toBeInstanceOf(SharedArrayBuffer);
      expect(f.image('GZ').data!.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    }
  });

  it('corruption found through a path: data, padding and header', async () => {
    const bytes = fitsToBytes(mixedHdus());
    const units = dataUnits(bytes);
    const f64 = units[1]!;
    const cases: [string, number, string][] = [
      ['data', f64.start + 12345, 'DATASUM'],
      ['padding', f64.end - 1, 'DATASUM'],
      ['header', f64.headerStart + 80 * 1 + 40, 'CHECKSUM'], // inside the BITPIX comment
    ];
    for (const [what, at, key] of cases) {
      const bad = bytes.slice();
      bad[at]! ^= 0x10;
      const path = join(dir, `corrupt-${what}.fits`);
      await writeFile(path, bad);
      await expect(readFits(path, { verifyChecksum: true }), what).rejects.toMatchObject({
        code: 'FITS_CHECKSUM',
        key,
        file: path,
        hdu: '1 (F64)',
      });
      // Without verification it reads.
      expect((await readFits(path)).hdus).toHaveLength(6);
    }
  });

  it('truncated, padded and trailing-garbage files: the same outcome as from bytes', async () => {
    const bytes = fitsToBytes(mixedHdus());
    const units = dataUnits(bytes);
    const variants: [string, Uint8Array][] = [
      ['cut inside data', bytes.subarray(0, units[2]!.start + 1000)],
      ['cut inside a header', bytes.subarray(0, units[3]!.headerStart + 100)],
      ['cut after a header block', bytes.subarray(0, units[3]!.headerStart + 2880)],
      ['no padding after the last HDU', bytes.subarray(0, bytes.length - 1)],
      ['zero padding after the end', concat([bytes, new Uint8Array(5000)])],
      ['garbage after the end', concat([bytes, new TextEncoder().encode('garbage!')])],
      ['empty', new Uint8Array(0)],
      ['not FITS', new TextEncoder().encode('hello world'.repeat(400))],
    ];
    for (const [what, variant] of variants) {
      const path = join(dir, `variant.fits`);
      await writeFile(path, variant);
      let fromBytes: unknown;
      try {
        fromBytes = parseFits(variant, { file: path }).hdus.length;
      } catch (e) {
        fromBytes = e;
      }
      let fromPath: unknown;
      try {
        fromPath = (await readFits(path)).hdus.length;
      } catch (e) {
        fromPath = e;
      }
      if (typeof fromBytes === 'number') expect(fromPath, what).toBe(fromBytes);
      else {
        const e = fromBytes as { code: string; message: string; hdu: unknown; key: unknown };
        expect(fromPath, what).toMatchObject({
          code: e.code,
          message: e.message,
          hdu: e.hdu,
          key: e.key,
        });
      }
    }
  });

  it('I/O errors are FITS_IO naming the path', async () => {
    await expect(readFits(join(dir, 'missing.fits'))).rejects.toMatchObject({
      code: 'FITS_IO',
      file: join(dir, 'missing.fits'),
    });
    await expect(readFits(dir)).rejects.toMatchObject({ code: 'FITS_IO', file: dir });
  });
});
