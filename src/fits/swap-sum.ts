/**
 * The hot loops of FITS pixel I/O: native pixels -> big-endian bytes (byte swap, plus the
 * sign-bit flip of the unsigned conventions) fused with the byte-lane sums from which the
 * FITS checksum (DATASUM) is computed, one cache-sized chunk at a time.
 *
 * The kernel is WebAssembly SIMD (16 bytes per instruction; about 9 GB/s on the 2-core
 * development VM, against about 0.7 GB/s for the best plain-JS checksum loop). Its source
 * is the WAT text of {@link swapSumWat}; {@link SWAP_SUM_WASM} is that text assembled by
 * `wabt` (test/fits/swap-sum.test.ts assembles it again and fails if the two differ), so
 * the module compiles synchronously at first use, with no assembler at run time. Where
 * WebAssembly SIMD is missing, or the host is big-endian, a plain-JS path gives the same
 * results.
 *
 * Checksum arithmetic: the DATASUM of a data unit is the 32-bit ones' complement sum of
 * its big-endian words. With S[k] the sum of the bytes at offsets = k (mod 4) of the unit
 * ("lane sums"), the high 16-bit halves add up to 256 S[0] + S[1] and the low halves to
 * 256 S[2] + S[3]; folding their carries end-around gives the checksum. Lane sums of
 * separate chunks simply add (rotated by the chunk's offset mod 4), which is what lets
 * the encoder sum each chunk while it is in cache.
 */

import { endianness } from 'node:os';

/** Largest chunk (bytes) the kernel takes in one call; a multiple of 16 and of 2880 / 4. */
export const CHUNK_BYTES = 1 << 22;

const LITTLE_ENDIAN = endianness() === 'LE';

/** Where the kernel writes its four lane-sum vectors (64 bytes) in its memory. */
const RESULT_AT = 0;
/** Start of the first chunk slot (one 64 KiB page in, so slots are page aligned). */
const SLOT_AT = 65536;

/** Byte permutation (within 16 bytes) of each element size's byte swap. */
const SHUFFLES: Readonly<Record<'swap16' | 'swap32' | 'swap64', string>> = {
  swap16: '1 0 3 2 5 4 7 6 9 8 11 10 13 12 15 14',
  swap32: '3 2 1 0 7 6 5 4 11 10 9 8 15 14 13 12',
  swap64: '7 6 5 4 3 2 1 0 15 14 13 12 11 10 9 8',
};

