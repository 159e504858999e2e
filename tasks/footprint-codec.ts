/**
 * FootprintSet (src/ops/detect) <-> plain structured data, the `deepCoadd_det` dataset
 * (storage class StructuredDataDict, JSON through the datastore). Every array is kept
 * whole, so measurement on the decoded set gives the same numbers as on the original:
 * integers are exact in JSON, and float32 peak values survive as their shortest decimal
 * form. Non-finite peak values are written as null and read back as NaN.
 */
import type { StructuredData } from '../src/butler/datastore/formatters/index.ts';
import type { FootprintSet } from '../src/ops/detect/footprints.ts';
import { CoaddTaskError } from './errors.ts';

/** Format tag of the encoded document. */
export const FOOTPRINT_FORMAT = 'gpu_drp.FootprintSet/1';

const INT_ARRAYS = [
  'spanY',
  'spanX0',
  'spanX1',
  'spanStart',
  'area',
  'bboxX0',
  'bboxY0',
  'bboxX1',
  'bboxY1',
  'peakStart',
  'peakX',
  'peakY',
] as const;
const FLOAT_ARRAYS = ['peakValue', 'peakSignificance'] as const;

/** The encoded footprint set (plus free `extra` facts, e.g. the threshold used). */
export function encodeFootprints(
  fp: FootprintSet,
  extra: Readonly<Record<string, StructuredData>> = {},
): Record<string, StructuredData> {
  const out: Record<string, StructuredData> = {
    ...extra,
    format: FOOTPRINT_FORMAT,
    polarity: fp.polarity,
    width: fp.width,
    height: fp.height,
    x0: fp.xy0.x,
    y0: fp.xy0.y,
    count: fp.count,
    peaksDropped: fp.peaksDropped,
    peaksTruncated: Array.from(fp.peaksTruncated),
  };
  for (const k of INT_ARRAYS) out[k] = Array.from(fp[k]);
  for (const k of FLOAT_ARRAYS) out[k] = Array.from(fp[k], (v) => (Number.isFinite(v) ? v : null));
  return out;
}

function bad(why: string): CoaddTaskError {
  return new CoaddTaskError(
    'TASK_BAD_DETECTIONS',
    `the detection dataset is unusable: ${why}; rerun detectCoaddSources`,
  );
}

/** Decodes {@link encodeFootprints}'s output. @throws CoaddTaskError TASK_BAD_DETECTIONS */
export function decodeFootprints(doc: unknown): FootprintSet {
  if (typeof doc !== 'object' || doc === null) throw bad('not an object');
  const d = doc as Record<string, unknown>;
  if (d.format !== FOOTPRINT_FORMAT)
    throw bad(`format is ${String(d.format)}, not ${FOOTPRINT_FORMAT}`);
  const num = (k: string): number => {
    const v = d[k];
    if (typeof v !== 'number' || !Number.isInteger(v)) throw bad(`${k} is not an integer`);
    return v;
  };
  const list = (k: string): unknown[] => {
    const v = d[k];
    if (!Array.isArray(v)) throw bad(`${k} is not a list`);
    return v;
  };
  const ints = (k: string) => Int32Array.from(list(k), (v) => Number(v));
  const floats = (k: string) =>
    Float32Array.from(list(k), (v) => (v === null ? Number.NaN : Number(v)));
  const polarity = d.polarity;
  if (polarity !== 'positive' && polarity !== 'negative') throw bad('bad polarity');
  const fp: FootprintSet = {
    polarity,
    width: num('width'),
    height: num('height'),
    xy0: { x: num('x0'), y: num('y0') },
    count: num('count'),
    spanY: ints('spanY'),
    spanX0: ints('spanX0'),
    spanX1: ints('spanX1'),
    spanStart: ints('spanStart'),
    area: ints('area'),
    bboxX0: ints('bboxX0'),
    bboxY0: ints('bboxY0'),
    bboxX1: ints('bboxX1'),
    bboxY1: ints('bboxY1'),
    peakStart: ints('peakStart'),
    peaksTruncated: Uint8Array.from(list('peaksTruncated'), (v) => Number(v)),
    peakX: ints('peakX'),
    peakY: ints('peakY'),
    peakValue: floats('peakValue'),
    peakSignificance: floats('peakSignificance'),
    peaksDropped: num('peaksDropped'),
  };
  if (fp.spanStart.length !== fp.count + 1 || fp.peakStart.length !== fp.count + 1)
    throw bad('span or peak index lengths do not match the footprint count');
  if (fp.peakX.length !== fp.peakY.length || fp.peakValue.length !== fp.peakX.length)
    throw bad('peak arrays differ in length');
  return fp;
}
