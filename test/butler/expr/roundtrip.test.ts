/**
 * Property: random syntax trees print (formatExpr) to text that parses back to the same tree,
 * and every node's span covers text that parses to that node alone.
 */

import { describe, expect, it } from 'vitest';
import {
  type CompareOp,
  type Expr,
  formatExpr,
  type InItem,
  isKeyword,
  type Node,
  parseWhere,
  type RegionShape,
  walkNodes,
} from '../../../src/butler/expr/index.ts';
import { Rng } from './random.ts';
import { stripSpans } from './tree.ts';

const SPAN = { start: 0, end: 0 };
const NAMES = [
  'visit',
  'band',
  'detector',
  'exposure_time',
  'full_name',
  'x',
  't',
  'point',
  'region',
  'in_',
  'Not2',
  '_a',
];
const STRINGS = [
  '',
  'r',
  "it's",
  "''",
  'two words',
  'ünï €',
  'line\nbreak',
  '"dq"',
  "' OR 1=1 --",
  '..',
  ':x',
];
const FLOATS = [0.5, 1.5, 0.1, 2.0e-7, 1e21, 123.456, 6.02e23, 5e-324, 1.7976931348623157e308, 3.0];
const TIMES = [
  '2026-01-02T03:04:05',
  '2026-01-02',
  '2026-01-02 03:04',
  '2024-02-29T23:59:60.123456',
  '1999-12-31T00:00:00Z',
];
const COMPARE: readonly CompareOp[] = ['=', '!=', '<', '<=', '>', '>='];
const SHAPES: readonly RegionShape[] = ['point', 'circle', 'box', 'polygon'];

function name(rng: Rng): string {
  const n = rng.pick(NAMES);
  if (isKeyword(n)) throw new Error(`fixture name ${n} is a keyword`);
  return n;
}

function leaf(rng: Rng): Expr {
  switch (rng.int(0, 9)) {
    case 0:
    case 1: {
      const path = [name(rng)];
      while (rng.chance(0.3)) path.push(rng.pick([...NAMES, 'and', 'IN', 'null']));
      return { kind: 'ident', path, span: SPAN };
    }
    case 2:
      return {
        kind: 'int',
        value: rng.pick([0, 1, 12, -3, 2024010100123, -9007199254740991, rng.int(-1000, 1000)]),
        span: SPAN,
      };
    case 3: {
      const v = rng.pick(FLOATS);
      return { kind: 'float', value: rng.chance(0.3) ? -v : v, span: SPAN };
    }
    case 4:
      return { kind: 'string', value: rng.pick(STRINGS), span: SPAN };
    case 5: {
      const text = rng.pick(TIMES);
      const e = parseWhere(`T'${text}'`);
      if (e === null || e.kind !== 'time') throw new Error('bad time fixture');
      return { kind: 'time', text, iso: e.iso, span: SPAN };
    }
    case 6:
      return { kind: 'bind', name: rng.pick(['b', 'ids', 'ra_0', 'T']), span: SPAN };
    case 7:
      return { kind: 'bool', value: rng.chance(0.5), span: SPAN };
    case 8:
      return { kind: 'null', span: SPAN };
    default:
      return { kind: 'ident', path: [name(rng)], span: SPAN };
  }
}

function range(rng: Rng): InItem {
  const start = rng.int(-50, 5000);
  const end = start + rng.int(0, rng.chance(0.5) ? 10 : 100000);
  return { kind: 'range', start, end, stride: rng.chance(0.5) ? null : rng.int(1, 9), span: SPAN };
}