function kernelFunction(name: string, store: 'none' | 'same' | keyof typeof SHUFFLES): string {
  const stored =
    store === 'none'
      ? ''
      : store === 'same'
        ? '(v128.store (local.get $p) (local.get $v))'
        : `(v128.store (local.get $p) (i8x16.shuffle ${SHUFFLES[store]} (local.get $v) (local.get $v)))`;
  return `
  ;; ${name}(p, n, out, m0, m1): for the n bytes at p (n a multiple of 16), v = bytes XOR the
  ;; mask (m0 in 32-bit lanes 0 and 2, m1 in lanes 1 and 3); ${
    store === 'none'
      ? 'nothing is stored'
      : store === 'same'
        ? 'v is stored back'
        : `v is stored back with bytes permuted (${store})`
  }.
  ;; Lane sums of v (before any permutation) go to out: four i32x4 vectors holding the sums
  ;; of bytes 0, 1, 2 and 3 of every 32-bit word (add the four lanes of each vector).
  (func (export "${name}") (param $p i32) (param $n i32) (param $out i32) (param $m0 i32) (param $m1 i32)
    (local $m v128) (local $ff v128) (local $lo v128) (local $v v128) (local $ae v128) (local $ao v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128) (local $end i32) (local $bend i32)
    (local.set $m (i32x4.replace_lane 3 (i32x4.replace_lane 1 (i32x4.splat (local.get $m0)) (local.get $m1)) (local.get $m1)))
    (local.set $ff (v128.const i32x4 0x00ff00ff 0x00ff00ff 0x00ff00ff 0x00ff00ff))
    (local.set $lo (v128.const i32x4 0x0000ffff 0x0000ffff 0x0000ffff 0x0000ffff))
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $done
      (loop $blocks
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        ;; Blocks of 256 vectors: each 16-bit slot of $ae/$ao then holds at most
        ;; 256 * 255 < 65536, so the two bytes packed in a 32-bit lane never carry into
        ;; each other; the slots are split into the 32-bit totals after each block.
        (local.set $bend (i32.add (local.get $p) (i32.const 4096)))
        (if (i32.gt_u (local.get $bend) (local.get $end)) (then (local.set $bend (local.get $end))))
        (local.set $ae (v128.const i64x2 0 0))
        (local.set $ao (v128.const i64x2 0 0))
        (loop $vec
          (local.set $v (v128.xor (v128.load (local.get $p)) (local.get $m)))
          ${stored}
          (local.set $ae (i32x4.add (local.get $ae) (v128.and (local.get $v) (local.get $ff))))
          (local.set $ao (i32x4.add (local.get $ao) (v128.and (i32x4.shr_u (local.get $v) (i32.const 8)) (local.get $ff))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br_if $vec (i32.lt_u (local.get $p) (local.get $bend))))
        (local.set $t0 (i32x4.add (local.get $t0) (v128.and (local.get $ae) (local.get $lo))))
        (local.set $t2 (i32x4.add (local.get $t2) (i32x4.shr_u (local.get $ae) (i32.const 16))))
        (local.set $t1 (i32x4.add (local.get $t1) (v128.and (local.get $ao) (local.get $lo))))
        (local.set $t3 (i32x4.add (local.get $t3) (i32x4.shr_u (local.get $ao) (i32.const 16))))
        (br $blocks)))
    (v128.store offset=0 (local.get $out) (local.get $t0))
    (v128.store offset=16 (local.get $out) (local.get $t1))
    (v128.store offset=32 (local.get $out) (local.get $t2))
    (v128.store offset=48 (local.get $out) (local.get $t3)))`;
}

/** Byte indices (into the 32 bytes of two vectors) interleaving their low or high halves in units of `unit` bytes. */
function zip(unit: 1 | 2 | 4, high: boolean): string {
  const out: number[] = [];
  const base = high ? 8 : 0;
  for (let i = 0; i < 8; i += unit) {
    for (let k = 0; k < unit; k++) out.push(base + i + k);
    for (let k = 0; k < unit; k++) out.push(16 + base + i + k);
  }
  return out.join(' ');
}

/**
 * GZIP_2 un-shuffle of `size`-byte elements: `n` elements stored as `size` byte planes
 * (plane k holds byte k, most significant first, of every element) at `src`, written as
 * native little-endian elements at `dst`. Whole groups of 16 elements only.
 */
