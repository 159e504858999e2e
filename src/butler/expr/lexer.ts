/**
 * Lexer of the `where` language: turns the text into tokens with source offsets, or throws a
 * {@link WhereSyntaxError} pointing at the first character it cannot read.
 */

import { WhereSyntaxError } from './errors.ts';
import { normalizeIsoTime } from './time.ts';

/** Reserved words (case-insensitive in the source; stored upper-case in tokens). */
export const KEYWORDS = [
  'AND',
  'OR',
  'NOT',
  'IN',
  'IS',
  'NULL',
  'TRUE',
  'FALSE',
  'OVERLAPS',
] as const;

/** One reserved word. */
export type Keyword = (typeof KEYWORDS)[number];

const KEYWORD_SET: ReadonlySet<string> = new Set(KEYWORDS);

/** True when `word` (any case) is reserved and so cannot be a bare name. */
export function isKeyword(word: string): boolean {
  return KEYWORD_SET.has(word.toUpperCase());
}

/** Operator spellings recognised by the lexer (`<>` is kept as written; the parser maps it). */
export type OperatorText =
  | '='
  | '!='
  | '<>'
  | '<'
  | '<='
  | '>'
  | '>='
  | '+'
  | '-'
  | '*'
  | '/'
  | '%';

/** A token; offsets are 0-based into the text, `end` exclusive. */
export type Token =
  | { readonly kind: 'int'; readonly value: number; readonly start: number; readonly end: number }
  | { readonly kind: 'float'; readonly value: number; readonly start: number; readonly end: number }
  | {
      readonly kind: 'string';
      readonly value: string;
      readonly start: number;
      readonly end: number;
    }
  | {
      readonly kind: 'time';
      readonly text: string;
      readonly iso: string;
      readonly start: number;
      readonly end: number;
    }
  | {
      readonly kind: 'ident';
      readonly path: readonly string[];
      readonly start: number;
      readonly end: number;
    }
  | {
      readonly kind: 'keyword';
      readonly value: Keyword;
      readonly start: number;
      readonly end: number;
    }
  | { readonly kind: 'bind'; readonly name: string; readonly start: number; readonly end: number }
  | {
      readonly kind: 'op';
      readonly value: OperatorText;
      readonly start: number;
      readonly end: number;
    }
  | {
      readonly kind: 'lparen' | 'rparen' | 'comma' | 'dotdot' | 'colon' | 'eof';
      readonly start: number;
      readonly end: number;
    };

function isIdentStart(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z_]/.test(c);
}