function expr(rng: Rng, depth: number): Expr {
  if (depth <= 0 || rng.chance(0.2)) return leaf(rng);
  const sub = (): Expr => expr(rng, depth - 1);
  switch (rng.int(0, 9)) {
    case 0:
      return {
        kind: 'logical',
        op: rng.chance(0.5) ? 'AND' : 'OR',
        left: sub(),
        right: sub(),
        span: SPAN,
      };
    case 1:
      return { kind: 'not', operand: sub(), span: SPAN };
    case 2:
      return { kind: 'compare', op: rng.pick(COMPARE), left: sub(), right: sub(), span: SPAN };
    case 3: {
      const items: InItem[] = [];
      const n = rng.int(1, 4);
      for (let i = 0; i < n; i++) items.push(rng.chance(0.4) ? range(rng) : sub());
      return { kind: 'in', negated: rng.chance(0.5), operand: sub(), items, span: SPAN };
    }
    case 4:
      return { kind: 'isNull', negated: rng.chance(0.5), operand: sub(), span: SPAN };
    case 5: {
      if (rng.chance(0.3)) {
        return {
          kind: 'overlaps',
          operand: sub(),
          region: { kind: 'bind', name: 'region', span: SPAN },
          span: SPAN,
        };
      }
      const shape = rng.pick(SHAPES);
      const count = { point: 2, circle: 3, box: 4, polygon: 2 * rng.int(3, 5) }[shape];
      const args = Array.from({ length: count }, sub);
      return {
        kind: 'overlaps',
        operand: sub(),
        region: { kind: 'regionCall', shape, args, span: SPAN },
        span: SPAN,
      };
    }
    case 6:
    case 7:
      return {
        kind: 'arith',
        op: rng.pick(['+', '-', '*', '/', '%'] as const),
        left: sub(),
        right: sub(),
        span: SPAN,
      };
    case 8:
      return { kind: 'neg', operand: sub(), span: SPAN };
    default:
      return leaf(rng);
  }
}

function isExpr(n: Node): n is Expr {
  return n.kind !== 'range' && n.kind !== 'regionCall';
}

describe('formatExpr / parseWhere round trip (property)', () => {
  const TRIALS = 3000;

  it(`${TRIALS} random trees print and parse back to themselves`, () => {
    const rng = new Rng(20260102);
    let nodes = 0;
    for (let trial = 0; trial < TRIALS; trial++) {
      const tree = expr(rng, rng.int(1, 6));
      const text = formatExpr(tree);
      const back = parseWhere(text);
      if (back === null) throw new Error(`trial ${trial}: ${text} parsed to nothing`);
      expect(stripSpans(back), `trial ${trial}: ${text}`).toEqual(stripSpans(tree));
      expect(formatExpr(back)).toBe(text);
      walkNodes(back, () => {
        nodes++;
      });
    }
    // The generator must really produce deep trees, not just leaves.
    expect(nodes / TRIALS).toBeGreaterThan(8);
  });

  it('every node span covers text that parses to that node alone', () => {
    const rng = new Rng(7);
    for (let trial = 0; trial < 500; trial++) {
      const text = formatExpr(expr(rng, rng.int(1, 5)));
      const root = parseWhere(text)!;
      expect(root.span, text).toEqual({ start: 0, end: text.length });
      walkNodes(root, (n) => {
        expect(n.span.start).toBeGreaterThanOrEqual(0);
        expect(n.span.end).toBeLessThanOrEqual(text.length);
        if (!isExpr(n)) return;
        const slice = text.slice(n.span.start, n.span.end);
        const alone = parseWhere(slice);
        expect(alone === null ? null : stripSpans(alone), `${slice} in ${text}`).toEqual(
          stripSpans(n),
        );
      });
    }
  });

  it('parses extra whitespace and lower-case keywords to the same trees', () => {
    const rng = new Rng(99);
    for (let trial = 0; trial < 300; trial++) {
      const tree = expr(rng, rng.int(1, 5));
      const text = formatExpr(tree);
      // Widen every space and lower-case the keywords (outside strings and times).
      const loose = text.replace(
        /('(?:[^']|'')*')|(?<![.\w])(AND|OR|NOT|IN|IS|NULL|TRUE|FALSE|OVERLAPS)\b| /g,
        (_m, str: string | undefined, kw: string | undefined) =>
          str !== undefined ? str : kw !== undefined ? kw.toLowerCase() : ' \t\n ',
      );
      expect(stripSpans(parseWhere(loose)), loose).toEqual(stripSpans(tree));
    }
  });
});
