/**
 * Binary tables (XTENSION = 'BINTABLE'): layout from TFORMn, column-oriented decoding
 * (including variable-length arrays in the heap) and encoding.
 *
 * Column data are flattened row-major: element j of row i of a column with repeat r is
 * `data[i * r + j]`; complex columns (C, M) interleave (re, im), so they hold 2r numbers
 * per row. Variable-length columns hold one array per row.
 */

import { FitsError, type FitsErrorContext } from './errors.ts';
import type { Header } from './header.ts';
import {
  applyScaling,
  type Bitpix,
  encodePixels,
  type ImageArray,
  type PixelScaling,
  rawBlank,
  storageFormat,
  toNativeBytes,
  viewAs,
} from './image.ts';

/** TFORM type codes. */
export type ColumnType = 'L' | 'X' | 'B' | 'I' | 'J' | 'K' | 'A' | 'E' | 'D' | 'C' | 'M';

/** A parsed TFORMn. */
export interface ColumnFormat {
  /** Element type (for variable-length columns, the type of the array elements). */
  readonly type: ColumnType;
  /** Repeat count: elements per row (for 'X', bits; for 'A', characters). */
  readonly repeat: number;
  /** 'P' (32-bit descriptors) or 'Q' (64-bit) for variable-length arrays. */
  readonly variable?: 'P' | 'Q';
}

/** Bytes per element of each type ('X' is handled by bit count). */
const ELEMENT_BYTES: Record<ColumnType, number> = {
  L: 1,
  X: 1,
  B: 1,
  I: 2,
  J: 4,
  K: 8,
  A: 1,
  E: 4,
  D: 8,
  C: 8,
  M: 16,
};

const NUMERIC_BITPIX: Partial<Record<ColumnType, Bitpix>> = {
  B: 8,
  I: 16,
  J: 32,
  K: 64,
  E: -32,
  D: -64,
  C: -32,
  M: -64,
};

const TFORM_RE = /^\s*(\d*)\s*([LXBIJKAEDCMPQ])\s*([LXBIJKAEDCM])?\s*(\(\s*\d*\s*\))?.*$/i;

/** Parses a TFORMn value such as `'1J'`, `'20A'`, `'1PB(2048)'`. Throws `FITS_BAD_TABLE`. */
export function parseTform(tform: string, context: FitsErrorContext = {}): ColumnFormat {
  const m = TFORM_RE.exec(tform.toUpperCase());
  if (!m) {
    throw new FitsError('FITS_BAD_TABLE', `TFORM '${tform}' is not a binary-table format`, context);
  }
  const repeat = m[1] ? Number(m[1]) : 1;
  const code = m[2]!;
  if (!Number.isSafeInteger(repeat)) {
    throw new FitsError('FITS_BAD_SIZE', `TFORM '${tform}' has an absurd repeat count`, context);
  }
  if (code === 'P' || code === 'Q') {
    const elem = m[3];
    if (!elem) {
      throw new FitsError(
        'FITS_BAD_TABLE',
        `TFORM '${tform}' lacks the array element type`,
        context,
      );
    }
    if (repeat > 1) {
      throw new FitsError(
        'FITS_BAD_TABLE',
        `TFORM '${tform}': a descriptor repeat must be 0 or 1`,
        context,
      );
    }
    return { type: elem as ColumnType, repeat, variable: code };
  }
  return { type: code as ColumnType, repeat };
}

/** Bytes one row of a column occupies. */
export function columnWidth(format: ColumnFormat): number {
  if (format.variable) return format.repeat === 0 ? 0 : format.variable === 'P' ? 8 : 16;
  if (format.type === 'X') return Math.ceil(format.repeat / 8);
  return format.repeat * ELEMENT_BYTES[format.type];
}

/** A column's place in the row and its descriptive keywords. */
export interface ColumnLayout {
  /** 0-based column index. */
  readonly index: number;
  /** TTYPEn, or `COL<n>` (1-based) when absent. */
  readonly name: string;
  /** TFORMn as written. */
  readonly tform: string;
  readonly format: ColumnFormat;
  /** Byte offset of the column within a row. */
  readonly offset: number;
  /** Bytes per row. */
  readonly width: number;
  readonly unit?: string;
  readonly dim?: readonly number[];
  /** TNULLn (raw stored value), if any. */
  readonly tnull?: number | bigint;
  readonly scale: number;
  readonly zero: number | bigint;
}

