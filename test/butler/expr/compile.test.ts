import { describe, expect, it } from 'vitest';
import {
  type CompiledWhere,
  compileWhere,
  type Expr,
  ExprError,
  joinFragments,
  parseWhere,
  RANGE_EXPAND_LIMIT,
  renderSql,
  type SqlFragment,
  WhereBindError,
  WhereNameError,
  WhereTypeError,
  where,
} from '../../../src/butler/expr/index.ts';
import { FixtureSchema } from './schema-fixture.ts';

const schema = new FixtureSchema();

/** SQL with '?' placeholders, for readable assertions. */
function sqlOf(f: SqlFragment): string {
  expect(f.text.length).toBe(f.values.length + 1);
  return renderSql(f, () => '?');
}

function compiled(text: string, bind?: Record<string, unknown>): CompiledWhere {
  return where(text, schema, bind);
}

/** The error `where` throws for `text` (fails the test when it compiles). */
function failure(text: string, bind?: Record<string, unknown>): ExprError {
  try {
    where(text, schema, bind);
  } catch (e) {
    if (e instanceof ExprError) return e;
    throw e;
  }
  throw new Error(`expected ${JSON.stringify(text)} not to compile`);
}

/** The part of the expression an error points at. */
function pointedAt(err: ExprError): string {
  if (err.span === null) throw new Error('error has no span');
  return err.expression.slice(err.span.start, err.span.end);
}

describe('compileWhere: SQL text and values', () => {
  it.each<[string, string, unknown[], string[]]>([
    ['visit = 12', '"visit"."id" = ?', [12], ['visit']],
    ['visit != 12', '"visit"."id" <> ?', [12], ['visit']],
    ['visit <> 12', '"visit"."id" <> ?', [12], ['visit']],
    [
      "visit.exposure_time > 30 AND band = 'r'",
      '("visit"."exposure_time" > ? AND "visit"."band" = ?)',
      [30, 'r'],
      ['visit', 'band'],
    ],
    [
      "instrument = 'LSSTCam' AND (band = 'g' OR band = 'r')",
      '("instrument"."name" = ? AND ("visit"."band" = ? OR "visit"."band" = ?))',
      ['LSSTCam', 'g', 'r'],
      ['instrument', 'band'],
    ],
    [
      'visit = 1 OR visit = 2 AND detector = 3',
      '("visit"."id" = ? OR "visit"."id" = ? AND "detector"."id" = ?)',
      [1, 2, 3],
      ['visit', 'detector'],
    ],
    ['NOT visit = 1', 'NOT "visit"."id" = ?', [1], ['visit']],
    [
      'NOT (visit = 1 OR visit = 2)',
      'NOT ("visit"."id" = ? OR "visit"."id" = ?)',
      [1, 2],
      ['visit'],
    ],
    ['NOT NOT visit = 1', 'NOT (NOT "visit"."id" = ?)', [1], ['visit']],
    [
      'visit.exposure_time * 2 + 1 > :t',
      '"visit"."exposure_time" * ? + ? > ?',
      [2, 1, 29.5],
      ['visit'],
    ],
    ['(visit + 1) * 2 = 8', '("visit"."id" + ?) * ? = ?', [1, 2, 8], ['visit']],
    [
      'visit - (1 - 2) = 8',
      '"visit"."id" - (CAST(? AS BIGINT) - CAST(? AS BIGINT)) = ?',
      [1, 2, 8],
      ['visit'],
    ],
    // integer division truncates even where the driver binds numbers as floats
    ['visit / 2 = 3', 'CAST("visit"."id" / ? AS BIGINT) = ?', [2, 3], ['visit']],
    ['visit.exposure_time / 2 = 3', '"visit"."exposure_time" / ? = ?', [2, 3], ['visit']],
    // a float placeholder next to an integer, or two placeholders, get explicit types
    ['visit > 1.5', '"visit"."id" > CAST(? AS DOUBLE PRECISION)', [1.5], ['visit']],
    ['visit.exposure_time > 30', '"visit"."exposure_time" > ?', [30], ['visit']],
    ['1 + 2 = visit', 'CAST(? AS BIGINT) + CAST(? AS BIGINT) = "visit"."id"', [1, 2], ['visit']],
    ['-:t < visit', '-CAST(? AS DOUBLE PRECISION) < "visit"."id"', [29.5], ['visit']],
    [
      'visit IN (1, 2.5, :t)',
      '"visit"."id" IN (?, CAST(? AS DOUBLE PRECISION), CAST(? AS DOUBLE PRECISION))',
      [1, 2.5, 29.5],
      ['visit'],
    ],
    ['visit % 2 = 0', '"visit"."id" % ? = ?', [2, 0], ['visit']],
    ['-visit.exposure_time < -5', '-"visit"."exposure_time" < ?', [-5], ['visit']],
    ['-(-visit) = 1', '-(-"visit"."id") = ?', [1], ['visit']],
    ['visit - -2 = 1', '"visit"."id" - ? = ?', [-2, 1], ['visit']],
    [
      "visit.obs_start > T'2026-01-02 03:04:05'",
      '"visit"."obs_start" > ?',
      ['2026-01-02T03:04:05'],
      ['visit'],
    ],
    [
      "visit.obs_start < '2026-01-02'",
      '"visit"."obs_start" < ?',
      ['2026-01-02T00:00:00'],
      ['visit'],
    ],
    ['visit.is_good = TRUE', '"visit"."is_good" = (1=1)', [], ['visit']],
    ['visit.is_good', '"visit"."is_good"', [], ['visit']],
    ['NOT visit.is_good', 'NOT "visit"."is_good"', [], ['visit']],
    ['visit.science_program IS NULL', '"visit"."science_program" IS NULL', [], ['visit']],
    ['visit.science_program IS NOT NULL', '"visit"."science_program" IS NOT NULL', [], ['visit']],
    ['detector.full_name = :n', '"detector"."full_name" = ?', ['R22_S11'], ['detector']],
    ['patch.cell_x >= 3', '"patch"."cell_x" >= ?', [3], ['patch']],
  ])('%s', (text, sql, values, elements) => {
    const c = compiled(text, { t: 29.5, n: 'R22_S11' });
    expect(sqlOf(c.fragment)).toBe(sql);
    expect(c.fragment.values).toEqual(values);
    expect([...c.elements].sort()).toEqual([...elements].sort());
  });

  it('returns 1=1 for empty text', () => {
    for (const text of ['', '  \n ']) {
      const c = compiled(text);
      expect(c.fragment).toEqual({ text: ['1=1'], values: [] });
      expect(c.elements.size).toBe(0);
    }
  });
});

