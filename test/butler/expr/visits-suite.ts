/**
 * One test suite for any SQL database holding the visit table: fixed expressions, injection
 * attempts, and random typed conditions checked against a JavaScript evaluator.
 */

import { expect, it } from 'vitest';
import { formatExpr, type SqlFragment, where } from '../../../src/butler/expr/index.ts';
import { Rng } from './random.ts';
import { FixtureSchema } from './schema-fixture.ts';
import { condExpr, evalValue, VISIT_CASES, VISIT_ROWS, type VisitRow } from './visits-fixture.ts';

/** A database holding the visit table (VISIT_ROWS), in the caller's dialect. */
export interface VisitDb {
  /** Ids of the rows matching `fragment`, ascending. */
  select(fragment: SqlFragment): Promise<number[]>;
  /** Number of rows in the visit table. */
  count(): Promise<number>;
}

function expected(pred: (r: VisitRow) => boolean): number[] {
  return VISIT_ROWS.filter(pred).map((r) => r.id);
}

/** Registers the tests; call inside a describe whose hooks open and fill the database. */
export function visitQuerySuite(db: VisitDb): void {
  const schema = new FixtureSchema();

  it.each(VISIT_CASES)('%s', async (text, bind, pred) => {
    const want = expected(pred);
    expect(want.length).toBeGreaterThan(0);
    if (bind?.none === undefined) expect(want.length).toBeLessThan(VISIT_ROWS.length);
    expect(await db.select(where(text, schema, bind).fragment)).toEqual(want);
  });

  it('binds an injection attempt as a value: no rows match and the table survives', async () => {
    for (const [text, bind] of [
      ["band = 'r''; DROP TABLE visit; --'", undefined],
      ['band = :b', { b: "' OR '1'='1" }],
      ['visit.science_program = "deep"" OR 1=1 --"', undefined],
      ["band IN (:b, 'x'');DELETE FROM visit;--')", { b: ["r'; DELETE FROM visit; --"] }],
    ] as const) {
      expect(await db.select(where(text, schema, bind).fragment)).toEqual([]);
    }
    expect(await db.count()).toBe(VISIT_ROWS.length);
  });

  it('400 random typed conditions select the rows a JavaScript evaluator selects', async () => {
    const rng = new Rng(424242);
    let nonTrivial = 0;
    for (let trial = 0; trial < 400; trial++) {
      const tree = condExpr(rng, rng.int(1, 4));
      const text = formatExpr(tree);
      const { fragment } = where(text, schema);
      const want = expected((r) => evalValue(tree, r) === true);
      expect(await db.select(fragment), `trial ${trial}: ${text}`).toEqual(want);
      if (want.length > 0 && want.length < VISIT_ROWS.length) nonTrivial++;
    }
    // Most conditions must split the rows, or agreement proves little.
    expect(nonTrivial).toBeGreaterThan(120);
  });
}
