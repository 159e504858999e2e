/**
 * File checksums: BLAKE2b-512 (LSST's choice), written as `blake2b512:<128 hex digits>`.
 * Verification uses the algorithm named in the recorded string (`sha256:<hex>` works as
 * well); a bare hex string is read as BLAKE2b-512.
 */

import { createHash, getHashes } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** The hash algorithm of new checksums (Node/OpenSSL name). */
export const CHECKSUM_ALGORITHM = 'blake2b512';

/** Checksum string of `bytes` (`<algorithm>:<hex>`). */
export function checksumOf(bytes: Uint8Array, algorithm = CHECKSUM_ALGORITHM): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/** Checksum string of a local file, streamed. */
export async function checksumOfFile(
  path: string,
  algorithm = CHECKSUM_ALGORITHM,
): Promise<string> {
  const h = createHash(algorithm);
  for await (const chunk of createReadStream(path, { highWaterMark: 4 << 20 })) {
    h.update(chunk as Buffer);
  }
  return `${algorithm}:${h.digest('hex')}`;
}

/**
 * The algorithm and lower-case hex digest of a recorded checksum; null when the
 * algorithm is not one this Node can compute.
 */
export function parseChecksum(recorded: string): { algorithm: string; hex: string } | null {
  const t = recorded.trim();
  const colon = t.indexOf(':');
  const algorithm = colon < 0 ? CHECKSUM_ALGORITHM : t.slice(0, colon).toLowerCase();
  const hex = (colon < 0 ? t : t.slice(colon + 1)).toLowerCase();
  if (!getHashes().includes(algorithm)) return null;
  return { algorithm, hex };
}
