/**
 * The visit table shared by the SQLite and PostgreSQL tests: its rows, expressions with
 * independently stated answers, and random typed conditions with a JavaScript evaluator.
 */

import type { Expr, InItem } from '../../../src/butler/expr/index.ts';
import type { Rng } from './random.ts';

const SPAN = { start: 0, end: 0 };

/** One row of the test table `visit`. */
export interface VisitRow {
  id: number;
  exposure_time: number;
  band: string;
  day_obs: number;
  obs_start: string;
  science_program: string | null;
  /** 0 or 1 (stored as INTEGER in SQLite, BOOLEAN in PostgreSQL). */
  is_good: number;
  ra: number;
  dec: number;
}

export const BANDS = ['g', 'r', 'i', 'z'] as const;

/** Visits 1..120, a cluster 5000..5010 and one at 100000, with fields derived from the id. */
function makeRows(): VisitRow[] {
  const ids = [
    ...Array.from({ length: 120 }, (_, k) => k + 1),
    ...Array.from({ length: 11 }, (_, k) => 5000 + k),
    100000,
  ];
  return ids.map((id) => {
    const day = 1 + (id % 7);
    return {
      id,
      exposure_time: id % 3 === 0 ? 15 : 30.5,
      band: BANDS[id % 4]!,
      day_obs: 20260100 + day,
      obs_start: `2026-01-0${day}T${String(id % 24).padStart(2, '0')}:00:00`,
      science_program: id % 5 === 0 ? null : id % 2 === 0 ? 'deep' : 'wide',
      is_good: id % 6 === 1 ? 0 : 1,
      ra: 148 + (id % 10) * 0.5,
      dec: 1 + (id % 5) * 0.5,
    };
  });
}

/** Angular separation in degrees (haversine), for the fixture's overlap SQL. */
export function skySepDeg(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const r = Math.PI / 180;
  const h =
    Math.sin(((dec2 - dec1) * r) / 2) ** 2 +
    Math.cos(dec1 * r) * Math.cos(dec2 * r) * Math.sin(((ra2 - ra1) * r) / 2) ** 2;
  return (2 * Math.asin(Math.min(1, Math.sqrt(h)))) / r;
}

/** The rows of the visit table. */
export const VISIT_ROWS: readonly VisitRow[] = makeRows();

/** A where-expression, its binds, and the rows it must select, said independently in JS. */
export type VisitCase = [
  text: string,
  bind: Record<string, unknown> | undefined,
  pred: (r: VisitRow) => boolean,
];