function unshuffleFunction(size: 4 | 8): string {
  // Plane j of the output order (least significant first) is input plane size - 1 - j.
  const loads = Array.from(
    { length: size },
    (_, j) =>
      `(local.set $q${j} (v128.load (i32.add (local.get $src) (i32.add (local.get $i) (i32.mul (local.get $n) (i32.const ${size - 1 - j}))))))`,
  ).join('\n        ');
  const locals = Array.from({ length: size }, (_, j) => `(local $q${j} v128)`).join(' ');
  const store = (k: number, v: string) =>
    `(v128.store offset=${16 * k} (i32.add (local.get $dst) (i32.mul (local.get $i) (i32.const ${size}))) ${v})`;
  const sh = (a: string, b: string, idx: string) => `(i8x16.shuffle ${idx} ${a} ${b})`;
  const get = (x: string) => `(local.get $${x})`;
  let body: string;
  if (size === 4) {
    // Bytes of element e: q0 q1 q2 q3 (q0 least significant).
    const lo01 = sh(get('q0'), get('q1'), zip(1, false));
    const hi01 = sh(get('q0'), get('q1'), zip(1, true));
    const lo23 = sh(get('q2'), get('q3'), zip(1, false));
    const hi23 = sh(get('q2'), get('q3'), zip(1, true));
    body = `(local.set $a ${lo01}) (local.set $b ${hi01}) (local.set $c ${lo23}) (local.set $d ${hi23})
        ${store(0, sh(get('a'), get('c'), zip(2, false)))}
        ${store(1, sh(get('a'), get('c'), zip(2, true)))}
        ${store(2, sh(get('b'), get('d'), zip(2, false)))}
        ${store(3, sh(get('b'), get('d'), zip(2, true)))}`;
  } else {
    // Pairs of planes zipped to 16-bit units, then 32-bit units, then whole elements.
    const pairs = [0, 2, 4, 6]
      .map(
        (j) =>
          `(local.set $z${j}l ${sh(get(`q${j}`), get(`q${j + 1}`), zip(1, false))}) (local.set $z${j}h ${sh(get(`q${j}`), get(`q${j + 1}`), zip(1, true))})`,
      )
      .join('\n        ');
    // y0_*: bytes 0-3 of elements; y4_*: bytes 4-7; suffix = element group (0-3, 4-7, ...).
    const quads = ['l', 'h']
      .map(
        (h) =>
          `(local.set $y0${h}a ${sh(get(`z0${h}`), get(`z2${h}`), zip(2, false))}) (local.set $y0${h}b ${sh(get(`z0${h}`), get(`z2${h}`), zip(2, true))})
        (local.set $y4${h}a ${sh(get(`z4${h}`), get(`z6${h}`), zip(2, false))}) (local.set $y4${h}b ${sh(get(`z4${h}`), get(`z6${h}`), zip(2, true))})`,
      )
      .join('\n        ');
    const groups = ['la', 'lb', 'ha', 'hb'];
    const stores = groups
      .flatMap((g, k) => [
        store(2 * k, sh(get(`y0${g}`), get(`y4${g}`), zip(4, false))),
        store(2 * k + 1, sh(get(`y0${g}`), get(`y4${g}`), zip(4, true))),
      ])
      .join('\n        ');
    body = `${pairs}
        ${quads}
        ${stores}`;
  }
  const extra =
    size === 4
      ? '(local $a v128) (local $b v128) (local $c v128) (local $d v128)'
      : [0, 2, 4, 6].map((j) => `(local $z${j}l v128) (local $z${j}h v128)`).join(' ') +
        ' ' +
        ['0la', '0lb', '0ha', '0hb', '4la', '4lb', '4ha', '4hb']
          .map((y) => `(local $y${y} v128)`)
          .join(' ');
  return `
  ;; unshuffle${size}(src, n, dst): n elements as ${size} byte planes at src -> native elements
  ;; at dst, for the first 16 * floor(n / 16) elements.
  (func (export "unshuffle${size}") (param $src i32) (param $n i32) (param $dst i32)
    (local $i i32) ${locals} ${extra}
    (block $done
      (loop $next
        (br_if $done (i32.gt_u (i32.add (local.get $i) (i32.const 16)) (local.get $n)))
        ${loads}
        ${body}
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $next))))`;
}

/**
 * The WAT source of the kernel module: exports `sum` (lane sums only), `copy` (mask
 * applied, stored back), `swap16`, `swap32`, `swap64` (mask applied, byte-swapped,
 * stored back), and `unshuffle4`, `unshuffle8` (GZIP_2 byte planes to native elements),
 * all with the signature of the comment above each; it imports its memory as `env.mem`.
 * The 32-bit lane totals are exact for calls of at most 2^24 bytes.
 */
export function swapSumWat(): string {
  return `(module
  (memory (import "env" "mem") 1)
${kernelFunction('sum', 'none')}
${kernelFunction('copy', 'same')}
${kernelFunction('swap16', 'swap16')}
${kernelFunction('swap32', 'swap32')}
${kernelFunction('swap64', 'swap64')}
${unshuffleFunction(4)}
${unshuffleFunction(8)}
)
`;
}