function isIdentPart(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_]/.test(c);
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/** Tokens of `text`, ending with one 'eof' token at `text.length`. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;
  const fail = (detail: string, start: number, end: number, hint: string | null = null): never => {
    throw new WhereSyntaxError(detail, text, { start, end }, hint);
  };

  // Reads a quoted string starting at `open` (the quote); a doubled quote stands for one.
  const readQuoted = (open: number): { value: string; end: number } => {
    const quote = text[open]!;
    let value = '';
    let j = open + 1;
    for (;;) {
      if (j >= n) {
        fail(
          `unterminated string starting`,
          open,
          n,
          `close it with ${quote}; write ${quote}${quote} for a ${quote} inside the string`,
        );
      }
      const c = text[j]!;
      if (c === quote) {
        if (text[j + 1] === quote) {
          value += quote;
          j += 2;
          continue;
        }
        return { value, end: j + 1 };
      }
      value += c;
      j++;
    }
  };

  while (i < n) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;

    // Time literal: T'...' (the T touching the quote).
    if ((c === 'T' || c === 't') && (text[i + 1] === "'" || text[i + 1] === '"')) {
      const { value, end } = readQuoted(i + 1);
      const iso = normalizeIsoTime(value);
      if (iso === null) {
        fail(
          `invalid time literal ${JSON.stringify(value)}`,
          start,
          end,
          "write times in ISO-8601 form: T'2026-01-02T03:04:05' (fractional seconds and a date alone are fine)",
        );
      }
      tokens.push({ kind: 'time', text: value, iso: iso!, start, end });
      i = end;
      continue;
    }

    if (isIdentStart(c)) {
      const path: string[] = [];
      let j = i;
      for (;;) {
        const segStart = j;
        while (isIdentPart(text[j])) j++;
        path.push(text.slice(segStart, j));
        if (text[j] !== '.' || text[j + 1] === '.') break;
        if (!isIdentStart(text[j + 1])) {
          fail(
            `expected a field name after '${text.slice(i, j + 1)}'`,
            j,
            j + 1,
            'dotted names are written without spaces, e.g. visit.exposure_time',
          );
        }
        j++;
      }
      const word = path[0]!;
      if (path.length === 1 && isKeyword(word)) {
        tokens.push({ kind: 'keyword', value: word.toUpperCase() as Keyword, start, end: j });
      } else {
        tokens.push({ kind: 'ident', path, start, end: j });
      }
      i = j;
      continue;
    }

    if (isDigit(c) || (c === '.' && isDigit(text[i + 1]))) {
      let j = i;
      while (isDigit(text[j])) j++;
      let isFloat = false;
      if (text[j] === '.' && isDigit(text[j + 1])) {
        isFloat = true;
        j++;
        while (isDigit(text[j])) j++;
      }
      if (text[j] === 'e' || text[j] === 'E') {
        let k = j + 1;
        if (text[k] === '+' || text[k] === '-') k++;
        if (!isDigit(text[k])) {
          fail(
            `malformed number '${text.slice(i, k)}'`,
            i,
            k,
            'an exponent needs digits, e.g. 1e-3',
          );
        }
        while (isDigit(text[k])) k++;
        j = k;
        isFloat = true;
      }
      if (isIdentPart(text[j]) || (text[j] === '.' && !(text[j + 1] === '.'))) {
        let k = j;
        while (isIdentPart(text[k]) || text[k] === '.') k++;
        fail(
          `malformed number '${text.slice(i, k)}'`,
          i,
          k,
          "names cannot start with a digit; strings need single quotes, e.g. '12abc'",
        );
      }
      const literal = text.slice(i, j);
      if (isFloat) {
        tokens.push({ kind: 'float', value: Number(literal), start, end: j });
      } else {
        const value = Number(literal);
        if (!Number.isSafeInteger(value)) {
          fail(
            `integer ${literal} is too large`,
            i,
            j,
            'integers must lie within +-(2^53 - 1); pass larger ids as a bind value',
          );
        }
        tokens.push({ kind: 'int', value, start, end: j });
      }
      i = j;
      continue;
    }

    if (c === "'" || c === '"') {
      const { value, end } = readQuoted(i);
      tokens.push({ kind: 'string', value, start, end });
      i = end;
      continue;
    }

    if (c === ':') {
      if (isIdentStart(text[i + 1])) {
        let j = i + 1;
        while (isIdentPart(text[j])) j++;
        tokens.push({ kind: 'bind', name: text.slice(i + 1, j), start, end: j });
        i = j;
      } else {
        tokens.push({ kind: 'colon', start, end: i + 1 });
        i++;
      }
      continue;
    }

    const two = text.slice(i, i + 2);
    if (two === '..') {
      tokens.push({ kind: 'dotdot', start, end: i + 2 });
      i += 2;
      continue;
    }
    if (two === '<=' || two === '>=' || two === '!=' || two === '<>') {
      tokens.push({ kind: 'op', value: two, start, end: i + 2 });
      i += 2;
      continue;
    }
    if (two === '==')
      fail(`'==' is not an operator`, i, i + 2, "compare with a single '=': visit = 12");
    if (two === '&&') fail(`'&&' is not an operator`, i, i + 2, 'combine conditions with AND');
    if (two === '||') fail(`'||' is not an operator`, i, i + 2, 'combine conditions with OR');
    if (two === '--') {
      fail(
        `'--' is not allowed (SQL comments are not part of the language)`,
        i,
        i + 2,
        'write a double negation with parentheses: -(-x)',
      );
    }

    switch (c) {
      case '(':
        tokens.push({ kind: 'lparen', start, end: i + 1 });
        break;
      case ')':
        tokens.push({ kind: 'rparen', start, end: i + 1 });
        break;
      case ',':
        tokens.push({ kind: 'comma', start, end: i + 1 });
        break;
      case '=':
      case '<':
      case '>':
      case '+':
      case '-':
      case '*':
      case '/':
      case '%':
        tokens.push({ kind: 'op', value: c, start, end: i + 1 });
        break;
      case '!':
        fail(`unexpected '!'`, i, i + 1, "negate a condition with NOT; 'not equal' is != or <>");
        break;
      case '.':
        fail(
          `unexpected '.'`,
          i,
          i + 1,
          'dotted names are written without spaces (visit.exposure_time); ranges as 1..10',
        );
        break;
      default:
        fail(
          `unexpected character ${JSON.stringify(c)}`,
          i,
          i + 1,
          c === ';'
            ? 'a where-expression is one condition; combine conditions with AND / OR'
            : 'the language has names, numbers, quoted strings, :binds, ( ) , .. and the operators = != <> < <= > >= + - * / %',
        );
    }
    i++;
  }
  tokens.push({ kind: 'eof', start: n, end: n });
  return tokens;
}
