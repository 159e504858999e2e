/**
 * FITS header cards: parsing and formatting of 80-character card images.
 *
 * Follows the FITS Standard 4.0, section 4 (fixed- and free-format values), plus the
 * CONTINUE long-string convention and ESO's HIERARCH convention, both as written by
 * astropy and CFITSIO.
 */

import { FitsError } from './errors.ts';

/** Length of one header card, in bytes. */
export const CARD_LENGTH = 80;

/** A complex header value `(re, im)`. */
export interface Complex {
  readonly re: number;
  readonly im: number;
}

/**
 * A header value: string, integer (`number` when it is a safe integer, otherwise
 * `bigint`), floating-point `number`, logical `boolean`, or complex.
 */
export type HeaderValue = string | number | bigint | boolean | Complex;

/** A keyword = value card (also HIERARCH cards). */
export interface ValueCard {
  readonly kind: 'value';
  /**
   * Keyword as written (upper case for standard keywords; HIERARCH keywords without the
   * `HIERARCH ` prefix, e.g. `'ESO DET CHIP NAME'`).
   */
  readonly key: string;
  /** Parsed value; `null` for an undefined (blank) value. */
  readonly value: HeaderValue | null;
  /** Comment text after `/`, trimmed; `''` when absent. */
  readonly comment: string;
  /** True when the card used the HIERARCH convention (or must, when written). */
  readonly hierarch: boolean;
  /**
   * The value field exactly as read, kept so that an unchanged card is written back
   * byte-for-byte (e.g. `1.0` stays a float and `1.0D3` keeps its notation).
   */
  readonly raw?: string;
  /** Set when the value field could not be parsed; reading the value throws. */
  readonly invalid?: true;
}

/** COMMENT, HISTORY, blank-keyword cards and any card without a value indicator. */
export interface CommentaryCard {
  readonly kind: 'commentary';
  /** `'COMMENT'`, `'HISTORY'`, `''` (blank keyword) or another keyword without `= `. */
  readonly key: string;
  /** Columns 9-80 of the card with trailing blanks removed. */
  readonly text: string;
}

/** One logical header card (a CONTINUE sequence is one logical card). */
export type Card = ValueCard | CommentaryCard;

const INT_RE = /^[+-]?\d+$/;
const FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[EeDd][+-]?\d+)?$/;
const STANDARD_KEY_RE = /^[A-Z0-9_-]{0,8}$/;

/** Normalises a keyword for lookup: upper case, trimmed, without a `HIERARCH ` prefix. */
export function normalizeKey(key: string): string {
  let k = key.trim().toUpperCase();
  if (k.startsWith('HIERARCH ')) k = k.slice(9).trim();
  return k;
}

/** Parses a numeric or logical value token (no quotes). Returns undefined if invalid. */
function parseScalar(token: string): HeaderValue | null | undefined {
  if (token === '') return null;
  if (token === 'T') return true;
  if (token === 'F') return false;
  if (INT_RE.test(token)) {
    const n = Number(token);
    return Number.isSafeInteger(n) ? n : BigInt(token);
  }
  if (FLOAT_RE.test(token)) return Number(token.replace(/[Dd]/, 'E'));
  if (token.startsWith('(') && token.endsWith(')')) {
    const parts = token.slice(1, -1).split(',');
    if (parts.length !== 2) return undefined;
    const re = parts[0]!.trim();
    const im = parts[1]!.trim();
    if (!(FLOAT_RE.test(re) || INT_RE.test(re)) || !(FLOAT_RE.test(im) || INT_RE.test(im))) {
      return undefined;
    }
    return { re: Number(re.replace(/[Dd]/, 'E')), im: Number(im.replace(/[Dd]/, 'E')) };
  }
  return undefined;
}

interface ParsedField {
  value: HeaderValue | null;
  comment: string;
  invalid: boolean;
  /** Raw string contents (unescaped) when the value is a string, for CONTINUE joining. */
  isString: boolean;
}