/** {@link swapSumWat} assembled by wabt 1.0.39 (`parseWat(..., { simd: true }).toBinary({})`), base64. */
export const SWAP_SUM_WASM =
  'AGFzbQEAAAABDwJgBX9/f39/AGADf39/AAIMAQNlbnYDbWVtAgABAwgHAAAAAAABAQdDBwNzdW0AAARjb3B5AAEGc3dhcDE2AAIGc3dhcDMyAAMGc3dhcDY0AAQKdW5zaHVmZmxlNAAFCnVuc2h1ZmZsZTgABgqXFQeiAgIKewJ/IAP9ESAE/RwBIAT9HAMhBf0M/wD/AP8A/wD/AP8A/wD/ACEG/Qz//wAA//8AAP//AAD//wAAIQcgACABaiEPAkADQCAAIA9PDQEgAEGAIGohECAQIA9LBEAgDyEQC/0MAAAAAAAAAAAAAAAAAAAAACEJ/QwAAAAAAAAAAAAAAAAAAAAAIQoDQCAA/QAEACAF/VEhCCAJIAggBv1O/a4BIQkgCiAIQQj9rQEgBv1O/a4BIQogAEEQaiEAIAAgEEkNAAsgCyAJIAf9Tv2uASELIA0gCUEQ/a0B/a4BIQ0gDCAKIAf9Tv2uASEMIA4gCkEQ/a0B/a4BIQ4MAAsLIAIgC/0LBAAgAiAM/QsEECACIA39CwQgIAIgDv0LBDALqgICCnsCfyAD/REgBP0cASAE/RwDIQX9DP8A/wD/AP8A/wD/AP8A/wAhBv0M//8AAP//AAD//wAA//8AACEHIAAgAWohDwJAA0AgACAPTw0BIABBgCBqIRAgECAPSwRAIA8hEAv9DAAAAAAAAAAAAAAAAAAAAAAhCf0MAAAAAAAAAAAAAAAAAAAAACEKA0AgAP0ABAAgBf1RIQggACAI/QsEACAJIAggBv1O/a4BIQkgCiAIQQj9rQEgBv1O/a4BIQogAEEQaiEAIAAgEEkNAAsgCyAJIAf9Tv2uASELIA0gCUEQ/a0B/a4BIQ0gDCAKIAf9Tv2uASEMIA4gCkEQ/a0B/a4BIQ4MAAsLIAIgC/0LBAAgAiAM/QsEECACIA39CwQgIAIgDv0LBDALvgICCnsCfyAD/REgBP0cASAE/RwDIQX9DP8A/wD/AP8A/wD/AP8A/wAhBv0M//8AAP//AAD//wAA//8AACEHIAAgAWohDwJAA0AgACAPTw0BIABBgCBqIRAgECAPSwRAIA8hEAv9DAAAAAAAAAAAAAAAAAAAAAAhCf0MAAAAAAAAAAAAAAAAAAAAACEKA0AgAP0ABAAgBf1RIQggACAIIAj9DQEAAwIFBAcGCQgLCg0MDw79CwQAIAkgCCAG/U79rgEhCSAKIAhBCP2tASAG/U79rgEhCiAAQRBqIQAgACAQSQ0ACyALIAkgB/1O/a4BIQsgDSAJQRD9rQH9rgEhDSAMIAogB/1O/a4BIQwgDiAKQRD9rQH9rgEhDgwACwsgAiAL/QsEACACIAz9CwQQIAIgDf0LBCAgAiAO/QsEMAu+AgIKewJ/IAP9ESAE/RwBIAT9HAMhBf0M/wD/AP8A/wD/AP8A/wD/ACEG/Qz//wAA//8AAP//AAD//wAAIQcgACABaiEPAkADQCAAIA9PDQEgAEGAIGohECAQIA9LBEAgDyEQC/0MAAAAAAAAAAAAAAAAAAAAACEJ/QwAAAAAAAAAAAAAAAAAAAAAIQoDQCAA/QAEACAF/VEhCCAAIAggCP0NAwIBAAcGBQQLCgkIDw4NDP0LBAAgCSAIIAb9Tv2uASEJIAogCEEI/a0BIAb9Tv2uASEKIABBEGohACAAIBBJDQALIAsgCSAH/U79rgEhCyANIAlBEP2tAf2uASENIAwgCiAH/U79rgEhDCAOIApBEP2tAf2uASEODAALCyACIAv9CwQAIAIgDP0LBBAgAiAN/QsEICACIA79CwQwC74CAgp7An8gA/0RIAT9HAEgBP0cAyEF/Qz/AP8A/wD/AP8A/wD/AP8AIQb9DP//AAD//wAA//8AAP//AAAhByAAIAFqIQ8CQANAIAAgD08NASAAQYAgaiEQIBAgD0sEQCAPIRAL/QwAAAAAAAAAAAAAAAAAAAAAIQn9DAAAAAAAAAAAAAAAAAAAAAAhCgNAIAD9AAQAIAX9USEIIAAgCCAI/Q0HBgUEAwIBAA8ODQwLCgkI/QsEACAJIAggBv1O/a4BIQkgCiAIQQj9rQEgBv1O/a4BIQogAEEQaiEAIAAgEEkNAAsgCyAJIAf9Tv2uASELIA0gCUEQ/a0B/a4BIQ0gDCAKIAf9Tv2uASEMIA4gCkEQ/a0B/a4BIQ4MAAsLIAIgC/0LBAAgAiAM/QsEECACIA39CwQgIAIgDv0LBDALywICAX8IewJAA0AgA0EQaiABSw0BIAAgAyABQQNsamr9AAQAIQQgACADIAFBAmxqav0ABAAhBSAAIAMgAUEBbGpq/QAEACEGIAAgAyABQQBsamr9AAQAIQcgBCAF/Q0AEAERAhIDEwQUBRUGFgcXIQggBCAF/Q0IGAkZChoLGwwcDR0OHg8fIQkgBiAH/Q0AEAERAhIDEwQUBRUGFgcXIQogBiAH/Q0IGAkZChoLGwwcDR0OHg8fIQsgAiADQQRsaiAIIAr9DQABEBECAxITBAUUFQYHFhf9CwQAIAIgA0EEbGogCCAK/Q0ICRgZCgsaGwwNHB0ODx4f/QsEECACIANBBGxqIAkgC/0NAAEQEQIDEhMEBRQVBgcWF/0LBCAgAiADQQRsaiAJIAv9DQgJGBkKCxobDA0cHQ4PHh/9CwQwIANBEGohAwwACwsLtwYCAX8YewJAA0AgA0EQaiABSw0BIAAgAyABQQdsamr9AAQAIQQgACADIAFBBmxqav0ABAAhBSAAIAMgAUEFbGpq/QAEACEGIAAgAyABQQRsamr9AAQAIQcgACADIAFBA2xqav0ABAAhCCAAIAMgAUECbGpq/QAEACEJIAAgAyABQQFsamr9AAQAIQogACADIAFBAGxqav0ABAAhCyAEIAX9DQAQARECEgMTBBQFFQYWBxchDCAEIAX9DQgYCRkKGgsbDBwNHQ4eDx8hDSAGIAf9DQAQARECEgMTBBQFFQYWBxchDiAGIAf9DQgYCRkKGgsbDBwNHQ4eDx8hDyAIIAn9DQAQARECEgMTBBQFFQYWBxchECAIIAn9DQgYCRkKGgsbDBwNHQ4eDx8hESAKIAv9DQAQARECEgMTBBQFFQYWBxchEiAKIAv9DQgYCRkKGgsbDBwNHQ4eDx8hEyAMIA79DQABEBECAxITBAUUFQYHFhchFCAMIA79DQgJGBkKCxobDA0cHQ4PHh8hFSAQIBL9DQABEBECAxITBAUUFQYHFhchGCAQIBL9DQgJGBkKCxobDA0cHQ4PHh8hGSANIA/9DQABEBECAxITBAUUFQYHFhchFiANIA/9DQgJGBkKCxobDA0cHQ4PHh8hFyARIBP9DQABEBECAxITBAUUFQYHFhchGiARIBP9DQgJGBkKCxobDA0cHQ4PHh8hGyACIANBCGxqIBQgGP0NAAECAxAREhMEBQYHFBUWF/0LBAAgAiADQQhsaiAUIBj9DQgJCgsYGRobDA0ODxwdHh/9CwQQIAIgA0EIbGogFSAZ/Q0AAQIDEBESEwQFBgcUFRYX/QsEICACIANBCGxqIBUgGf0NCAkKCxgZGhsMDQ4PHB0eH/0LBDAgAiADQQhsaiAWIBr9DQABAgMQERITBAUGBxQVFhf9CwRAIAIgA0EIbGogFiAa/Q0ICQoLGBkaGwwNDg8cHR4f/QsEUCACIANBCGxqIBcgG/0NAAECAxAREhMEBQYHFBUWF/0LBGAgAiADQQhsaiAXIBv9DQgJCgsYGRobDA0ODxwdHh/9CwRwIANBEGohAwwACwsL';

