import { describe, expect, it } from 'vitest';
import { type Expr, formatExpr, parseWhere, tokenize } from '../../../src/butler/expr/index.ts';
import { sexpr } from './tree.ts';

function tree(text: string): string {
  const e = parseWhere(text);
  if (e === null) throw new Error(`no tree for ${JSON.stringify(text)}`);
  return sexpr(e);
}

function parsed(text: string): Expr {
  const e = parseWhere(text);
  if (e === null) throw new Error(`no tree for ${JSON.stringify(text)}`);
  return e;
}

describe('parseWhere: empty input', () => {
  it('returns null for empty and all-whitespace text', () => {
    expect(parseWhere('')).toBeNull();
    expect(parseWhere('   \n\t ')).toBeNull();
  });
});

describe('parseWhere: literals and names', () => {
  it.each([
    ['visit = 12', '(= visit 12)'],
    ['visit = -12', '(= visit -12)'],
    ['x = 1.5', '(= x 1.5f)'],
    ['x = 1e-3', '(= x 0.001f)'],
    ['x = 2.5E+2', '(= x 250f)'],
    ['x = .5', '(= x 0.5f)'],
    ['x = -0', '(= x 0)'],
    ["band = 'r'", "(= band 'r')"],
    ["name = 'O''Brien'", "(= name 'O\\'Brien')"],
    ['name = "dq ""x"""', `(= name 'dq "x"')`],
    ["name = ''", "(= name '')"],
    ['visit.exposure_time > 30', '(> visit.exposure_time 30)'],
    ['detector.full_name = :n', '(= detector.full_name :n)'],
    ['patch.cell_x >= 3', '(>= patch.cell_x 3)'],
    ["t > T'2026-01-02T03:04:05'", '(> t T(2026-01-02T03:04:05))'],
    ["t > T'2026-01-02 03:04:05.250Z'", '(> t T(2026-01-02T03:04:05.25))'],
    ["t > T'2026-01-02'", '(> t T(2026-01-02T00:00:00))'],
    ['flag = TRUE', '(= flag TRUE)'],
    ['flag = false', '(= flag FALSE)'],
    ['x IS NULL', '(ISNULL x)'],
    ['x is not null', '(ISNOTNULL x)'],
  ])('%s', (text, expected) => {
    expect(tree(text)).toBe(expected);
  });

  it('keeps a dotted name as one path and the literal text of a time', () => {
    const e = parsed("visit.exposure_time > 30 AND t < T'2026-01-02 03:04'");
    expect(e.kind).toBe('logical');
    if (e.kind !== 'logical' || e.left.kind !== 'compare' || e.right.kind !== 'compare') {
      throw new Error('unexpected shape');
    }
    expect(e.left.left).toMatchObject({ kind: 'ident', path: ['visit', 'exposure_time'] });
    expect(e.right.right).toMatchObject({
      kind: 'time',
      text: '2026-01-02 03:04',
      iso: '2026-01-02T03:04:00',
    });
  });

  it('reads keywords in any case and region names as ordinary names elsewhere', () => {
    expect(tree('a = 1 and not b = 2 Or c In (3)')).toBe(
      '(OR (AND (= a 1) (NOT (= b 2))) (IN c 3))',
    );
    expect(tree('point = 1 AND box.circle = 2')).toBe('(AND (= point 1) (= box.circle 2))');
  });

  it('reads <> as !=', () => {
    expect(tree('a <> 1')).toBe('(!= a 1)');
    expect(formatExpr(parsed('a <> 1'))).toBe('a != 1');
  });
});

describe('parseWhere: precedence', () => {
  it.each([
    // NOT > AND > OR
    ['a = 1 OR b = 2 AND c = 3', '(OR (= a 1) (AND (= b 2) (= c 3)))'],
    ['a = 1 AND b = 2 OR c = 3', '(OR (AND (= a 1) (= b 2)) (= c 3))'],
    ['NOT a = 1 AND b = 2', '(AND (NOT (= a 1)) (= b 2))'],
    ['NOT a = 1 OR NOT b = 2', '(OR (NOT (= a 1)) (NOT (= b 2)))'],
    ['NOT NOT a = 1', '(NOT (NOT (= a 1)))'],
    ['NOT (a = 1 OR b = 2)', '(NOT (OR (= a 1) (= b 2)))'],
    ['(a = 1 OR b = 2) AND c = 3', '(AND (OR (= a 1) (= b 2)) (= c 3))'],
    // left associativity
    ['a = 1 AND b = 2 AND c = 3', '(AND (AND (= a 1) (= b 2)) (= c 3))'],
    ['a = 1 OR b = 2 OR c = 3', '(OR (OR (= a 1) (= b 2)) (= c 3))'],
    // arithmetic: * / % over + -, left associative, unary minus tightest
    ['x + 2 * 3 = 7', '(= (+ x (* 2 3)) 7)'],
    ['(x + 2) * 3 = 7', '(= (* (+ x 2) 3) 7)'],
    ['x - 2 - 3 = 1', '(= (- (- x 2) 3) 1)'],
    ['x - (2 - 3) = 1', '(= (- x (- 2 3)) 1)'],
    ['x / 2 % 3 * 4 = 0', '(= (* (% (/ x 2) 3) 4) 0)'],
    ['-x * 2 = 4', '(= (* (neg x) 2) 4)'],
    ['-(x * 2) = 4', '(= (neg (* x 2)) 4)'],
    ['x - -2 = 4', '(= (- x -2) 4)'],
    ['-(-x) = 4', '(= (neg (neg x)) 4)'],
    ['- -x = 4', '(= (neg (neg x)) 4)'],
    ['-(5) = x', '(= (neg 5) x)'],
    ['+x = 4', '(= x 4)'],
    ['x + 1 < y * 2 AND z = 3', '(AND (< (+ x 1) (* y 2)) (= z 3))'],
    // predicates bind tighter than NOT / AND
    ['NOT visit IN (1, 2) AND x IS NULL', '(AND (NOT (IN visit 1 2)) (ISNULL x))'],
  ])('%s', (text, expected) => {
    expect(tree(text)).toBe(expected);
  });
});

