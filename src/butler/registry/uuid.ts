/**
 * Dataset ids: UUIDv7 for unique ids (48-bit Unix time in ms, then random bits; RFC 9562)
 * and UUIDv5 (SHA-1 name-based; RFC 9562 / RFC 4122) of a canonical text of the dataset
 * type name and data ID (and run) for deterministic ids, so re-running an ingest gives the
 * same ids.
 */

import { createHash, randomFillSync } from 'node:crypto';
import type { DataId, IdGenerationMode } from '../refs.ts';

/**
 * Namespace of gpu-drp's UUIDv5 dataset ids (fixed forever: changing it changes every
 * deterministic id). A random UUID chosen for this project.
 */
export const DATASET_ID_NAMESPACE = '4b1c2f0e-9a53-4d0b-8e6f-2f7d3c9a1e55';

function format(b: Uint8Array): string {
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function parse(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for a canonical lower-case UUID text. */
export function isUuid(s: unknown): s is string {
  return typeof s === 'string' && UUID_RE.test(s);
}

/** The canonical lower-case form of a UUID text, or null when it is not a UUID. */
export function normalizeUuid(s: string): string | null {
  const t = s.trim().toLowerCase();
  return UUID_RE.test(t) ? t : null;
}

let lastMs = 0;
let seq = 0;
/** Random bytes drawn in blocks (one randomFillSync per 256 ids instead of one per id). */
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

function random16(): Buffer {
  if (poolAt + 16 > pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const b = Buffer.from(pool.subarray(poolAt, poolAt + 16));
  poolAt += 16;
  return b;
}

/**
 * A UUIDv7: 48-bit big-endian Unix time in milliseconds, version 7, 12 bits that count
 * up within one millisecond (so ids made by this process sort by creation), variant 10,
 * 62 random bits.
 */
export function uuid7(nowMs: number = Date.now()): string {
  const b = random16();
  if (nowMs === lastMs) seq = (seq + 1) & 0xfff;
  else {
    lastMs = nowMs;
    seq = b.readUInt16BE(6) & 0x7ff;
  }
  b.writeUIntBE(nowMs, 0, 6);
  b[6] = 0x70 | (seq >> 8);
  b[7] = seq & 0xff;
  b[8] = 0x80 | (b[8]! & 0x3f);
  return format(b);
}

/** A UUIDv5: SHA-1 of namespace bytes + UTF-8 name, version 5, variant 10. */
export function uuid5(name: string, namespace: string = DATASET_ID_NAMESPACE): string {
  const hash = createHash('sha1').update(parse(namespace)).update(name, 'utf8').digest();
  const b = hash.subarray(0, 16);
  b[6] = 0x50 | (b[6]! & 0x0f);
  b[8] = 0x80 | (b[8]! & 0x3f);
  return format(b);
}

/**
 * The canonical text a deterministic id hashes: the dataset type name, the required
 * data-ID values sorted by key (`key=value` with JSON values, so 1 and "1" differ), and for
 * DATAID_TYPE_RUN the run name. Example: `calexp|detector=3;instrument="SimCam";visit=12`.
 */
export function canonicalDatasetName(
  datasetType: string,
  requiredDataId: DataId,
  run: string | null,
): string {
  const keys = Object.keys(requiredDataId).sort();
  const parts = keys.map((k) => `${k}=${JSON.stringify(requiredDataId[k])}`);
  return `${datasetType}|${parts.join(';')}${run === null ? '' : `|run=${JSON.stringify(run)}`}`;
}

/** The id of a new dataset for a generation mode (see {@link IdGenerationMode}). */
export function datasetId(
  mode: IdGenerationMode,
  datasetType: string,
  requiredDataId: DataId,
  run: string,
): string {
  switch (mode) {
    case 'UNIQUE':
      return uuid7();
    case 'DATAID_TYPE':
      return uuid5(canonicalDatasetName(datasetType, requiredDataId, null));
    case 'DATAID_TYPE_RUN':
      return uuid5(canonicalDatasetName(datasetType, requiredDataId, run));
  }
}