describe('compileWhere: IN lists and ranges', () => {
  it('expands small ranges and strides into the value list', () => {
    const c = compiled('visit IN (1, 3..5, 10..14:2, 20..21:5)');
    expect(sqlOf(c.fragment)).toBe('"visit"."id" IN (?, ?, ?, ?, ?, ?, ?, ?)');
    expect(c.fragment.values).toEqual([1, 3, 4, 5, 10, 12, 14, 20]);
  });

  it(`expands a range of exactly ${RANGE_EXPAND_LIMIT} values, not one more`, () => {
    const atLimit = compiled(`visit IN (1..${RANGE_EXPAND_LIMIT})`);
    expect(atLimit.fragment.values).toHaveLength(RANGE_EXPAND_LIMIT);
    expect(atLimit.fragment.values[RANGE_EXPAND_LIMIT - 1]).toBe(RANGE_EXPAND_LIMIT);
    const over = compiled(`visit IN (1..${RANGE_EXPAND_LIMIT + 1})`);
    expect(sqlOf(over.fragment)).toBe('"visit"."id" BETWEEN ? AND ?');
    expect(over.fragment.values).toEqual([1, RANGE_EXPAND_LIMIT + 1]);
  });

  it('compiles a large strided range to BETWEEN plus a modulus test', () => {
    const c = compiled('visit IN (3..100000:7)');
    expect(sqlOf(c.fragment)).toBe('("visit"."id" BETWEEN ? AND ? AND ("visit"."id" - ?) % ? = 0)');
    expect(c.fragment.values).toEqual([3, 100000, 3, 7]);
  });

  it('ORs list and large ranges, and negates the whole for NOT IN', () => {
    const inList = compiled('visit IN (1, 2, 10..5000)');
    expect(sqlOf(inList.fragment)).toBe('("visit"."id" IN (?, ?) OR "visit"."id" BETWEEN ? AND ?)');
    expect(inList.fragment.values).toEqual([1, 2, 10, 5000]);
    const notIn = compiled('visit NOT IN (1, 2, 10..5000)');
    expect(sqlOf(notIn.fragment)).toBe(
      'NOT ("visit"."id" IN (?, ?) OR "visit"."id" BETWEEN ? AND ?)',
    );
    expect(sqlOf(compiled('visit NOT IN (1, 5..6)').fragment)).toBe(
      '"visit"."id" NOT IN (?, ?, ?)',
    );
    expect(sqlOf(compiled('visit NOT IN (1..5000)').fragment)).toBe(
      'NOT "visit"."id" BETWEEN ? AND ?',
    );
  });

  it('expands array binds into the list and accepts scalar binds', () => {
    const c = compiled('visit IN (:ids, 7, :one)', { ids: [1, 2], one: 9 });
    expect(sqlOf(c.fragment)).toBe('"visit"."id" IN (?, ?, ?, ?)');
    expect(c.fragment.values).toEqual([1, 2, 7, 9]);
    const strings = compiled("band IN (:bands, 'y')", { bands: ['g', 'r'] });
    expect(strings.fragment.values).toEqual(['g', 'r', 'y']);
  });

  it('treats an empty array bind as an empty set', () => {
    expect(compiled('visit IN (:ids)', { ids: [] }).fragment).toEqual({
      text: ['(1=0)'],
      values: [],
    });
    expect(compiled('visit NOT IN (:ids)', { ids: [] }).fragment).toEqual({
      text: ['(1=1)'],
      values: [],
    });
    expect(sqlOf(compiled('visit IN (:ids, 4)', { ids: [] }).fragment)).toBe('"visit"."id" IN (?)');
  });

  it('allows names and arithmetic as entries', () => {
    const c = compiled('visit IN (detector, detector + 1, 5)');
    expect(sqlOf(c.fragment)).toBe('"visit"."id" IN ("detector"."id", "detector"."id" + ?, ?)');
    expect(c.fragment.values).toEqual([1, 5]);
    expect([...c.elements].sort()).toEqual(['detector', 'visit']);
  });

  it('keeps plain ranges on floating-point columns', () => {
    const c = compiled('visit.exposure_time IN (10..2000)');
    expect(sqlOf(c.fragment)).toBe('"visit"."exposure_time" BETWEEN ? AND ?');
  });
});