type KernelFn = (p: number, n: number, out: number, m0: number, m1: number) => void;

interface WasmExports {
  readonly sum: KernelFn;
  readonly copy: KernelFn;
  readonly swap16: KernelFn;
  readonly swap32: KernelFn;
  readonly swap64: KernelFn;
  readonly unshuffle4: (src: number, n: number, dst: number) => void;
  readonly unshuffle8: (src: number, n: number, dst: number) => void;
}

let compiled: WebAssembly.Module | null | undefined;

/** The compiled kernel module, or null where WebAssembly SIMD is unavailable. */
function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      // The global WebAssembly typings in scope declare no constructor arguments for Module.
      const WasmModule = WebAssembly.Module as unknown as new (
        bytes: Uint8Array,
      ) => WebAssembly.Module;
      compiled =
        LITTLE_ENDIAN && typeof WebAssembly === 'object'
          ? new WasmModule(Buffer.from(SWAP_SUM_WASM, 'base64'))
          : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/**
 * Byte-lane sums of a FITS data unit (or any byte stream): `lanes[k]` is the sum of the
 * bytes at stream offsets = k (mod 4). Plain numbers: exact up to 2^45 bytes.
 */
export type Lanes = [number, number, number, number];

/** Fresh zero lane sums. */
export function newLanes(): Lanes {
  return [0, 0, 0, 0];
}