/** Parses the value/comment field of a card (the text after `= `). */
export function parseValueField(field: string): ParsedField {
  let i = 0;
  while (i < field.length && field[i] === ' ') i++;
  if (field[i] === "'") {
    let out = '';
    let j = i + 1;
    let closed = false;
    while (j < field.length) {
      const ch = field[j]!;
      if (ch === "'") {
        if (field[j + 1] === "'") {
          out += "'";
          j += 2;
          continue;
        }
        closed = true;
        j++;
        break;
      }
      out += ch;
      j++;
    }
    const rest = field.slice(j);
    const slash = rest.indexOf('/');
    const comment = slash >= 0 ? rest.slice(slash + 1).trim() : '';
    // Trailing blanks in a string value are not significant (Standard 4.2.1.1).
    return { value: out.replace(/ +$/, ''), comment, invalid: !closed, isString: true };
  }
  // Complex values contain no '/', so the first '/' always starts the comment.
  const slash = field.indexOf('/', i);
  const token = (slash >= 0 ? field.slice(i, slash) : field.slice(i)).trim();
  const comment = slash >= 0 ? field.slice(slash + 1).trim() : '';
  const value = parseScalar(token);
  if (value === undefined) return { value: null, comment, invalid: true, isString: false };
  return { value, comment, invalid: false, isString: false };
}

/**
 * Parses one 80-character card image (a CONTINUE card is returned as a commentary card
 * with key `CONTINUE`; {@link parseCards} joins CONTINUE sequences).
 */
export function parseCard(image: string): Card {
  const key8 = image.slice(0, 8).trimEnd();
  if (key8.toUpperCase() === 'HIERARCH') {
    const eq = image.indexOf('=', 8);
    if (eq > 8) {
      const key = image.slice(8, eq).trim();
      const parsed = parseValueField(image.slice(eq + 1));
      return valueCard(key, parsed, image.slice(eq + 1), true);
    }
    return { kind: 'commentary', key: 'HIERARCH', text: image.slice(8).trimEnd() };
  }
  const key = key8.toUpperCase();
  if (image.slice(8, 10) === '= ' && key !== 'COMMENT' && key !== 'HISTORY' && key !== '') {
    const parsed = parseValueField(image.slice(10));
    return valueCard(key, parsed, image.slice(10), false);
  }
  return { kind: 'commentary', key, text: image.slice(8).trimEnd() };
}

function valueCard(key: string, parsed: ParsedField, raw: string, hierarch: boolean): ValueCard {
  const card: ValueCard = {
    kind: 'value',
    key,
    value: parsed.value,
    comment: parsed.comment,
    hierarch,
    raw: raw.trimEnd(),
  };
  return parsed.invalid ? { ...card, invalid: true } : card;
}

/**
 * Parses consecutive card images (without the END card) into logical cards, joining
 * CONTINUE long strings: a string value ending in `&` followed by CONTINUE cards.
 */
export function parseCards(images: readonly string[]): Card[] {
  const cards: Card[] = [];
  for (let i = 0; i < images.length; i++) {
    let card = parseCard(images[i]!);
    if (card.kind === 'value' && typeof card.value === 'string' && !card.invalid) {
      let value = card.value;
      let comment = card.comment;
      let joined = false;
      while (value.endsWith('&') && i + 1 < images.length) {
        const next = images[i + 1]!;
        if (next.slice(0, 8) !== 'CONTINUE') break;
        const parsed = parseValueField(next.slice(8));
        if (!parsed.isString || parsed.invalid) break;
        value = value.slice(0, -1) + (parsed.value as string);
        if (parsed.comment) comment = comment ? `${comment} ${parsed.comment}` : parsed.comment;
        joined = true;
        i++;
      }
      if (joined) {
        card = { kind: 'value', key: card.key, value, comment, hierarch: card.hierarch };
      }
    }
    cards.push(card);
  }
  return cards;
}

/** Formats a finite number as a FITS real value (always with a decimal point or exponent). */
export function formatReal(x: number): string {
  if (!Number.isFinite(x)) {
    throw new FitsError('FITS_BAD_VALUE', `${x} cannot be written to a FITS header`);
  }
  // The shortest round-trip representation keeps every bit of the double.
  const s = String(x);
  const e = s.indexOf('e');
  if (e < 0) return s.includes('.') ? s : `${s}.0`;
  let mantissa = s.slice(0, e);
  if (!mantissa.includes('.')) mantissa += '.0';
  const exp = Number(s.slice(e + 1));
  const sign = exp < 0 ? '-' : '+';
  return `${mantissa}E${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** Formats a header value as it appears in a fixed-format value field (strings quoted). */
export function formatValue(value: HeaderValue | null): string {
  if (value === null) return '';
  if (typeof value === 'boolean') return value ? 'T' : 'F';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && !Object.is(value, -0) ? String(value) : formatReal(value);
  }
  if (typeof value === 'string') return quoteString(value);
  return `(${formatReal(value.re)}, ${formatReal(value.im)})`;
}

function quoteString(s: string): string {
  // Fixed format: the string is at least 8 characters between the quotes.
  return `'${s.replaceAll("'", "''").padEnd(8, ' ')}'`;
}