describe('compileWhere: OVERLAPS', () => {
  it('passes region literals to the schema and wraps its SQL', () => {
    const s = new FixtureSchema();
    const c = where('visit OVERLAPS CIRCLE(150, -2, 0.5) AND band = :b', s, { b: 'r' });
    expect(sqlOf(c.fragment)).toBe(
      '((sky_sep_deg("visit"."ra", "visit"."dec", ?, ?) <= ?) AND "visit"."band" = ?)',
    );
    expect(c.fragment.values).toEqual([150, -2, 0.5, 'r']);
    expect([...c.elements].sort()).toEqual(['band', 'visit']);
    expect(s.overlapCalls).toEqual([
      { path: ['visit'], region: { kind: 'circle', ra: 150, dec: -2, radius: 0.5 } },
    ]);
  });

  it('builds every region kind, evaluating binds and arithmetic in arguments', () => {
    const s = new FixtureSchema();
    where('patch.region OVERLAPS POINT(10.5, -3)', s);
    where('visit OVERLAPS CIRCLE(:ra, :dec, :r * 2)', s, { ra: 150.25, dec: 2.5, r: 0.1 });
    where('visit.region OVERLAPS BOX(10, 20, 1, 0.5 + 0.25)', s);
    where('patch OVERLAPS POLYGON(0, 0, 1, 0, 1, -1)', s);
    expect(s.overlapCalls.map((c) => c.region)).toEqual([
      { kind: 'point', ra: 10.5, dec: -3 },
      { kind: 'circle', ra: 150.25, dec: 2.5, radius: 0.2 },
      { kind: 'box', ra: 10, dec: 20, width: 1, height: 0.75 },
      {
        kind: 'polygon',
        vertices: [
          [0, 0],
          [1, 0],
          [1, -1],
        ],
      },
    ]);
    expect(s.overlapCalls.map((c) => c.path)).toEqual([
      ['patch', 'region'],
      ['visit'],
      ['visit', 'region'],
      ['patch'],
    ]);
  });

  it('accepts a region literal as a bind', () => {
    const s = new FixtureSchema();
    const region = { kind: 'box', ra: 30, dec: -10, width: 2, height: 4 };
    const c = where('patch OVERLAPS :r', s, { r: region });
    expect(s.overlapCalls[0]!.region).toEqual(region);
    expect(c.fragment.values).toEqual([29, 31, -12, -8]);
    expect([...c.elements]).toEqual(['patch']);
  });
});