/**
 * The 32-bit ones' complement sum of the big-endian words whose byte-lane sums are
 * `lanes`, added (ones' complement) to `initial`. Returns an unsigned 32-bit value.
 */
export function lanesToSum(lanes: Lanes, initial = 0): number {
  let h = lanes[0] * 256 + lanes[1];
  let l = lanes[2] * 256 + lanes[3];
  // Fold the 16-bit carries back in: low-half carries into the high half, high-half
  // carries end-around into the low half.
  while (h > 0xffff || l > 0xffff) {
    const hc = Math.floor(h / 0x10000);
    const lc = Math.floor(l / 0x10000);
    h = (h % 0x10000) + lc;
    l = (l % 0x10000) + hc;
  }
  let s = h * 0x10000 + l + initial;
  while (s > 0xffffffff) s = (s % 0x100000000) + Math.floor(s / 0x100000000);
  return s;
}

/** Adds the lane sums of `bytes`, which start at stream offset `offset`, in plain JS. */
export function addLanesJs(bytes: Uint8Array, lanes: Lanes, offset: number): void {
  const n = bytes.byteLength;
  const first = (4 - (offset & 3)) & 3;
  let i = 0;
  // Bytes up to the first word boundary of the stream.
  for (; i < first && i < n; i++) lanes[(offset + i) & 3]! += bytes[i]!;
  const words = (n - i) >>> 2;
  if (((bytes.byteOffset + i) & 3) === 0 && words > 0) {
    const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
    let b0 = 0;
    let b1 = 0;
    let b2 = 0;
    let b3 = 0;
    // Chunks of 2^22 words keep each lane sum below 2^31 (a small integer).
    const CHUNK = 1 << 22;
    for (let start = 0; start < words; start += CHUNK) {
      const end = Math.min(words, start + CHUNK);
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = start; k < end; k++) {
        const w = u32[k]!;
        s0 += w & 0xff;
        s1 += (w >>> 8) & 0xff;
        s2 += (w >>> 16) & 0xff;
        s3 += w >>> 24;
      }
      b0 += s0;
      b1 += s1;
      b2 += s2;
      b3 += s3;
    }
    // Memory byte 0 of a word is its low byte on little-endian hosts.
    const m: Lanes = LITTLE_ENDIAN ? [b0, b1, b2, b3] : [b3, b2, b1, b0];
    for (let k = 0; k < 4; k++) lanes[k]! += m[k]!;
    i += words * 4;
  }
  for (; i < n; i++) lanes[(offset + i) & 3]! += bytes[i]!;
}

