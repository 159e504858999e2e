/**
 * The small slice of a FITS header that the WCS code needs.
 *
 * `src/geom` must not depend on `src/fits` (dependencies point fits <- geom), so the
 * WCS reads any object with a `get(key)` method of this shape; the `Header` class of
 * `src/fits` satisfies it structurally, and so does a plain `Map`.
 */

/** A value a FITS card can hold, as returned by a header reader. */
export type FitsHeaderValue = string | number | bigint | boolean | { re: number; im: number };

/** Anything that can look up a FITS keyword (upper-case, e.g. `'CRPIX1'`). */
export interface FitsHeaderLike {
  /** The card's value, or `undefined` when the keyword is absent. */
  get(key: string): FitsHeaderValue | undefined;
}

/** One card to be written into a header (keyword, value, optional comment). */
export interface FitsCardSpec {
  /** Upper-case FITS keyword, at most 8 characters. */
  key: string;
  /** Card value; numbers are written as FITS reals or integers by the writer. */
  value: string | number | boolean;
  /** Free-text comment for the card. */
  comment?: string;
}

/**
 * A {@link FitsHeaderLike} over a list of cards (the first card with a key wins),
 * handy for tests and for reading back {@link FitsCardSpec}s written by `toFitsCards`.
 */
export function headerFromCards(
  cards: ReadonlyArray<{ key: string; value: FitsHeaderValue }>,
): FitsHeaderLike {
  const map = new Map<string, FitsHeaderValue>();
  for (const card of cards) {
    const key = card.key.toUpperCase();
    if (!map.has(key)) map.set(key, card.value);
  }
  return { get: (key: string) => map.get(key.toUpperCase()) };
}
