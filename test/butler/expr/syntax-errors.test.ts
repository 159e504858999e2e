import { describe, expect, it } from 'vitest';
import { ExprError, parseWhere, WhereSyntaxError } from '../../../src/butler/expr/index.ts';

/** The error parseWhere throws for `text` (fails the test when it parses). */
function syntaxError(text: string): WhereSyntaxError {
  try {
    parseWhere(text);
  } catch (e) {
    if (e instanceof WhereSyntaxError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(text)} not to parse`);
}

describe('syntax errors: positions', () => {
  // [text, offending text as [start, end) offsets, detail pattern]
  const cases: [string, number, number, RegExp][] = [
    // unclosed parenthesis: the caret is under the '(' left open
    ['(visit = 1 AND band = 2', 0, 1, /unclosed '\('/],
    ['visit = 1 AND (band = 2 OR (x = 3)', 14, 15, /unclosed '\('/],
    ['x IN (1, 2', 5, 6, /unclosed '\('/],
    ['visit OVERLAPS CIRCLE(1, 2', 21, 22, /unclosed '\('/],
    // stray or misplaced parenthesis
    ['visit = 12 AND )', 15, 16, /unexpected '\)'/],
    ['visit = 12)', 10, 11, /unexpected '\)'/],
    ['()', 0, 2, /empty parentheses/],
    ['(a = 1 b = 2)', 7, 8, /expected '\)'/],
    // dangling operators
    ['visit = 1 AND', 10, 13, /end of expression after AND/],
    ['visit = 1 OR', 10, 12, /end of expression after OR/],
    ['NOT', 0, 3, /end of expression after NOT/],
    ['visit =', 6, 7, /end of expression after '='/],
    ['x + 1 * = 3', 8, 9, /unexpected '='/],
    ['x + = 3', 4, 5, /unexpected '='/],
    ['AND visit = 1', 0, 3, /unexpected AND/],
    ['visit = = 3', 8, 9, /unexpected '='/],
    ['visit = 1 AND OR b = 2', 14, 16, /unexpected OR/],
    ['visit IN', 6, 8, /end of expression after IN/],
    ['x IS', 2, 4, /end of expression after IS/],
    ['x IS 3', 5, 6, /unexpected number 3/],
    ['x NOT = 3', 2, 5, /unexpected NOT/],
    ['visit = 1 2', 10, 11, /unexpected number 2/],
    ['band = r g', 9, 10, /unexpected name 'g'/],
    ['a < b < c', 6, 7, /comparisons cannot be chained/],
    // ranges
    ['visit IN (1..)', 10, 13, /range '1\.\.' has no end/],
    ['visit IN (1.., 5)', 10, 13, /range '1\.\.' has no end/],
    ['visit IN (10..1)', 10, 15, /range 10\.\.1 is empty/],
    ['visit IN (1..10:0)', 16, 17, /stride must be a positive integer/],
    ['visit IN (1..10:)', 15, 16, /stride must be a positive integer/],
    ['visit IN (1..10:x)', 15, 17, /stride must be a positive integer/],
    ['visit IN (1.5..3)', 10, 13, /range must start with an integer/],
    ['visit IN (1..3.5)', 13, 16, /range must end with an integer/],
    ['visit IN (a..3)', 10, 11, /range must start with an integer/],
    ['visit = 1..5', 9, 11, /only allowed inside IN/],
    ['visit IN (1 2)', 12, 13, /expected ',' or '\)' in IN list/],
    // empty IN list
    ['visit IN ()', 9, 11, /empty IN list/],
    ['visit NOT IN ( )', 13, 16, /empty IN list/],
    ['visit IN 1', 9, 10, /unexpected number 1/],
    ['visit IN (1,)', 12, 13, /unexpected '\)' in IN list/],
    // strings and lexing
    ["band = 'r", 7, 9, /unterminated string/],
    ["band = 'it''s", 7, 13, /unterminated string/],
    ['band = "r', 7, 9, /unterminated string/],
    ['visit == 12', 6, 8, /'==' is not an operator/],
    ['a = 1 && b = 2', 6, 8, /'&&'/],
    ['a = 1 || b = 2', 6, 8, /'\|\|'/],
    ['visit = 12;', 10, 11, /unexpected character ";"/],
    ['visit = 12 -- comment', 11, 13, /'--'/],
    ['x = 12abc', 4, 9, /malformed number '12abc'/],
    ['x = 1e', 4, 6, /malformed number '1e'/],
    ['x = 1.', 4, 6, /malformed number/],
    ['visit. region = 1', 5, 6, /expected a field name after 'visit\.'/],
    ['visit .region = 1', 6, 7, /unexpected '\.'/],
    ['x = !y', 4, 5, /unexpected '!'/],
    ["t < T'2026-13-01'", 4, 17, /invalid time literal/],
    ["t < T'yesterday'", 4, 16, /invalid time literal/],
    ['x = 99999999999999999999', 4, 24, /too large/],
    // binds and OVERLAPS
    ['x = :', 4, 5, /unexpected ':'/],
    ['visit OVERLAPS', 6, 14, /end of expression after OVERLAPS/],
    ['visit OVERLAPS 3', 15, 16, /unexpected number 3 after OVERLAPS/],
    ['visit OVERLAPS SQUARE(1, 2)', 15, 21, /unexpected name 'SQUARE' after OVERLAPS/],
    ['visit OVERLAPS CIRCLE(1, 2)', 15, 27, /CIRCLE takes 3 arguments, got 2/],
    ['visit OVERLAPS POINT(1, 2, 3)', 15, 29, /POINT takes 2 arguments, got 3/],
    ['visit OVERLAPS POLYGON(1, 2, 3, 4)', 15, 34, /at least 6.*got 4/],
    ['visit OVERLAPS POLYGON(1, 2, 3, 4, 5, 6, 7)', 15, 43, /even number.*got 7/],
    ['visit OVERLAPS BOX(1, 2, 3 4)', 27, 28, /expected ',' or '\)' in BOX/],
  ];

  it.each(cases)('%s', (text, start, end, detail) => {
    const err = syntaxError(text);
    expect(err.detail).toMatch(detail);
    expect(err.span).toEqual({ start, end });
    expect(err.code).toBe('WHERE_SYNTAX');
    expect(err.expression).toBe(text);
    expect(err).toBeInstanceOf(ExprError);
    expect(err.hint).not.toBeNull();
  });
});

describe('syntax errors: messages', () => {
  it('quote the expression with a caret under the offending token, and a hint', () => {
    const err = syntaxError('visit = 12 AND )');
    expect(err.message).toBe(
      [
        "where-expression: unexpected ')' at column 16",
        '  visit = 12 AND )',
        '                 ^',
        '  hint: expected a condition after AND',
      ].join('\n'),
    );
  });

  it('underline a whole span and name line and column in multi-line text', () => {
    const err = syntaxError("visit = 1\n  AND band = 'r\n");
    expect(err.message).toBe(
      [
        'where-expression: unterminated string starting at line 2, column 14',
        "    AND band = 'r",
        '               ^^',
        "  hint: close it with '; write '' for a ' inside the string",
      ].join('\n'),
    );
  });

  it('keep tabs in the caret line so it lines up', () => {
    const err = syntaxError('\tvisit IN ()');
    expect(err.message.split('\n')[2]).toBe('  \t         ^^');
  });

  it('say what was expected inside an IN list', () => {
    const err = syntaxError('visit IN (1 2)');
    expect(err.hint).toMatch(/separate IN list entries with commas/);
  });

  it('tell people to use a single =', () => {
    expect(syntaxError('visit == 12').hint).toMatch(/single '='/);
  });
});