describe('parseWhere: IN lists and ranges', () => {
  it('parses every kind of IN entry', () => {
    expect(tree("x IN (1, 2, 10..20, 30..40:5, 'a', :name)")).toBe(
      "(IN x 1 2 [10..20] [30..40:5] 'a' :name)",
    );
  });

  it('parses NOT IN, negative ranges and an explicit stride of 1', () => {
    expect(tree('visit NOT IN (-5..-1, -3..3:1, 7)')).toBe('(NOTIN visit [-5..-1] [-3..3:1] 7)');
  });

  it('parses a single-value range and expressions as entries', () => {
    expect(tree('x IN (4..4, y + 1, -z)')).toBe('(IN x [4..4] (+ y 1) (neg z))');
  });

  it('gives ranges their own spans', () => {
    const text = 'x IN (1, 10..20:2)';
    const e = parsed(text);
    if (e.kind !== 'in') throw new Error('expected IN');
    const range = e.items[1]!;
    expect(text.slice(range.span.start, range.span.end)).toBe('10..20:2');
    expect(e.span).toEqual({ start: 0, end: text.length });
  });
});

describe('parseWhere: OVERLAPS', () => {
  it.each([
    ['visit.region OVERLAPS POINT(150.1, 2.2)', '(OVERLAPS visit.region (point 150.1f 2.2f))'],
    ['patch OVERLAPS circle(150, -2, 0.5)', '(OVERLAPS patch (circle 150 -2 0.5f))'],
    ['patch.region OVERLAPS BOX(10, 20, 1, 2)', '(OVERLAPS patch.region (box 10 20 1 2))'],
    [
      'visit OVERLAPS POLYGON(0, 0, 1, 0, 1, 1, 0, 1)',
      '(OVERLAPS visit (polygon 0 0 1 0 1 1 0 1))',
    ],
    ['visit OVERLAPS CIRCLE(:ra, :dec, :r * 2)', '(OVERLAPS visit (circle :ra :dec (* :r 2)))'],
    ['visit OVERLAPS :region', '(OVERLAPS visit :region)'],
    [
      'band = :b AND NOT patch OVERLAPS POINT(1, 2)',
      '(AND (= band :b) (NOT (OVERLAPS patch (point 1 2))))',
    ],
  ])('%s', (text, expected) => {
    expect(tree(text)).toBe(expected);
  });
});

describe('parseWhere: spans', () => {
  it('covers each node, including parentheses inside it but not around it', () => {
    const text = '(a = 1 OR b = 2) AND  c.d >= -3';
    const e = parsed(text);
    if (e.kind !== 'logical' || e.left.kind !== 'logical' || e.right.kind !== 'compare') {
      throw new Error('unexpected shape');
    }
    const slice = (n: { span: { start: number; end: number } }): string =>
      text.slice(n.span.start, n.span.end);
    expect(slice(e)).toBe(text);
    expect(slice(e.left)).toBe('a = 1 OR b = 2');
    expect(slice(e.right)).toBe('c.d >= -3');
    expect(slice(e.right.left)).toBe('c.d');
    expect(slice(e.right.right)).toBe('-3');
  });
});

describe('tokenize', () => {
  it('splits ranges, strides and binds', () => {
    const kinds = tokenize('x IN (1..5:2, :b)').map((t) => t.kind);
    expect(kinds).toEqual([
      'ident',
      'keyword',
      'lparen',
      'int',
      'dotdot',
      'int',
      'colon',
      'int',
      'comma',
      'bind',
      'rparen',
      'eof',
    ]);
  });

  it('reads 1.5..3 as a float then a range marker', () => {
    const t = tokenize('1.5..3');
    expect(t.map((x) => x.kind)).toEqual(['float', 'dotdot', 'int', 'eof']);
  });
});