describe('compileWhere: injection attempts stay values', () => {
  const nasty = "r'; DROP TABLE x; --";

  function expectNoValueInText(c: CompiledWhere): void {
    const text = c.fragment.text.join('');
    for (const v of c.fragment.values) {
      if (typeof v === 'string' && v.length > 2) expect(text).not.toContain(v);
    }
    expect(text).not.toContain('DROP');
    expect(text).not.toContain('--');
  }

  it('a quoted literal with an escaped quote is one bound string', () => {
    const c = compiled("band = 'r''; DROP TABLE x; --'");
    expect(sqlOf(c.fragment)).toBe('"visit"."band" = ?');
    expect(c.fragment.values).toEqual([nasty]);
    expectNoValueInText(c);
  });

  it('bind values, IN lists and double-quoted strings are bound too', () => {
    for (const c of [
      compiled('band = :b', { b: nasty }),
      compiled("band IN (:bs, 'x'')--')", { bs: [nasty, "'); DELETE FROM visit; --"] }),
      compiled('band = "r""; DROP TABLE x; --"'),
      compiled("visit.science_program = 'a'' OR ''1''=''1'"),
    ]) {
      expectNoValueInText(c);
      expect(c.fragment.values.length).toBeGreaterThan(0);
    }
  });

  it('names cannot smuggle SQL: the lexer stops at the first odd character', () => {
    expect(() => compiled('band = r;DROP')).toThrow(/unexpected character ";"/);
    expect(() => compiled('visit = 1 -- AND 1=0')).toThrow(/'--'/);
    expect(() => compiled('visit = 1 /* c */')).toThrow(/unexpected/);
  });

  it('refuses non-scalar bind values instead of stringifying them', () => {
    expect(() => compiled('band = :b', { b: { toString: () => "'; DROP" } })).toThrow(
      WhereBindError,
    );
  });
});

describe('compileWhere: unknown names', () => {
  it('says strings need single quotes for band = r', () => {
    const err = failure('band = r');
    expect(err).toBeInstanceOf(WhereNameError);
    expect(err.code).toBe('WHERE_UNKNOWN_NAME');
    expect(pointedAt(err)).toBe('r');
    expect(err.hint).toContain("strings need single quotes: band = 'r'");
    expect(err.message).toContain("unknown name 'r' at column 8");
  });

  it('quotes an unknown name on the left side as well', () => {
    const err = failure('g = band');
    expect(err.hint).toContain("strings need single quotes: 'g' = band");
  });

  it('suggests a close name', () => {
    const err = failure("bnd = 'r'");
    expect(err).toBeInstanceOf(WhereNameError);
    expect(err.hint).toMatch(/did you mean band\?/);
    expect(pointedAt(err)).toBe('bnd');
  });

  it("lists an element's fields for an unknown dotted field", () => {
    const err = failure('visit.exposure_tim > 30');
    expect(err).toBeInstanceOf(WhereNameError);
    expect(err.detail).toBe("visit has no field 'exposure_tim'");
    expect(pointedAt(err)).toBe('exposure_tim');
    expect(err.hint).toContain('did you mean visit.exposure_time?');
    expect(err.hint).toContain(
      'fields of visit: day_obs, exposure_time, is_good, obs_start, region, science_program',
    );
    const det = failure("detector.foo = 'x'");
    expect(det.hint).toContain('fields of detector: full_name, purpose');
  });

  it('names an unknown element in a dotted name', () => {
    const err = failure('vist.exposure_time > 30');
    expect(err.detail).toBe("unknown name 'vist' in 'vist.exposure_time'");
    expect(pointedAt(err)).toBe('vist');
    expect(err.hint).toContain('did you mean visit.exposure_time?');
  });
});