/** Expressions of every kind, each with the JavaScript predicate that defines its answer. */
export const VISIT_CASES: readonly VisitCase[] = [
  ['visit = 12', undefined, (r) => r.id === 12],
  ["band = 'r'", undefined, (r) => r.band === 'r'],
  ['visit IN (1..10)', undefined, (r) => r.id >= 1 && r.id <= 10],
  ['visit IN (3..30:9)', undefined, (r) => [3, 12, 21, 30].includes(r.id)],
  // 28572 values: compiled to BETWEEN + modulus, not expanded
  ['visit IN (0..200000:7)', undefined, (r) => r.id % 7 === 0],
  ['visit IN (5001..200000:3)', undefined, (r) => r.id >= 5001 && (r.id - 5001) % 3 === 0],
  ['visit NOT IN (1..100, 5003)', undefined, (r) => r.id > 100 && r.id !== 5003],
  ['visit NOT IN (2..100000:2)', undefined, (r) => r.id % 2 === 1],
  [
    'visit NOT IN (1..5, 10..2000, 7)',
    undefined,
    (r) => !(r.id <= 5 || r.id === 7 || (r.id >= 10 && r.id <= 2000)),
  ],
  [
    "visit IN (:ids) AND band IN ('g', 'r')",
    { ids: [1, 2, 4, 5, 6, 8, 5008] },
    (r) => [1, 2, 4, 5, 6, 8, 5008].includes(r.id) && (r.band === 'g' || r.band === 'r'),
  ],
  [
    "visit.exposure_time > 20 AND NOT band = 'g'",
    undefined,
    (r) => r.exposure_time > 20 && r.band !== 'g',
  ],
  [
    'visit % 10 = 3 OR visit.exposure_time * 2 < 30.5',
    undefined,
    (r) => r.id % 10 === 3 || r.exposure_time * 2 < 30.5,
  ],
  [
    "visit.obs_start >= T'2026-01-03' AND visit.obs_start < T'2026-01-05T00:00:00'",
    undefined,
    (r) => r.obs_start >= '2026-01-03' && r.obs_start < '2026-01-05',
  ],
  ['visit.science_program IS NULL', undefined, (r) => r.science_program === null],
  // NULL never equals or differs: rows without a program drop out of both
  [
    "visit.science_program != 'deep'",
    undefined,
    (r) => r.science_program !== null && r.science_program !== 'deep',
  ],
  [
    'visit OVERLAPS CIRCLE(150, 2, 1) AND visit < 100',
    undefined,
    (r) => skySepDeg(r.ra, r.dec, 150, 2) <= 1 && r.id < 100,
  ],
  [
    'visit OVERLAPS BOX(149, 1.5, 1, 1)',
    undefined,
    (r) => r.ra >= 148.5 && r.ra <= 149.5 && r.dec >= 1 && r.dec <= 2,
  ],
  ['visit.is_good AND visit IN (1..20)', undefined, (r) => r.is_good === 1 && r.id <= 20],
  ['visit.is_good = FALSE', undefined, (r) => r.is_good === 0],
  ['visit NOT IN (:none)', { none: [] }, () => true],
  ['-visit > -5', undefined, (r) => -r.id > -5],
  // integer division truncates, as in SQL
  ['visit / 2 = 3', undefined, (r) => Math.trunc(r.id / 2) === 3],
  ['(visit - 100) / 7 = -2', undefined, (r) => Math.trunc((r.id - 100) / 7) === -2],
  ['visit.exposure_time / 2 > 15', undefined, (r) => r.exposure_time / 2 > 15],
  [
    'visit.day_obs = :d AND band = :b',
    { d: 20260103, b: 'i' },
    (r) => r.day_obs === 20260103 && r.band === 'i',
  ],
];

type Num = { e: Expr; int: boolean };

function lit(value: number, int: boolean): Expr {
  return { kind: int ? 'int' : 'float', value, span: SPAN };
}

function col(path: string[]): Expr {
  return { kind: 'ident', path, span: SPAN };
}

function numExpr(rng: Rng, depth: number): Num {
  if (depth <= 0 || rng.chance(0.35)) {
    switch (rng.int(0, 4)) {
      case 0:
        return { e: col(['visit']), int: true };
      case 1:
        return { e: col(['visit', 'day_obs']), int: true };
      case 2:
        return { e: col(['visit', 'exposure_time']), int: false };
      case 3:
        return { e: lit(rng.int(-20, 150), true), int: true };
      default:
        return { e: lit(rng.pick([0.5, 15, 30.5, 2.25, -1.5]), false), int: false };
    }
  }
  const left = numExpr(rng, depth - 1);
  const op = rng.pick(['+', '-', '*', '/', '%', 'neg'] as const);
  if (op === 'neg') return { e: { kind: 'neg', operand: left.e, span: SPAN }, int: left.int };
  if (op === '*' || op === '/' || op === '%') {
    // Small literal factors and divisors: no overflow, no division by zero.
    if (op === '%' && !left.int) return left;
    const int = op === '%' || left.int ? rng.chance(0.8) || op === '%' : false;
    const right = lit(int ? rng.int(1, 7) : rng.pick([0.5, 2, 4]), int);
    return { e: { kind: 'arith', op, left: left.e, right, span: SPAN }, int: left.int && int };
  }
  const right = numExpr(rng, depth - 1);
  return {
    e: { kind: 'arith', op, left: left.e, right: right.e, span: SPAN },
    int: left.int && right.int,
  };
}