/** The geometry of a binary table HDU. */
export interface TableLayout {
  readonly rowBytes: number;
  readonly nrows: number;
  readonly columns: readonly ColumnLayout[];
  /** Byte offset of the heap from the start of the data unit (THEAP). */
  readonly heapOffset: number;
  /** Bytes of the data unit after the main table (PCOUNT). */
  readonly pcount: number;
}

/** Reads TFIELDS/TFORMn/... into a table layout; throws `FITS_BAD_TABLE` on inconsistency. */
export function tableLayout(header: Header, context: FitsErrorContext = {}): TableLayout {
  const rowBytes = header.getNumber('NAXIS1') ?? 0;
  const nrows = header.getNumber('NAXIS2') ?? 0;
  const pcount = header.getNumber('PCOUNT') ?? 0;
  const tfields = header.getNumber('TFIELDS') ?? 0;
  if (!Number.isSafeInteger(tfields) || tfields < 0 || tfields > 999) {
    throw new FitsError('FITS_BAD_TABLE', `TFIELDS = ${tfields} must be 0..999`, {
      ...context,
      key: 'TFIELDS',
    });
  }
  const columns: ColumnLayout[] = [];
  let offset = 0;
  for (let i = 1; i <= tfields; i++) {
    const tform = header.getString(`TFORM${i}`);
    if (tform === undefined) {
      throw new FitsError('FITS_BAD_TABLE', `TFORM${i} is missing; every column needs one`, {
        ...context,
        key: `TFORM${i}`,
      });
    }
    const format = parseTform(tform, { ...context, key: `TFORM${i}` });
    const width = columnWidth(format);
    const name = header.getString(`TTYPE${i}`)?.trim() || `COL${i}`;
    const unit = header.getString(`TUNIT${i}`);
    const tdim = header.getString(`TDIM${i}`);
    const tnull = header.get(`TNULL${i}`);
    const scale = header.getNumber(`TSCAL${i}`) ?? 1;
    const zeroValue = header.get(`TZERO${i}`);
    const zero = typeof zeroValue === 'bigint' ? zeroValue : (header.getNumber(`TZERO${i}`) ?? 0);
    const col: ColumnLayout = {
      index: i - 1,
      name,
      tform,
      format,
      offset,
      width,
      scale,
      zero,
      ...(unit !== undefined && unit !== '' ? { unit } : {}),
      ...(tdim !== undefined ? { dim: parseTdim(tdim) } : {}),
      ...(typeof tnull === 'number' || typeof tnull === 'bigint' ? { tnull } : {}),
    };
    columns.push(col);
    offset += width;
  }
  if (offset !== rowBytes) {
    throw new FitsError(
      'FITS_BAD_TABLE',
      `the TFORMn widths add up to ${offset} bytes but NAXIS1 = ${rowBytes}; the table header is inconsistent`,
      { ...context, key: 'NAXIS1' },
    );
  }
  const theap = header.getNumber('THEAP') ?? rowBytes * nrows;
  if (
    !Number.isSafeInteger(theap) ||
    theap < rowBytes * nrows ||
    theap > rowBytes * nrows + pcount
  ) {
    throw new FitsError('FITS_BAD_TABLE', `THEAP = ${theap} lies outside the data unit`, {
      ...context,
      key: 'THEAP',
    });
  }
  return { rowBytes, nrows, columns, heapOffset: theap, pcount };
}

function parseTdim(tdim: string): number[] {
  return tdim
    .replace(/[()]/g, '')
    .split(',')
    .map((s) => Number(s.trim()))
    .filter((n) => Number.isSafeInteger(n) && n >= 0);
}

/** Decoded values of one column (see the module comment for the layout). */
export type ColumnData =
  | ImageArray
  | string[]
  | (boolean | null)[]
  | (ImageArray | string | (boolean | null)[])[];

/** A decoded column of a binary table. */
export interface Column {
  /** TTYPEn (or `COL<n>`). */
  readonly name: string;
  /** Element type. */
  readonly type: ColumnType;
  /** Elements per row (for 'A' characters; for variable-length columns, 1). */
  readonly repeat: number;
  /** True for variable-length (P/Q) columns: `data` holds one array per row. */
  readonly variable: boolean;
  /** TFORMn as written. */
  readonly format: string;
  readonly unit?: string;
  /** TDIMn, FITS order (fastest first). */
  readonly dim?: readonly number[];
  /** TNULLn in the units of `data` (absent when nulls became NaN). */
  readonly null?: number | bigint;
  /**
   * Values: typed arrays for numeric and bit ('X', as 0/1 bytes) columns, strings for
   * 'A' (trailing blanks and NULs removed), booleans or null for 'L'. Scaled integer
   * columns (TSCAL/TZERO other than the unsigned conventions) become Float64Array with
   * TNULL as NaN.
   */
  readonly data: ColumnData;
}