describe('compileWhere: type errors', () => {
  it.each<[string, string, RegExp]>([
    ['band = 1', '1', /strings need single quotes: band = '1'/],
    ["visit = '12'", "'12'", /write numbers without quotes: visit = 12/],
    ['visit.obs_start > 5', '5', /holds times/],
    ["visit.obs_start > 'yesterday'", "'yesterday'", /ISO-8601/],
    ["band + 1 = 'r'", 'band', /arithmetic/],
    ['visit.exposure_time % 2 = 0', 'visit.exposure_time', /integer operands/],
    ["-band = 'r'", 'band', /unary minus works on/],
    ['visit', 'visit', /condition such as/],
    ['visit = 1 AND 5', '5', /comparison/],
    ['NOT visit', 'visit', /comparison/],
    ['visit.region = 1', 'visit.region', /OVERLAPS/],
    ['visit = NULL', 'NULL', /use IS NULL: visit IS NULL/],
    ['visit != NULL', 'NULL', /use IS NOT NULL/],
    ["band IN ('r', 3)", '3', /strings need single quotes: '3'/],
    ["visit IN (1, '2')", "'2'", /write numbers without quotes: 2/],
    ['band IN (1..3)', '1..3', /list strings one by one/],
    ['visit IN (1, NULL)', 'NULL', /IS NULL/],
    ['visit.exposure_time IN (1..10:2)', '1..10:2', /drop the stride \(1\.\.10\)/],
    ['visit.is_good < TRUE', 'visit.is_good < TRUE', /test a boolean directly/],
    ['visit.is_good = 1', '1', /booleans/],
    ['visit.exposure_time OVERLAPS POINT(1, 2)', 'visit.exposure_time', /name a region/],
    ['(visit + 1) OVERLAPS POINT(1, 2)', 'visit + 1', /visit.region OVERLAPS/],
    ['visit OVERLAPS CIRCLE(1, 95, 1)', '95', /dec lies in \[-90, 90\]/],
    ['visit OVERLAPS CIRCLE(1, 2, 0)', '0', /angles are in degrees/],
    ['visit OVERLAPS BOX(1, 2, 3, -1)', '-1', /angles are in degrees/],
    ['visit OVERLAPS POINT(visit, 2)', 'visit', /use numbers, :binds holding numbers/],
    ["visit OVERLAPS POINT('a', 2)", "'a'", /use numbers, :binds holding numbers/],
  ])('%s', (text, at, hint) => {
    const err = failure(text);
    expect(err).toBeInstanceOf(WhereTypeError);
    expect(err.code).toBe('WHERE_TYPE');
    expect(pointedAt(err)).toBe(at);
    expect(err.hint ?? '').toMatch(hint);
  });

  it('allows int with float, and times with time strings and Dates', () => {
    expect(compiled('visit.exposure_time > 30').fragment.values).toEqual([30]);
    expect(compiled('visit > 1.5').fragment.values).toEqual([1.5]);
    const c = compiled('visit.obs_start >= :t0 AND visit.obs_start < :t1', {
      t0: new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 250)),
      t1: '2026-01-03 00:00',
    });
    expect(c.fragment.values).toEqual(['2026-01-02T03:04:05.25', '2026-01-03T00:00:00']);
  });
});

describe('compileWhere: regions the schema lacks', () => {
  it('is a name error with the known regions suggested', () => {
    const err = failure('detector OVERLAPS POINT(1, 2)');
    expect(err).toBeInstanceOf(WhereNameError);
    expect(pointedAt(err)).toBe('detector');
    expect(err.detail).toBe("'detector' has no region");
    const close = failure('pach OVERLAPS POINT(1, 2)');
    expect(close.hint).toMatch(/did you mean patch/);
  });
});

