/**
 * The formatter contract: how one storage class becomes bytes in a file and back.
 */

import type { Box2I } from '../../../geom/box.ts';

/** Read parameters a formatter may support (LSST's `parameters` of `butler.get`). */
export interface ReadParameters {
  /** Sub-image to read, in parent pixel coordinates (exposures only). */
  readonly bbox?: Box2I;
}

/**
 * A formatter: reads and writes objects of some storage classes. Its `name` is recorded
 * in each DatastoreRecord and chooses the formatter on read, so names never change.
 */
export interface Formatter<T = unknown> {
  /** Stable name written to DatastoreRecord.formatter (e.g. `ExposureFitsFormatter`). */
  readonly name: string;
  /** File extension with the dot (e.g. `.fits`), appended to the template path. */
  readonly extension: string;
  /** Read parameters this formatter understands (others are refused). */
  readonly parameters: readonly (keyof ReadParameters)[];
  /** Write recipes this formatter knows (the first is the default); [] if none. */
  readonly recipes: readonly string[];
  /**
   * Whether `obj` is something this formatter writes; the datastore refuses other objects
   * with FormatterError DATASTORE_FORMATTER before touching storage.
   */
  accepts(obj: unknown): obj is T;
  /** Human description of what {@link accepts} wants, for error messages. */
  readonly accepted: string;
  /** Why {@link accepts} refuses `obj`, more precisely than {@link accepted} (optional). */
  problem?(obj: unknown): string | null;
  /** Encode `obj` (recipe: one of {@link recipes}; the default when absent). */
  toBytes(obj: T, recipe?: string): Uint8Array | Promise<Uint8Array>;
  /**
   * Optional: write `obj` straight to the local file `path` (which does not exist yet),
   * complete and fsynced when the promise resolves. Local datastores use it to skip
   * assembling the whole file in memory first (one less copy of a large image); I/O
   * failures are StorageErrors.
   */
  toFile?(obj: T, path: string, recipe?: string): Promise<void>;
  /** Decode bytes (parameters applied after decoding where the format cannot do better). */
  fromBytes(bytes: Uint8Array, parameters?: ReadParameters): Promise<T>;
  /** Decode a local file (formats that can read part of a file do so for parameters). */
  fromFile(path: string, parameters?: ReadParameters): Promise<T>;
}