/** Sign-bit masks (native little-endian words, lanes 0/2 and 1/3) of each element size. */
function flipMasks(size: 1 | 2 | 4 | 8): [number, number] {
  switch (size) {
    case 1:
      return [0x80808080 | 0, 0x80808080 | 0];
    case 2:
      return [0x80008000 | 0, 0x80008000 | 0];
    case 4:
      return [0x80000000 | 0, 0x80000000 | 0];
    case 8:
      return [0, 0x80000000 | 0];
  }
}

/** Output byte k of each 4-byte group comes from input byte PERM[size][k]. */
const PERM: Readonly<Record<1 | 2 | 4 | 8, readonly number[]>> = {
  1: [0, 1, 2, 3],
  2: [1, 0, 3, 2],
  4: [3, 2, 1, 0],
  8: [3, 2, 1, 0],
};

/**
 * One kernel instance: its own WebAssembly memory with two chunk slots, so a caller can
 * fill one slot while the previous chunk is still being written from the other. Get one
 * with {@link acquireKernel} and give it back with {@link releaseKernel}; never share one
 * between two concurrent users (async writers interleave).
 */
export class SwapSumKernel {
  /** Whether this instance runs the WebAssembly kernel (false: the plain-JS path). */
  readonly wasm: boolean;
  private readonly fns: WasmExports | null;
  private readonly bytes: Uint8Array;
  private readonly result: Uint32Array;

  constructor(useWasm = true) {
    const module = useWasm ? kernelModule() : null;
    if (module) {
      const pages = (SLOT_AT + 2 * CHUNK_BYTES) / 65536;
      const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
      const instance = new WebAssembly.Instance(module, { env: { mem: memory } });
      this.fns = instance.exports as unknown as WasmExports;
      // The memory never grows, so these views stay valid.
      this.bytes = new Uint8Array(memory.buffer);
      this.result = new Uint32Array(memory.buffer, RESULT_AT, 16);
    } else {
      this.fns = null;
      this.bytes = new Uint8Array(SLOT_AT + 2 * CHUNK_BYTES);
      this.result = new Uint32Array(16);
    }
    this.wasm = this.fns !== null;
  }

  /** The bytes of chunk slot 0 or 1 (CHUNK_BYTES long). */
  slot(which: 0 | 1): Uint8Array {
    return this.bytes.subarray(SLOT_AT + which * CHUNK_BYTES, SLOT_AT + (which + 1) * CHUNK_BYTES);
  }

  /**
   * Encodes native-order elements of `size` bytes (`src`, at most CHUNK_BYTES, a whole
   * number of elements) as big-endian FITS bytes into slot `which`, flipping the sign bit
   * first when `flip` (the unsigned and signed-byte conventions). Adds the lane sums of
   * the output, which starts at stream offset `offset`, to `lanes`, and returns the
   * output (a view of the slot, valid until the slot is used again). With `store: false`
   * only the lane sums are computed (the slot then holds unencoded input).
   */
  encode(
    src: Uint8Array,
    size: 1 | 2 | 4 | 8,
    flip: boolean,
    which: 0 | 1,
    lanes: Lanes,
    offset: number,
    store = true,
  ): Uint8Array {
    const n = src.byteLength;
    if (n > CHUNK_BYTES || n % size !== 0) {
      throw new RangeError(`internal: chunk of ${n} bytes for ${size}-byte elements`);
    }
    const at = SLOT_AT + which * CHUNK_BYTES;
    const out = this.bytes.subarray(at, at + n);
    out.set(src);
    const [m0, m1] = flip ? flipMasks(size) : [0, 0];
    const body = n & ~15;
    const perm = PERM[size];
    if (this.fns && body > 0) {
      const f = this.fns;
      const kernel = !store
        ? f.sum
        : size === 1
          ? flip
            ? f.copy
            : f.sum
          : size === 2
            ? f.swap16
            : size === 4
              ? f.swap32
              : f.swap64;
      kernel(at, body, RESULT_AT, m0, m1);
      const r = this.result;
      for (let k = 0; k < 4; k++) {
        const j = perm[k]!;
        lanes[(offset + k) & 3]! += r[4 * j]! + r[4 * j + 1]! + r[4 * j + 2]! + r[4 * j + 3]!;
      }
      if (body < n) this.encodeJs(out.subarray(body), size, flip, lanes, offset + body, store);
    } else {
      this.encodeJs(out, size, flip, lanes, offset, store);
    }
    return out;
  }