/** A random, well-typed condition over the visit table's columns. */
export function condExpr(rng: Rng, depth: number): Expr {
  const choice = depth <= 0 ? rng.int(3, 6) : rng.int(0, 6);
  switch (choice) {
    case 0:
      return {
        kind: 'logical',
        op: rng.chance(0.5) ? 'AND' : 'OR',
        left: condExpr(rng, depth - 1),
        right: condExpr(rng, depth - 1),
        span: SPAN,
      };
    case 1:
      return { kind: 'not', operand: condExpr(rng, depth - 1), span: SPAN };
    case 2:
    case 3:
      return {
        kind: 'compare',
        op: rng.pick(['=', '!=', '<', '<=', '>', '>='] as const),
        left: numExpr(rng, 2).e,
        right: numExpr(rng, 1).e,
        span: SPAN,
      };
    case 4: {
      const items: InItem[] = [];
      for (let i = rng.int(1, 4); i > 0; i--) {
        if (rng.chance(0.5)) {
          items.push(lit(rng.int(-5, 130), true));
        } else {
          const start = rng.int(-10, 6000);
          const end = start + (rng.chance(0.5) ? rng.int(0, 40) : rng.int(1000, 200000));
          items.push({
            kind: 'range',
            start,
            end,
            stride: rng.chance(0.4) ? null : rng.int(1, 9),
            span: SPAN,
          });
        }
      }
      const operand = rng.chance(0.6) ? col(['visit']) : numExpr(rng, 2).e;
      const isInt = operand.kind === 'ident' || isIntExpr(operand);
      return {
        kind: 'in',
        negated: rng.chance(0.5),
        operand: isInt ? operand : col(['visit']),
        items,
        span: SPAN,
      };
    }
    case 5: {
      const band = (b: string): Expr => ({ kind: 'string', value: b, span: SPAN });
      if (rng.chance(0.5)) {
        return {
          kind: 'compare',
          op: rng.pick(['=', '!=', '<', '>='] as const),
          left: col(['band']),
          right: band(rng.pick(BANDS)),
          span: SPAN,
        };
      }
      const chosen = BANDS.filter(() => rng.chance(0.5));
      return {
        kind: 'in',
        negated: rng.chance(0.5),
        operand: col(['band']),
        items: (chosen.length > 0 ? chosen : ['x']).map(band),
        span: SPAN,
      };
    }
    default:
      return { kind: 'bool', value: rng.chance(0.5), span: SPAN };
  }
}

function isIntExpr(e: Expr): boolean {
  switch (e.kind) {
    case 'int':
      return true;
    case 'ident':
      return e.path.join('.') !== 'visit.exposure_time';
    case 'neg':
      return isIntExpr(e.operand);
    case 'arith':
      return isIntExpr(e.left) && isIntExpr(e.right);
    default:
      return false;
  }
}

/** The value of `e` on row `r`, with SQL's integer division; conditions give booleans. */
export function evalValue(e: Expr, r: VisitRow): number | string | boolean {
  switch (e.kind) {
    case 'int':
    case 'float':
    case 'string':
    case 'bool':
      return e.value;
    case 'ident': {
      const key = e.path.join('.');
      if (key === 'visit') return r.id;
      if (key === 'band') return r.band;
      if (key === 'visit.day_obs') return r.day_obs;
      if (key === 'visit.exposure_time') return r.exposure_time;
      throw new Error(`no column ${key}`);
    }
    case 'neg':
      return -(evalValue(e.operand, r) as number);
    case 'arith': {
      const a = evalValue(e.left, r) as number;
      const b = evalValue(e.right, r) as number;
      switch (e.op) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '/':
          return isIntExpr(e) ? Math.trunc(a / b) : a / b;
        case '%':
          return a % b;
      }
      break;
    }
    case 'compare': {
      const a = evalValue(e.left, r);
      const b = evalValue(e.right, r);
      switch (e.op) {
        case '=':
          return a === b;
        case '!=':
          return a !== b;
        case '<':
          return a < b;
        case '<=':
          return a <= b;
        case '>':
          return a > b;
        case '>=':
          return a >= b;
      }
      break;
    }
    case 'logical': {
      const a = evalValue(e.left, r) as boolean;
      const b = evalValue(e.right, r) as boolean;
      return e.op === 'AND' ? a && b : a || b;
    }
    case 'not':
      return !evalValue(e.operand, r);
    case 'in': {
      const v = evalValue(e.operand, r);
      const hit = e.items.some((item) => {
        if (item.kind !== 'range') return evalValue(item, r) === v;
        const s = item.stride ?? 1;
        return (
          typeof v === 'number' && v >= item.start && v <= item.end && (v - item.start) % s === 0
        );
      });
      return e.negated ? !hit : hit;
    }
    default:
      break;
  }
  throw new Error(`cannot evaluate ${e.kind}`);
}