/** Native-order decode of fixed-width column bytes gathered from every row. */
function gather(bytes: Uint8Array, layout: TableLayout, col: ColumnLayout): Uint8Array {
  const { nrows, rowBytes } = layout;
  const w = col.width;
  const out = new Uint8Array(nrows * w);
  if (w >= 64) {
    for (let r = 0; r < nrows; r++) {
      const p = r * rowBytes + col.offset;
      out.set(bytes.subarray(p, p + w), r * w);
    }
  } else {
    let o = 0;
    for (let r = 0; r < nrows; r++) {
      const p = r * rowBytes + col.offset;
      for (let k = 0; k < w; k++) out[o++] = bytes[p + k]!;
    }
  }
  return out;
}

function scalingOf(col: ColumnLayout): PixelScaling {
  return col.tnull === undefined
    ? { bscale: col.scale, bzero: col.zero }
    : { bscale: col.scale, bzero: col.zero, blank: col.tnull };
}

/** Decodes big-endian element bytes (fresh, owned) of a fixed type into column values. */
function decodeElements(
  raw: Uint8Array,
  type: ColumnType,
  count: number,
  col: ColumnLayout,
): { data: ImageArray | (boolean | null)[]; null?: number | bigint } {
  switch (type) {
    case 'L': {
      const out: (boolean | null)[] = new Array(count);
      for (let i = 0; i < count; i++) {
        const b = raw[i];
        // 'T'/'F'; 0 is null. A byte 1 is true: old astropy versions wrote 1/0.
        out[i] = b === 0x54 || b === 1 ? true : b === 0x46 ? false : null;
      }
      return { data: out };
    }
    case 'X':
    case 'A':
      // Bits and characters are expanded by the callers.
      return { data: raw };
    default: {
      const bitpix = NUMERIC_BITPIX[type]!;
      const size = Math.abs(bitpix) / 8;
      const native = toNativeBytes(raw, size, true);
      // Scaled table columns become float64, as astropy returns them.
      const decoded = applyScaling(viewAs(native, bitpix), bitpix, scalingOf(col), true);
      return decoded.blank === undefined
        ? { data: decoded.data }
        : { data: decoded.data, null: decoded.blank };
    }
  }
}

function decodeString(raw: Uint8Array, start: number, length: number): string {
  let end = start;
  const limit = start + length;
  while (end < limit && raw[end] !== 0) end++;
  while (end > start && raw[end - 1] === 0x20) end--;
  return Buffer.from(raw.buffer, raw.byteOffset + start, end - start).toString('latin1');
}

function expandBits(
  packed: Uint8Array,
  rows: number,
  bits: number,
  bytesPerRow: number,
): Uint8Array {
  const out = new Uint8Array(rows * bits);
  for (let r = 0; r < rows; r++) {
    for (let b = 0; b < bits; b++) {
      out[r * bits + b] = (packed[r * bytesPerRow + (b >>> 3)]! >>> (7 - (b & 7))) & 1;
    }
  }
  return out;
}

/**
 * Decodes every column of a binary table. `bytes` is the data unit (main table + heap);
 * it is not modified.
 */
export function decodeTable(
  bytes: Uint8Array,
  layout: TableLayout,
  context: FitsErrorContext = {},
): Column[] {
  return layout.columns.map((col) => decodeColumn(bytes, layout, col, context));
}