describe('compileWhere: bind errors', () => {
  it('reports a missing bind with its position and the binds that were given', () => {
    const err = failure('visit = :vist AND band = :b', { visit: 12, b: 'r' });
    expect(err).toBeInstanceOf(WhereBindError);
    expect(err.code).toBe('WHERE_BIND');
    expect(pointedAt(err)).toBe(':vist');
    expect(err.hint).toContain('did you mean :visit?');
    const none = failure('visit = :v');
    expect(none.hint).toContain('pass it in the bind map: { v: ... }');
  });

  it('does not find binds on the prototype or with undefined values', () => {
    expect(failure('visit = :constructor', {})).toBeInstanceOf(WhereBindError);
    expect(failure('visit = :v', { v: undefined })).toBeInstanceOf(WhereBindError);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    ['visit = :v', { v: [1, 2] }, /only allowed in an IN list/],
    ['visit = :v', { v: Number.NaN }, /is NaN/],
    ['visit = :v', { v: Number.POSITIVE_INFINITY }, /Infinity/],
    ['visit = :v', { v: { a: 1 } }, /unsupported type/],
    ['visit = :v', { v: '12' }, /cannot compare visit/],
    ['visit IN (:v)', { v: [1, 'a'] }, /IN list entry/],
    ['visit IN (:v)', { v: [1, null] }, /holds a null/],
    ['visit IN (:v)', { v: [[1]] }, /nested list/],
    ['visit.obs_start > :t', { t: 'soon' }, /not a time/],
    ['visit.obs_start > :t', { t: new Date(Number.NaN) }, /invalid Date/],
    ['visit OVERLAPS :r', { r: 5 }, /not a region/],
    ['visit OVERLAPS :r', { r: { kind: 'circle', ra: 1, dec: 2 } }, /radius/],
    ['visit OVERLAPS :r', { r: { kind: 'point', ra: 1, dec: 100 } }, /dec 100/],
    [
      'visit OVERLAPS :r',
      {
        r: {
          kind: 'polygon',
          vertices: [
            [0, 0],
            [1, 1],
          ],
        },
      },
      /at least 3/,
    ],
    ['visit OVERLAPS CIRCLE(:ra, 2, 1)', { ra: '10' }, /finite number/],
    ['visit OVERLAPS CIRCLE(1, :dec, 1)', { dec: -91 }, /invalid CIRCLE dec/],
  ])('%s with %o', (text, bind, detail) => {
    const err = failure(text, bind);
    expect(err).toBeInstanceOf(WhereBindError);
    expect(err.detail).toMatch(detail);
    expect(pointedAt(err)).toMatch(/^:/);
  });
});

describe('compileWhere on trees not from the parser', () => {
  it('compiles a hand-built tree and points errors into its printed form', () => {
    const span = { start: 0, end: 0 };
    const tree: Expr = {
      kind: 'logical',
      op: 'AND',
      left: {
        kind: 'compare',
        op: '=',
        left: { kind: 'ident', path: ['band'], span },
        right: { kind: 'string', value: 'r', span },
        span,
      },
      right: {
        kind: 'compare',
        op: '>',
        left: { kind: 'ident', path: ['visit', 'exposure_tim'], span },
        right: { kind: 'int', value: 30, span },
        span,
      },
      span,
    };
    const err = (() => {
      try {
        compileWhere(tree, schema);
      } catch (e) {
        return e as ExprError;
      }
      throw new Error('expected a name error');
    })();
    expect(err.expression).toBe("band = 'r' AND visit.exposure_tim > 30");
    expect(pointedAt(err)).toBe('exposure_tim');
    const ok = compileWhere(
      { ...tree, right: { ...tree.right, left: { kind: 'ident', path: ['visit'], span } } } as Expr,
      schema,
    );
    expect(sqlOf(ok.fragment)).toBe('("visit"."band" = ? AND "visit"."id" > ?)');
  });

  it('compiles a subtree of a parsed tree with carets into the original text', () => {
    const text = "band = 'r' AND visit = :missing";
    const e = parseWhere(text)!;
    if (e.kind !== 'logical') throw new Error('expected AND');
    const err = (() => {
      try {
        compileWhere(e.right, schema);
      } catch (x) {
        return x as ExprError;
      }
      throw new Error('expected a bind error');
    })();
    expect(err.expression).toBe(text);
    expect(pointedAt(err)).toBe(':missing');
  });
});

describe('joinFragments and renderSql', () => {
  it('joins compiled conditions without mixing up precedence', () => {
    const a = compiled("band = 'r' OR band = 'g'");
    const b = compiled('visit IN (:ids)', { ids: [1, 2] });
    const joined = joinFragments(
      [a.fragment, b.fragment, { text: ['x = 1'], values: [] }],
      ' AND ',
    );
    expect(joined.text.length).toBe(joined.values.length + 1);
    expect(renderSql(joined, (i) => `$${i + 1}`)).toBe(
      '("visit"."band" = $1 OR "visit"."band" = $2) AND "visit"."id" IN ($3, $4) AND x = 1',
    );
    expect(joined.values).toEqual(['r', 'g', 1, 2]);
  });

  it('gives an empty fragment for no parts and rejects malformed parts', () => {
    expect(joinFragments([], ' AND ')).toEqual({ text: [''], values: [] });
    expect(() => joinFragments([{ text: ['a', 'b'], values: [] }], ',')).toThrow(RangeError);
  });
});
