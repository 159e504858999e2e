/**
 * The typed header API: an ordered list of cards with case-insensitive keyword lookup.
 */

import {
  assertPrintable,
  CARD_LENGTH,
  type Card,
  type CommentaryCard,
  formatCard,
  formatReal,
  type HeaderValue,
  needsHierarch,
  normalizeKey,
  parseCards,
  type ValueCard,
} from './card.ts';
import { FitsError } from './errors.ts';

/** Size of a FITS logical record, in bytes. Headers and data are padded to multiples. */
export const BLOCK_LENGTH = 2880;

/**
 * A FITS header: ordered cards (COMMENT/HISTORY/blank cards kept in place) with
 * case-insensitive keyword lookup. HIERARCH keywords are looked up without the
 * `HIERARCH ` prefix (`get('ESO DET CHIP')` or `get('HIERARCH ESO DET CHIP')`).
 *
 * When a keyword occurs more than once, `get` returns the first occurrence (as astropy).
 * The END card is implicit: it is never stored and always written.
 */
export class Header implements Iterable<Card> {
  private cardList: Card[];
  private index: Map<string, number> | undefined;

  /** A header holding `cards` (copied), in order. */
  constructor(cards: Iterable<Card> = []) {
    this.cardList = [...cards];
  }

  /** Parses a header from its 80-character card images (END excluded). */
  static fromCardImages(images: readonly string[]): Header {
    return new Header(parseCards(images));
  }

  /** Number of logical cards (a CONTINUE sequence counts as one). */
  get length(): number {
    return this.cardList.length;
  }

  /** The cards, in order (a snapshot; mutate through `set`/`delete`). */
  get cards(): readonly Card[] {
    return this.cardList.slice();
  }

  /** Iterates over the cards in order. */
  [Symbol.iterator](): Iterator<Card> {
    return this.cardList.slice()[Symbol.iterator]();
  }

  private lookup(key: string): number {
    if (!this.index) {
      const index = new Map<string, number>();
      this.cardList.forEach((card, i) => {
        if (card.kind !== 'value') return;
        const k = normalizeKey(card.key);
        if (!index.has(k)) index.set(k, i);
      });
      this.index = index;
    }
    return this.index.get(normalizeKey(key)) ?? -1;
  }

  private valueCard(key: string): ValueCard | undefined {
    const i = this.lookup(key);
    return i < 0 ? undefined : (this.cardList[i] as ValueCard);
  }

  /** True when a keyword = value card with this keyword exists (case-insensitive). */
  has(key: string): boolean {
    return this.lookup(key) >= 0;
  }

  /**
   * The value of `key` (case-insensitive), or `undefined` when absent or when the card
   * has an undefined (blank) value. Integers beyond 2^53 come back as `bigint`.
   * Throws `FITS_BAD_HEADER` when the card's value field cannot be parsed.
   */
  get(key: string): HeaderValue | undefined {
    const card = this.valueCard(key);
    if (!card) return undefined;
    if (card.invalid) {
      throw new FitsError(
        'FITS_BAD_HEADER',
        `cannot parse the value field ${JSON.stringify(card.raw ?? '')}; fix or delete the card`,
        { key: card.key },
      );
    }
    return card.value ?? undefined;
  }