  /** The plain-JS encode (the tail past the last 16 bytes, or everything without wasm). */
  private encodeJs(
    out: Uint8Array,
    size: 1 | 2 | 4 | 8,
    flip: boolean,
    lanes: Lanes,
    offset: number,
    store: boolean,
  ): void {
    const n = out.byteLength;
    // Native top byte of each element: the last on little-endian hosts.
    const top = LITTLE_ENDIAN ? size - 1 : 0;
    if (store) {
      if (flip) for (let i = top; i < n; i += size) out[i]! ^= 0x80;
      if (LITTLE_ENDIAN && size > 1) {
        const buf = Buffer.from(out.buffer, out.byteOffset, n);
        if (out.byteOffset % size === 0) {
          if (size === 2) buf.swap16();
          else if (size === 4) buf.swap32();
          else buf.swap64();
        } else {
          for (let i = 0; i < n; i += size) buf.subarray(i, i + size).reverse();
        }
      }
      addLanesJs(out, lanes, offset);
      return;
    }
    // Sums only: lane k of the encoded stream takes the byte that would land there.
    for (let i = 0; i < n; i++) {
      const e = i - (i % size);
      const k = i % size;
      const src = LITTLE_ENDIAN && size > 1 ? e + size - 1 - k : i;
      let b = out[src]!;
      if (flip && src - e === top) b ^= 0x80;
      lanes[(offset + i) & 3]! += b;
    }
  }

  /**
   * GZIP_2 un-shuffle: `bytes` holds `n` elements of `size` bytes as byte planes (plane k
   * = byte k, most significant first, of every element); writes the elements in native
   * order into `dest` (n * size bytes). Returns false, doing nothing, when the kernel
   * cannot take it (no WebAssembly, a big-endian host, or more than CHUNK_BYTES).
   */
  unshuffle(bytes: Uint8Array, size: 4 | 8, dest: Uint8Array): boolean {
    const total = bytes.byteLength;
    if (!this.fns || total > CHUNK_BYTES || dest.byteLength !== total || total % size !== 0) {
      return false;
    }
    const n = total / size;
    const src = SLOT_AT;
    const dst = SLOT_AT + CHUNK_BYTES;
    this.bytes.set(bytes, src);
    (size === 4 ? this.fns.unshuffle4 : this.fns.unshuffle8)(src, n, dst);
    const body = n - (n % 16);
    dest.set(this.bytes.subarray(dst, dst + body * size));
    // The last n % 16 elements: byte k of the output element is plane size - 1 - k.
    for (let i = body; i < n; i++) {
      for (let k = 0; k < size; k++) dest[i * size + k] = bytes[(size - 1 - k) * n + i]!;
    }
    return true;
  }

  /** Adds the lane sums of `bytes` (any length; stream offset `offset`) to `lanes`. */
  addLanes(bytes: Uint8Array, lanes: Lanes, offset: number): void {
    if (!this.fns) {
      addLanesJs(bytes, lanes, offset);
      return;
    }
    for (let start = 0; start < bytes.byteLength; start += CHUNK_BYTES) {
      const piece = bytes.subarray(start, Math.min(bytes.byteLength, start + CHUNK_BYTES));
      this.encode(piece, 1, false, 0, lanes, offset + start, false);
    }
  }
}

const idle: SwapSumKernel[] = [];
/** Idle instances kept for reuse (each holds 8 MiB + 64 KiB of memory). */
const MAX_IDLE = 4;

/** A kernel instance for one user (reused when one is idle). */
export function acquireKernel(): SwapSumKernel {
  return idle.pop() ?? new SwapSumKernel();
}

/** Gives an instance from {@link acquireKernel} back for reuse. */
export function releaseKernel(kernel: SwapSumKernel): void {
  if (idle.length < MAX_IDLE && kernel.wasm) idle.push(kernel);
}