/** Throws unless every character of `s` is printable ASCII (0x20-0x7E). */
export function assertPrintable(s: string, key: string): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) {
      throw new FitsError(
        'FITS_BAD_VALUE',
        `character code ${c} at position ${i} is not printable ASCII; FITS headers allow only 0x20-0x7E`,
        { key },
      );
    }
  }
}

/** True when `key` needs the HIERARCH convention (longer than 8 or not [A-Z0-9_-]). */
export function needsHierarch(key: string): boolean {
  return !STANDARD_KEY_RE.test(key);
}

function fitTo80(s: string): string {
  return s.length >= CARD_LENGTH ? s.slice(0, CARD_LENGTH) : s.padEnd(CARD_LENGTH, ' ');
}

function withComment(prefix: string, comment: string): string {
  if (!comment || prefix.length >= CARD_LENGTH - 3) return prefix;
  return `${prefix} / ${comment}`;
}

/**
 * Formats a logical card as one or more 80-character card images (CONTINUE cards for
 * long strings, several COMMENT/HISTORY cards for long commentary text).
 */
export function formatCard(card: Card): string[] {
  if (card.kind === 'commentary') {
    assertPrintable(card.text, card.key);
    const key = card.key.padEnd(8, ' ');
    if (card.text.length <= 72) return [fitTo80(key + card.text)];
    const out: string[] = [];
    for (let i = 0; i < card.text.length; i += 72)
      out.push(fitTo80(key + card.text.slice(i, i + 72)));
    return out;
  }
  assertPrintable(card.key, card.key);
  assertPrintable(card.comment, card.key);
  const hierarch = card.hierarch || needsHierarch(card.key);
  if (hierarch) {
    if (card.raw !== undefined) return [fitTo80(`HIERARCH ${card.key} =${card.raw}`)];
    const line = `HIERARCH ${card.key} = ${formatHierarchValue(card)}`;
    if (line.length > CARD_LENGTH) {
      throw new FitsError(
        'FITS_BAD_VALUE',
        `HIERARCH card is ${line.length} characters; shorten the keyword or value to fit 80`,
        { key: card.key },
      );
    }
    return [fitTo80(withComment(line, card.comment))];
  }
  const key = card.key.padEnd(8, ' ');
  if (card.raw !== undefined) {
    // Unchanged card read from a file: write its value field back verbatim.
    return [fitTo80(`${key}= ${card.raw}`)];
  }
  const value = card.value;
  if (typeof value === 'string') {
    assertPrintable(value, card.key);
    const quoted = quoteString(value);
    if (10 + quoted.length <= CARD_LENGTH) {
      // Left-justified in a 20-column field, as astropy writes (and re-writes when it
      // verifies CHECKSUM, so the layout must match for its verification to pass).
      const field = card.comment ? quoted.padEnd(20, ' ') : quoted;
      return [fitTo80(withComment(`${key}= ${field}`, card.comment))];
    }
    return formatLongString(key, value, card.comment);
  }
  const text = formatValue(value);
  // Fixed format: numbers and logicals right-justified to column 30.
  return [fitTo80(withComment(`${key}= ${text.padStart(20, ' ')}`, card.comment))];
}

function formatHierarchValue(card: ValueCard): string {
  const v = card.value;
  if (typeof v === 'string') {
    assertPrintable(v, card.key);
    return `'${v.replaceAll("'", "''")}'`;
  }
  return formatValue(v);
}

/** Splits a long string over CONTINUE cards (each piece ends with `&` except the last). */
function formatLongString(key: string, value: string, comment: string): string[] {
  const pieces: string[] = [];
  let rest = value;
  // 67 escaped characters + "&'" fill columns 12-80.
  while (rest.length > 0) {
    let n = Math.min(rest.length, 67);
    // Never split between the two characters of an escaped quote.
    while (escapedLength(rest.slice(0, n)) > 67) n--;
    pieces.push(rest.slice(0, n));
    rest = rest.slice(n);
  }
  const out: string[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const last = i === pieces.length - 1;
    const body = `'${pieces[i]!.replaceAll("'", "''")}${last ? '' : '&'}'`;
    const prefix = i === 0 ? `${key}= ` : 'CONTINUE  ';
    const line = prefix + body;
    out.push(fitTo80(last ? withComment(line, comment) : line));
  }
  return out;
}

function escapedLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) === 0x27) n++;
  return n;
}