  /**
   * The value of `key` as a number (a `bigint` is converted, losing precision beyond
   * 2^53), or `undefined` when absent. Throws `FITS_BAD_HEADER` for a non-numeric value.
   */
  getNumber(key: string): number | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v === 'number') return v;
    if (typeof v === 'bigint') return Number(v);
    throw new FitsError('FITS_BAD_HEADER', `expected a number, found ${describe(v)}`, { key });
  }

  /** The value of `key` as a string, or `undefined`; throws `FITS_BAD_HEADER` otherwise. */
  getString(key: string): string | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v === 'string') return v;
    throw new FitsError('FITS_BAD_HEADER', `expected a string, found ${describe(v)}`, { key });
  }

  /** The value of `key` as a boolean, or `undefined`; throws `FITS_BAD_HEADER` otherwise. */
  getBoolean(key: string): boolean | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v === 'boolean') return v;
    throw new FitsError('FITS_BAD_HEADER', `expected T or F, found ${describe(v)}`, { key });
  }

  /** The comment of `key`'s card (`''` when it has none), or `undefined` when absent. */
  getComment(key: string): string | undefined {
    return this.valueCard(key)?.comment;
  }

  /**
   * Sets `key` to `value`. An existing card is updated in place (its comment kept unless
   * `comment` is given); otherwise a card is appended. Keywords longer than 8 characters
   * or with characters outside [A-Z0-9_-] are written with the HIERARCH convention;
   * strings longer than 68 characters with CONTINUE cards. Setting `COMMENT` or
   * `HISTORY` appends a commentary card.
   * Throws `FITS_BAD_VALUE` for NaN/infinite numbers or non-printable characters.
   */
  set(key: string, value: HeaderValue, comment?: string): void {
    const k = normalizeKey(key);
    if (k === 'COMMENT' || k === 'HISTORY') {
      this.addCommentary(k, String(value));
      return;
    }
    validateValue(k, value);
    if (comment !== undefined) assertPrintable(comment, k);
    const i = this.lookup(k);
    const old = i >= 0 ? (this.cardList[i] as ValueCard) : undefined;
    const card: ValueCard = {
      kind: 'value',
      key: old ? old.key : k,
      value,
      comment: comment ?? old?.comment ?? '',
      hierarch: old ? old.hierarch || needsHierarch(old.key) : needsHierarch(k),
    };
    if (old) {
      this.cardList[i] = card;
    } else {
      this.cardList.push(card);
      this.index = undefined;
    }
  }

  /**
   * Sets `key` to a number that is always written as a real (e.g. `1.0`, not `1`),
   * for keywords whose readers expect a floating-point value.
   */
  setReal(key: string, value: number, comment?: string): void {
    this.set(key, value, comment);
    const i = this.lookup(key);
    const card = this.cardList[i] as ValueCard;
    if (Number.isInteger(value)) {
      this.cardList[i] = { ...card, raw: rawReal(value, card.comment) };
    }
  }

  /** Removes every keyword = value card with this keyword; returns true if any existed. */
  delete(key: string): boolean {
    const k = normalizeKey(key);
    const before = this.cardList.length;
    this.cardList = this.cardList.filter((c) => c.kind !== 'value' || normalizeKey(c.key) !== k);
    this.index = undefined;
    return this.cardList.length !== before;
  }

  /** Appends a COMMENT card. */
  addComment(text: string): void {
    this.addCommentary('COMMENT', text);
  }

  /** Appends a HISTORY card. */
  addHistory(text: string): void {
    this.addCommentary('HISTORY', text);
  }

  private addCommentary(key: 'COMMENT' | 'HISTORY', text: string): void {
    assertPrintable(text, key);
    const card: CommentaryCard = { kind: 'commentary', key, text };
    this.cardList.push(card);
  }

  /** Texts of the COMMENT cards, in order. */
  get comments(): string[] {
    return this.commentary('COMMENT');
  }

  /** Texts of the HISTORY cards, in order. */
  get history(): string[] {
    return this.commentary('HISTORY');
  }

  private commentary(key: string): string[] {
    const out: string[] = [];
    for (const c of this.cardList) if (c.kind === 'commentary' && c.key === key) out.push(c.text);
    return out;
  }

  /** Keywords of the value cards, in order (duplicates included). */
  keys(): string[] {
    const out: string[] = [];
    for (const c of this.cardList) if (c.kind === 'value') out.push(c.key);
    return out;
  }

  /** An independent copy. */
  clone(): Header {
    return new Header(this.cardList);
  }

  /** A copy without the cards for which `drop(card)` is true. */
  filter(keep: (card: Card) => boolean): Header {
    return new Header(this.cardList.filter(keep));
  }

  /** Appends a card as is (used when copying cards between headers). */
  append(card: Card): void {
    this.cardList.push(card);
    this.index = undefined;
  }

  /**
   * The header as card images: 80-character lines including the END card, without
   * padding to a 2880-byte block.
   */
  toCardImages(): string[] {
    const out: string[] = [];
    for (const card of this.cardList) out.push(...formatCard(card));
    out.push('END'.padEnd(CARD_LENGTH, ' '));
    return out;
  }

  /** The header as bytes, padded with blanks to a multiple of 2880. */
  toBytes(): Uint8Array {
    const images = this.toCardImages();
    const n = Math.ceil((images.length * CARD_LENGTH) / BLOCK_LENGTH) * BLOCK_LENGTH;
    const out = new Uint8Array(n).fill(0x20);
    let off = 0;
    for (const image of images) {
      for (let i = 0; i < CARD_LENGTH; i++) out[off + i] = image.charCodeAt(i);
      off += CARD_LENGTH;
    }
    return out;
  }

  /** The header as text, one card per line (for display and debugging). */
  toString(): string {
    return this.toCardImages().join('\n');
  }
}

function describe(v: HeaderValue): string {
  if (typeof v === 'string') return `the string '${v}'`;
  if (typeof v === 'object') return `the complex value (${v.re}, ${v.im})`;
  return `${typeof v} ${String(v)}`;
}

function validateValue(key: string, value: HeaderValue): void {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new FitsError('FITS_BAD_VALUE', `${value} cannot be stored in a FITS header`, { key });
  }
  if (typeof value === 'object') {
    if (!Number.isFinite(value.re) || !Number.isFinite(value.im)) {
      throw new FitsError('FITS_BAD_VALUE', 'complex parts must be finite', { key });
    }
  }
  if (typeof value === 'string') assertPrintable(value, key);
  if (key.length === 0) throw new FitsError('FITS_BAD_VALUE', 'empty keyword', { key });
  assertPrintable(key, key);
}

function rawReal(value: number, comment: string): string {
  const text = formatReal(value).padStart(20, ' ');
  return comment ? `${text} / ${comment}` : text;
}
