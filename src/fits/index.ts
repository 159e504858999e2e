/**
 * FITS reading and writing: headers, images of every BITPIX, multi-extension files,
 * binary tables, tile compression, checksums and sub-image reads.
 *
 * Conventions: shapes are FITS order `[NAXIS1, NAXIS2, ...]` (NAXIS1 = x, fastest);
 * pixel (x, y), 0-based, is `data[x + NAXIS1 * y]`; arrays are in native byte order with
 * BSCALE/BZERO applied. Every failure caused by a file's content is a `FitsError`.
 */

export type { Column, ColumnData, ColumnInput, ColumnType } from './bintable.ts';
export type { Card, CommentaryCard, Complex, HeaderValue, ValueCard } from './card.ts';
export { encodeChecksum, onesComplementSum } from './checksum.ts';
export { randomSequence } from './compression/dither.ts';
export { FitsError, type FitsErrorCode, type FitsErrorContext, isFitsError } from './errors.ts';
export type {
  BinTableHdu,
  BinTableHduInput,
  CompressionInfo,
  CompressionOptions,
  Hdu,
  HduInput,
  HduSelector,
  ImageHdu,
  ImageHduInput,
  OtherHdu,
} from './hdu.ts';
export { BLOCK_LENGTH, Header } from './header.ts';
export type { Bitpix, ImageArray } from './image.ts';
export { FitsFile, parseFits, type ReadOptions, readFits } from './reader.ts';
export { type ImageSection, readImageSection, type SectionBox } from './section.ts';
export {
  type FitsChunks,
  fitsChunks,
  fitsToBytes,
  type WriteOptions,
  writeFits,
} from './writer.ts';
