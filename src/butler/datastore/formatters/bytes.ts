/**
 * Bytes passthrough: a Uint8Array stored as is. Used for the `Bytes` storage class and
 * for any storage class without a formatter of its own.
 */

import { readFile } from 'node:fs/promises';
import type { Formatter } from './types.ts';

/** Formatter that stores a Uint8Array unchanged (extension `.bin`). */
export const bytesFormatter: Formatter<Uint8Array> = {
  name: 'BytesFormatter',
  extension: '.bin',
  parameters: [],
  recipes: [],
  accepted: 'a Uint8Array',
  accepts: (obj: unknown): obj is Uint8Array => obj instanceof Uint8Array,
  toBytes: (obj: Uint8Array): Uint8Array => obj,
  fromBytes: async (bytes: Uint8Array): Promise<Uint8Array> => bytes,
  fromFile: async (path: string): Promise<Uint8Array> => {
    const b = await readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength); // a view, not a copy
  },
};