/** Decodes one column of a binary table (see {@link decodeTable}). */
export function decodeColumn(
  bytes: Uint8Array,
  layout: TableLayout,
  col: ColumnLayout,
  context: FitsErrorContext = {},
): Column {
  const base = {
    name: col.name,
    type: col.format.type,
    format: col.tform,
    ...(col.unit !== undefined ? { unit: col.unit } : {}),
    ...(col.dim !== undefined ? { dim: col.dim } : {}),
  };
  const { nrows } = layout;
  if (col.format.variable) {
    const data = decodeVariable(bytes, layout, col, { ...context, key: `TFORM${col.index + 1}` });
    return { ...base, repeat: 1, variable: true, data };
  }
  const { type, repeat } = col.format;
  const raw = gather(bytes, layout, col);
  if (type === 'X') {
    return { ...base, repeat, variable: false, data: expandBits(raw, nrows, repeat, col.width) };
  }
  const per = type === 'C' || type === 'M' ? 2 * repeat : repeat;
  const dimSplit =
    type === 'A' && col.dim && col.dim.length > 1 && col.dim[0]! > 0 ? col.dim[0] : undefined;
  const count = type === 'A' ? nrows * repeat : nrows * per;
  let decoded: { data: ImageArray | string[] | (boolean | null)[]; null?: number | bigint };
  if (type === 'A') {
    // One string per row (or per TDIM sub-string), never spanning rows.
    const out: string[] = [];
    const split = dimSplit ?? Math.max(repeat, 1);
    for (let r = 0; r < nrows; r++) {
      for (let p = 0; p < repeat; p += split) {
        out.push(decodeString(raw, r * repeat + p, Math.min(split, repeat - p)));
      }
      if (repeat === 0) out.push('');
    }
    decoded = { data: out };
  } else {
    decoded = decodeElements(raw, type, count, col);
  }
  const result: Column = { ...base, repeat, variable: false, data: decoded.data };
  return decoded.null === undefined ? result : { ...result, null: decoded.null };
}

function decodeVariable(
  bytes: Uint8Array,
  layout: TableLayout,
  col: ColumnLayout,
  context: FitsErrorContext,
): (ImageArray | string | (boolean | null)[])[] {
  const { nrows, rowBytes, heapOffset } = layout;
  const heapEnd = layout.rowBytes * layout.nrows + layout.pcount;
  const type = col.format.type;
  const elemBytes = ELEMENT_BYTES[type];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: (ImageArray | string | (boolean | null)[])[] = new Array(nrows);
  for (let r = 0; r < nrows; r++) {
    const p = r * rowBytes + col.offset;
    if (col.width === 0) {
      out[r] = type === 'A' ? '' : new Uint8Array(0);
      continue;
    }
    let count: number;
    let offset: number;
    if (col.format.variable === 'P') {
      count = view.getUint32(p);
      offset = view.getUint32(p + 4);
    } else {
      count = Number(view.getBigUint64(p));
      offset = Number(view.getBigUint64(p + 8));
    }
    const nbytes = type === 'X' ? Math.ceil(count / 8) : count * elemBytes;
    const start = heapOffset + offset;
    if (start + nbytes > heapEnd || start + nbytes > bytes.byteLength) {
      throw new FitsError(
        'FITS_BAD_TABLE',
        `row ${r} of column ${col.name} points to heap bytes ${offset}..${offset + nbytes}, beyond the heap`,
        context,
      );
    }
    const raw = bytes.slice(start, start + nbytes);
    if (type === 'X') {
      out[r] = expandBits(raw, 1, count, nbytes);
    } else if (type === 'A') {
      out[r] = decodeString(raw, 0, count);
    } else {
      const n = type === 'C' || type === 'M' ? 2 * count : count;
      out[r] = decodeElements(raw, type, n, col).data as ImageArray | (boolean | null)[];
    }
  }
  return out;
}

/** A column to write. */
export interface ColumnInput {
  /** TTYPEn. */
  readonly name: string;
  /**
   * Values, flattened row-major for repeat > 1: a typed array (type from the array:
   * Uint8Array B, Int8Array B+TZERO -128, Int16Array I, Uint16Array I+TZERO 32768,
   * Int32Array J, Uint32Array J+TZERO 2^31, BigInt64Array K, BigUint64Array K+TZERO 2^63,
   * Float32Array E, Float64Array D), `string[]` (A, one per row), `(boolean | null)[]`
   * (L), or an array of typed arrays, one per row (variable-length P column).
   */
  readonly data: ColumnData;
  /** Elements per row for typed arrays (default 1; for 'C'/'M', complex values per row). */
  readonly repeat?: number;
  /**
   * Overrides the type inferred from `data`: 'X' for 0/1 bytes packed as bits,
   * 'L' for 0/1 bytes as logicals, 'C'/'M' for interleaved complex floats.
   */
  readonly type?: ColumnType;
  /** TUNITn. */
  readonly unit?: string;
  /** TNULLn for integer columns, in the units of `data`. */
  readonly null?: number | bigint;
  /** TDIMn, FITS order. */
  readonly dim?: readonly number[];
  /** Character width of a string column (default: the longest string, at least 1). */
  readonly width?: number;
}

