/**
 * Pixel storage. Planes live in SharedArrayBuffer by default so the CPU backend's
 * worker threads read and write them in place, with no copy per tile.
 */

/** Allocate `n` float32 pixels (zeroed) on shared memory. */
export function allocFloat32(n: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(checkedBytes(n, 4)));
}

/** Allocate `n` int32 pixels (zeroed) on shared memory. */
export function allocInt32(n: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(checkedBytes(n, 4)));
}

/** True when the typed array is backed by a SharedArrayBuffer. */
export function isShared(a: ArrayBufferView): boolean {
  return typeof SharedArrayBuffer !== 'undefined' && a.buffer instanceof SharedArrayBuffer;
}

/** The array itself when shared, else a shared copy of it. */
export function toSharedFloat32(a: Float32Array): Float32Array {
  if (isShared(a)) return a;
  const out = allocFloat32(a.length);
  out.set(a);
  return out;
}

/** The array itself when shared, else a shared copy of it. */
export function toSharedInt32(a: Int32Array): Int32Array {
  if (isShared(a)) return a;
  const out = allocInt32(a.length);
  out.set(a);
  return out;
}

function checkedBytes(n: number, bytesPer: number): number {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`pixel count must be a non-negative integer, got ${n}`);
  }
  return n * bytesPer;
}
