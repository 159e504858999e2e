/**
 * The byte-swap + checksum kernel (src/fits/swap-sum.ts): the embedded binary is the
 * assembled WAT, and both the WebAssembly and the plain-JS paths encode every pixel type
 * as an independent DataView encoder does and sum as a word-by-word ones' complement
 * reference does (tails, stream offsets, sums without encoding).
 */
import { describe, expect, it } from 'vitest';
import wabtInit from 'wabt';
import { onesComplementSum } from '../../src/fits/checksum.ts';
import {
  CHUNK_BYTES,
  lanesToSum,
  newLanes,
  SWAP_SUM_WASM,
  SwapSumKernel,
  swapSumWat,
} from '../../src/fits/swap-sum.ts';

/** Word-by-word 32-bit ones' complement sum of big-endian words (zero-padded tail). */
function referenceSum(bytes: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < bytes.length; i += 4) {
    const w =
      (bytes[i] ?? 0) * 2 ** 24 +
      (bytes[i + 1] ?? 0) * 2 ** 16 +
      (bytes[i + 2] ?? 0) * 2 ** 8 +
      (bytes[i + 3] ?? 0);
    s += w;
    if (s > 0xffffffff) s -= 0xffffffff;
  }
  return s;
}

type Typed =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

/** FITS bytes of an array, element by element with DataView (big-endian), as the standard says. */
function referenceEncode(a: Typed): Uint8Array {
  const out = new Uint8Array(a.byteLength);
  const v = new DataView(out.buffer);
  // Floats by bit pattern: a NaN's payload must survive as it is.
  const bits32 =
    a instanceof Float32Array ? new Uint32Array(a.buffer, a.byteOffset, a.length) : null;
  const bits64 =
    a instanceof Float64Array ? new BigUint64Array(a.buffer, a.byteOffset, a.length) : null;
  for (let i = 0; i < a.length; i++) {
    if (a instanceof Uint8Array) v.setUint8(i, a[i]!);
    else if (a instanceof Int8Array) v.setUint8(i, a[i]! + 128);
    else if (a instanceof Int16Array) v.setInt16(2 * i, a[i]!);
    else if (a instanceof Uint16Array) v.setInt16(2 * i, a[i]! - 32768);
    else if (a instanceof Int32Array) v.setInt32(4 * i, a[i]!);
    else if (a instanceof Uint32Array) v.setInt32(4 * i, a[i]! - 2 ** 31);
    else if (a instanceof BigInt64Array) v.setBigInt64(8 * i, a[i]!);
    else if (a instanceof BigUint64Array) v.setBigInt64(8 * i, a[i]! - 2n ** 63n);
    else if (bits32) v.setUint32(4 * i, bits32[i]!);
    else if (bits64) v.setBigUint64(8 * i, bits64[i]!);
  }
  return out;
}

let seed = 20261127;
function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    out[i] = seed >>> 24;
  }
  return out;
}

const TYPES: [string, (b: ArrayBuffer) => Typed, 1 | 2 | 4 | 8, boolean][] = [
  ['Uint8Array', (b) => new Uint8Array(b), 1, false],
  ['Int8Array', (b) => new Int8Array(b), 1, true],
  ['Int16Array', (b) => new Int16Array(b), 2, false],
  ['Uint16Array', (b) => new Uint16Array(b), 2, true],
  ['Int32Array', (b) => new Int32Array(b), 4, false],
  ['Uint32Array', (b) => new Uint32Array(b), 4, true],
  ['BigInt64Array', (b) => new BigInt64Array(b), 8, false],
  ['BigUint64Array', (b) => new BigUint64Array(b), 8, true],
  ['Float32Array', (b) => new Float32Array(b), 4, false],
  ['Float64Array', (b) => new Float64Array(b), 8, false],
];