/** An encoded table: header keywords per column, main table bytes and heap. */
export interface EncodedTable {
  readonly rowBytes: number;
  readonly nrows: number;
  readonly heap: Uint8Array;
  readonly main: Uint8Array;
  /** Column keywords in order: [keyword, value] pairs for TTYPEn, TFORMn, etc. */
  readonly keywords: readonly (readonly [string, string | number | bigint])[];
}

interface PreparedColumn {
  readonly tform: string;
  readonly width: number;
  readonly cells: (row: number, out: Uint8Array, at: number) => void;
  readonly keywords: (readonly [string, string | number | bigint])[];
}

function fail(message: string, key?: string): never {
  throw new FitsError('FITS_BAD_ARGUMENT', message, key === undefined ? {} : { key });
}

const TYPED_CODE: [new (...a: never[]) => ImageArray, ColumnType][] = [
  [Uint8Array, 'B'],
  [Int8Array, 'B'],
  [Int16Array, 'I'],
  [Uint16Array, 'I'],
  [Int32Array, 'J'],
  [Uint32Array, 'J'],
  [BigInt64Array, 'K'],
  [BigUint64Array, 'K'],
  [Float32Array, 'E'],
  [Float64Array, 'D'],
];

function typedCode(data: ImageArray): ColumnType {
  for (const [ctor, code] of TYPED_CODE) if (data instanceof ctor) return code;
  return fail('column data must be a typed array');
}

function isTyped(x: unknown): x is ImageArray {
  return ArrayBuffer.isView(x) && !(x instanceof DataView);
}

/** Number of rows a column implies (undefined when it cannot tell). */
function rowsOf(col: ColumnInput): number {
  const d = col.data;
  if (isTyped(d)) {
    const type = col.type ?? typedCode(d);
    const per = (col.repeat ?? 1) * (type === 'C' || type === 'M' ? 2 : 1);
    return per === 0 ? 0 : d.length / per;
  }
  return d.length;
}

