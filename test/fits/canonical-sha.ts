import { createHash } from 'node:crypto';
import type { ImageArray } from '../../src/fits/image.ts';

/** sha256 of the little-endian bytes with NaNs canonicalised, as the Python side does. */
export function canonicalSha(data: ImageArray): string {
  let bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof Float32Array || data instanceof Float64Array) {
    const copy = data.slice();
    if (copy instanceof Float32Array) {
      const u = new Uint32Array(copy.buffer);
      copy.forEach((v, i) => {
        if (Number.isNaN(v)) u[i] = 0x7fc00000;
      });
    } else {
      const u = new BigUint64Array(copy.buffer);
      copy.forEach((v, i) => {
        if (Number.isNaN(v)) u[i] = 0x7ff8000000000000n;
      });
    }
    bytes = new Uint8Array(copy.buffer);
  }
  return createHash('sha256').update(bytes).digest('hex');
}