describe('swap-sum kernel', () => {
  it('the embedded binary is the WAT source assembled by wabt', async () => {
    const wabt = await wabtInit();
    const parsed = wabt.parseWat('swap-sum.wat', swapSumWat(), { simd: true });
    try {
      parsed.validate();
      const assembled = Buffer.from(parsed.toBinary({}).buffer).toString('base64');
      // On a mismatch, paste `assembled` into SWAP_SUM_WASM.
      expect(SWAP_SUM_WASM).toBe(assembled);
    } finally {
      parsed.destroy();
    }
  });

  it('runs as WebAssembly on this Node (no silent fallback to the slow path)', () => {
    expect(new SwapSumKernel().wasm).toBe(true);
    expect(new SwapSumKernel(false).wasm).toBe(false);
  });

  for (const useWasm of [true, false]) {
    const kernel = new SwapSumKernel(useWasm);
    describe(useWasm ? 'WebAssembly path' : 'plain-JS path', () => {
      for (const [name, make, size, flip] of TYPES) {
        it(`${name}: bytes and checksum as the references, any length and offset`, () => {
          const elements = [1, 2, 3, 7, 64, 1001, 65_539, CHUNK_BYTES / size];
          for (const count of elements) {
            const raw = randomBytes(count * size);
            const before = raw.slice();
            const data = make(raw.buffer as ArrayBuffer);
            const want = referenceEncode(data);
            const wantSum = referenceSum(want);
            for (const offset of [0, 4, 8]) {
              const lanes = newLanes();
              const out = kernel.encode(raw, size, flip, 1, lanes, offset);
              expect(Buffer.from(out).equals(Buffer.from(want)), `${name} x${count}`).toBe(true);
              expect(lanesToSum(lanes)).toBe(wantSum);
              // Sums only (no encoding) give the same checksum and leave `raw` alone.
              const sumOnly = newLanes();
              kernel.encode(raw, size, flip, 0, sumOnly, offset, false);
              expect(lanesToSum(sumOnly)).toBe(wantSum);
            }
            // The input is never modified.
            expect(Buffer.from(raw).equals(Buffer.from(before))).toBe(true);
          }
        });
      }

      it('lane sums of pieces at any stream offset add up to the sum of the whole', () => {
        const bytes = randomBytes(3 * CHUNK_BYTES + 13);
        const whole = referenceSum(bytes);
        const lanes = newLanes();
        const cuts = [0, 1, 6, 4097, CHUNK_BYTES + 3, 2 * CHUNK_BYTES + 5, bytes.length];
        for (let i = 0; i + 1 < cuts.length; i++) {
          kernel.addLanes(bytes.subarray(cuts[i]!, cuts[i + 1]!), lanes, cuts[i]!);
        }
        expect(lanesToSum(lanes)).toBe(whole);
        expect(lanesToSum(lanes, 0x12345678)).toBe(referenceSum(concatWord(bytes, 0x12345678)));
      });
    });
  }

  it('GZIP_2 un-shuffle: byte planes to native elements, any count; too big is declined', () => {
    const kernel = new SwapSumKernel();
    for (const size of [4, 8] as const) {
      for (const n of [1, 15, 16, 17, 33, 4096, 65_537]) {
        const planes = randomBytes(n * size);
        // Reference: element i's byte of significance k (0 = most) is planes[k * n + i];
        // DataView assembles the big-endian element, then reads it back natively.
        const want = new Uint8Array(n * size);
        const be = new DataView(new ArrayBuffer(size));
        for (let i = 0; i < n; i++) {
          for (let k = 0; k < size; k++) be.setUint8(k, planes[k * n + i]!);
          if (size === 4) new DataView(want.buffer).setUint32(4 * i, be.getUint32(0), true);
          else new DataView(want.buffer).setBigUint64(8 * i, be.getBigUint64(0), true);
        }
        const got = new Uint8Array(n * size);
        expect(kernel.unshuffle(planes, size, got)).toBe(true);
        expect(Buffer.from(got).equals(Buffer.from(want)), `size ${size} n ${n}`).toBe(true);
      }
    }
    const big = new Uint8Array(CHUNK_BYTES + 8);
    expect(kernel.unshuffle(big, 8, new Uint8Array(big.length))).toBe(false);
    expect(new SwapSumKernel(false).unshuffle(new Uint8Array(64), 4, new Uint8Array(64))).toBe(
      false,
    );
  });

  it('onesComplementSum: kernel-sized, unaligned and odd-length inputs', () => {
    const bytes = randomBytes(300_001);
    for (const [a, b] of [
      [0, 300_001],
      [1, 300_000],
      [3, 200_003],
      [0, 65_536],
      [2, 65_541],
    ] as const) {
      expect(onesComplementSum(bytes.subarray(a, b))).toBe(referenceSum(bytes.subarray(a, b)));
    }
    // All-ones words stay -0 (0xffffffff), as the convention's final CHECKSUM sum.
    expect(onesComplementSum(new Uint8Array(70_000).fill(0xff))).toBe(0xffffffff);
  });
});

/** `bytes` (zero-padded to whole words) followed by the big-endian word `w`. */
function concatWord(bytes: Uint8Array, w: number): Uint8Array {
  const n = Math.ceil(bytes.length / 4) * 4;
  const out = new Uint8Array(n + 4);
  out.set(bytes);
  new DataView(out.buffer).setUint32(n, w);
  return out;
}
