/**
 * Compiled fragments executed by a real SQLite (better-sqlite3, in memory): the rows each
 * expression selects must be exactly those an independent JavaScript predicate selects.
 */

import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderSql, type SqlFragment } from '../../../src/butler/expr/index.ts';
import { skySepDeg, VISIT_ROWS } from './visits-fixture.ts';
import { type VisitDb, visitQuerySuite } from './visits-suite.ts';

let db: Database.Database;

const backend: VisitDb = {
  async select(fragment: SqlFragment): Promise<number[]> {
    const sql = `SELECT id FROM visit WHERE ${renderSql(fragment, () => '?')} ORDER BY id`;
    return db
      .prepare(sql)
      .all(...fragment.values)
      .map((r) => (r as { id: number }).id);
  },
  async count(): Promise<number> {
    return (db.prepare('SELECT count(*) AS n FROM visit').get() as { n: number }).n;
  },
};

describe('where-expressions on SQLite', () => {
  beforeAll(() => {
    db = new Database(':memory:');
    db.exec(`CREATE TABLE visit (
      id INTEGER PRIMARY KEY, exposure_time REAL NOT NULL, band TEXT NOT NULL,
      day_obs INTEGER NOT NULL, obs_start TEXT NOT NULL, science_program TEXT,
      is_good INTEGER NOT NULL, ra REAL NOT NULL, dec REAL NOT NULL)`);
    const insert = db.prepare(
      `INSERT INTO visit VALUES (@id, @exposure_time, @band, @day_obs, @obs_start,
       @science_program, @is_good, @ra, @dec)`,
    );
    db.transaction(() => {
      for (const r of VISIT_ROWS) insert.run(r);
    })();
    db.function('sky_sep_deg', { deterministic: true }, (ra1, dec1, ra2, dec2) =>
      skySepDeg(Number(ra1), Number(dec1), Number(ra2), Number(dec2)),
    );
  });

  afterAll(() => {
    db.close();
  });

  visitQuerySuite(backend);

  it('binds JS numbers as REAL, which is why integer division is cast', () => {
    const t = db.prepare('SELECT typeof(?) AS t, 7 / ? AS q').get(2, 2) as { t: string; q: number };
    expect(t).toEqual({ t: 'real', q: 3.5 });
  });
});