/** Encodes columns into a binary table (main rows + heap) and its column keywords. */
export function encodeTable(columns: readonly ColumnInput[], nrowsHint?: number): EncodedTable {
  const nrows = nrowsHint ?? (columns.length > 0 ? rowsOf(columns[0]!) : 0);
  if (!Number.isSafeInteger(nrows) || nrows < 0) fail(`table row count ${nrows} is not valid`);
  const heapParts: Uint8Array[] = [];
  let heapSize = 0;
  const prepared: PreparedColumn[] = columns.map((col, i) => {
    const n = i + 1;
    const key = `TFORM${n}`;
    if (rowsOf(col) !== nrows) {
      fail(`column ${col.name} has ${rowsOf(col)} rows but the table has ${nrows}`, key);
    }
    const keywords: (readonly [string, string | number | bigint])[] = [[`TTYPE${n}`, col.name]];
    const d = col.data;
    let prep: Omit<PreparedColumn, 'keywords'>;
    if (isTyped(d)) {
      const code = col.type ?? typedCode(d);
      const repeat = col.repeat ?? 1;
      if (code === 'X' || code === 'L') {
        if (!(d instanceof Uint8Array))
          fail(`column ${col.name}: ${code} data must be 0/1 bytes`, key);
        const width = code === 'X' ? Math.ceil(repeat / 8) : repeat;
        prep = {
          tform: `${repeat}${code}`,
          width,
          cells: (r, out, at) => {
            for (let b = 0; b < repeat; b++) {
              const v = d[r * repeat + b]!;
              if (code === 'L') out[at + b] = v ? 0x54 : 0x46;
              else if (v) out[at + (b >>> 3)]! |= 0x80 >>> (b & 7);
            }
          },
        };
      } else {
        const fmt = storageFormat(d);
        const be = encodePixels(d);
        const size = Math.abs(fmt.bitpix) / 8;
        const per = code === 'C' || code === 'M' ? 2 * repeat : repeat;
        const width = per * size;
        prep = {
          tform: `${repeat}${code}`,
          width,
          cells: (r, out, at) => out.set(be.subarray(r * width, (r + 1) * width), at),
        };
        if (fmt.bzero !== 0) keywords.push([`TZERO${n}`, fmt.bzero]);
        if (col.null !== undefined && fmt.bitpix > 0) {
          keywords.push([`TNULL${n}`, rawBlank(col.null, fmt)]);
        }
      }
    } else if (d.length > 0 && isTyped(d[0])) {
      prep = prepareVariable(col, d as ImageArray[], (bytes) => {
        const off = heapSize;
        heapParts.push(bytes);
        heapSize += bytes.byteLength;
        return off;
      });
      const first = d[0] as ImageArray;
      const fmt = storageFormat(first);
      if (fmt.bzero !== 0) keywords.push([`TZERO${n}`, fmt.bzero]);
    } else if (d.every((v) => typeof v === 'string')) {
      const strings = d as string[];
      let width = col.width ?? 1;
      if (col.width === undefined) for (const s of strings) width = Math.max(width, s.length);
      prep = {
        tform: `${width}A`,
        width,
        cells: (r, out, at) => {
          const s = strings[r]!;
          if (s.length > width) fail(`column ${col.name}: string longer than ${width}`, key);
          for (let k = 0; k < s.length; k++) {
            const c = s.charCodeAt(k);
            if (c > 0xff) fail(`column ${col.name}: non-Latin-1 character in row ${r}`, key);
            out[at + k] = c;
          }
          // Pad with blanks as CFITSIO and astropy do.
          for (let k = s.length; k < width; k++) out[at + k] = 0x20;
        },
      };
    } else if (d.every((v) => v === null || typeof v === 'boolean')) {
      const flags = d as (boolean | null)[];
      const repeat = col.repeat ?? 1;
      if (flags.length !== nrows * repeat)
        fail(`column ${col.name}: wrong number of logicals`, key);
      prep = {
        tform: `${repeat}L`,
        width: repeat,
        cells: (r, out, at) => {
          for (let b = 0; b < repeat; b++) {
            const v = flags[r * repeat + b];
            out[at + b] = v === true ? 0x54 : v === false ? 0x46 : 0;
          }
        },
      };
    } else {
      return fail(`column ${col.name}: unsupported data for writing`, key);
    }
    keywords.splice(1, 0, [`TFORM${n}`, prep.tform]);
    if (col.unit !== undefined) keywords.push([`TUNIT${n}`, col.unit]);
    if (col.dim !== undefined) keywords.push([`TDIM${n}`, `(${col.dim.join(',')})`]);
    return { ...prep, keywords };
  });
  const rowBytes = prepared.reduce((s, c) => s + c.width, 0);
  const main = new Uint8Array(rowBytes * nrows);
  let at = 0;
  for (const col of prepared) {
    for (let r = 0; r < nrows; r++) col.cells(r, main, r * rowBytes + at);
    at += col.width;
  }
  const heap = new Uint8Array(heapSize);
  let off = 0;
  for (const part of heapParts) {
    heap.set(part, off);
    off += part.byteLength;
  }
  return { rowBytes, nrows, main, heap, keywords: prepared.flatMap((c) => c.keywords) };
}

/** Encodes a variable-length column: per-row arrays go to the heap, descriptors to rows. */
function prepareVariable(
  col: ColumnInput,
  rows: readonly ImageArray[],
  toHeap: (bytes: Uint8Array) => number,
): Omit<PreparedColumn, 'keywords'> {
  const code = col.type ?? typedCode(rows[0]!);
  const descriptors: [number, number][] = [];
  let max = 0;
  let total = 0;
  for (const arr of rows) {
    if (!isTyped(arr) || typedCode(arr) !== typedCode(rows[0]!)) {
      fail(`column ${col.name}: every row of a variable-length column needs the same array type`);
    }
    const bytes = encodePixels(arr);
    const count = code === 'C' || code === 'M' ? arr.length / 2 : arr.length;
    descriptors.push([count, toHeap(bytes)]);
    max = Math.max(max, count);
    total += bytes.byteLength;
  }
  // 32-bit descriptors while the heap fits; 64-bit ('Q') beyond.
  const wide = total >= 2 ** 31;
  const width = wide ? 16 : 8;
  return {
    tform: `1${wide ? 'Q' : 'P'}${code}(${max})`,
    width,
    cells: (r, out, at) => {
      const [count, offset] = descriptors[r]!;
      const view = new DataView(out.buffer, out.byteOffset + at, width);
      if (wide) {
        view.setBigUint64(0, BigInt(count));
        view.setBigUint64(8, BigInt(offset));
      } else {
        view.setUint32(0, count);
        view.setUint32(4, offset);
      }
    },
  };
}
