/**
 * Compiled fragments executed by a real PostgreSQL: the same cases and random conditions as
 * the SQLite test, with `$n` placeholders and PostgreSQL's parameter type inference (which is
 * what the compiler's CASTs on numeric placeholders are for).
 *
 * Uses GPU_DRP_TEST_POSTGRES_URL when set (tables go into a private schema); otherwise starts a
 * throwaway cluster from the PostgreSQL binaries (initdb/pg_ctl) in a temp directory, talking
 * over a Unix socket only. Without either, the suite is skipped with a notice, except under
 * CI=true, where it fails.
 */

import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderSql, type SqlFragment, where } from '../../../src/butler/expr/index.ts';
import { FixtureSchema } from './schema-fixture.ts';
import { VISIT_ROWS } from './visits-fixture.ts';
import { type VisitDb, visitQuerySuite } from './visits-suite.ts';

/** Directory holding initdb and pg_ctl, or null when PostgreSQL is not installed. */
function findPgBin(): string | null {
  const candidates: string[] = [];
  const base = '/usr/lib/postgresql';
  if (existsSync(base)) {
    for (const v of readdirSync(base).sort().reverse()) candidates.push(join(base, v, 'bin'));
  }
  candidates.push('/usr/local/pgsql/bin', '/usr/local/bin', '/usr/bin');
  return (
    candidates.find((d) => existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl'))) ?? null
  );
}

const externalUrl = process.env.GPU_DRP_TEST_POSTGRES_URL;
const pgBin = externalUrl === undefined ? findPgBin() : null;
const available = externalUrl !== undefined || pgBin !== null;
if (!available) {
  const msg =
    'postgres.test.ts: no PostgreSQL (set GPU_DRP_TEST_POSTGRES_URL or install postgresql, e.g. apt-get install postgresql-15)';
  if (process.env.CI === 'true') throw new Error(msg);
  console.warn(`${msg}; skipping`);
}

/** A private cluster: runs as user postgres when we are root (the server refuses root). */
class Cluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'where-pg-'));
  readonly port = 50000 + (process.pid % 10000);
  private readonly asRoot = process.getuid?.() === 0;

  constructor(private readonly bin: string) {}

  private run(tool: string, args: string[]): void {
    const cmd = join(this.bin, tool);
    if (this.asRoot)
      execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'pipe' });
    else execFileSync(cmd, args, { stdio: 'pipe' });
  }

  start(): string {
    if (this.asRoot) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      chownSync(this.dir, uid, gid);
    }
    const data = join(this.dir, 'data');
    this.run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
    const opts = `-p ${this.port} -k ${this.dir} -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    this.run('pg_ctl', [
      '-D',
      data,
      '-l',
      join(this.dir, 'server.log'),
      '-w',
      '-t',
      '60',
      '-o',
      opts,
      'start',
    ]);
    return `postgresql://postgres@/postgres?host=${encodeURIComponent(this.dir)}&port=${this.port}`;
  }

  stop(): void {
    try {
      this.run('pg_ctl', ['-D', join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

let client: pg.Client;
let cluster: Cluster | null = null;
const schemaName = `where_test_${process.pid}`;

const backend: VisitDb = {
  async select(fragment: SqlFragment): Promise<number[]> {
    const sql = `SELECT id FROM visit WHERE ${renderSql(fragment, (i) => `$${i + 1}`)} ORDER BY id`;
    const res = await client.query<{ id: string }>(sql, [...fragment.values]);
    return res.rows.map((r) => Number(r.id));
  },
  async count(): Promise<number> {
    const res = await client.query<{ n: string }>('SELECT count(*) AS n FROM visit');
    return Number(res.rows[0]!.n);
  },
};

describe.skipIf(!available)('where-expressions on PostgreSQL', () => {
  beforeAll(async () => {
    let url = externalUrl;
    if (url === undefined) {
      cluster = new Cluster(pgBin!);
      url = cluster.start();
    }
    client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`CREATE SCHEMA ${schemaName}`);
    await client.query(`SET search_path TO ${schemaName}`);
    await client.query(`CREATE TABLE visit (
      id BIGINT PRIMARY KEY, exposure_time DOUBLE PRECISION NOT NULL, band TEXT NOT NULL,
      day_obs BIGINT NOT NULL, obs_start TIMESTAMP NOT NULL, science_program TEXT,
      is_good BOOLEAN NOT NULL, ra DOUBLE PRECISION NOT NULL, dec DOUBLE PRECISION NOT NULL)`);
    // Haversine separation in degrees, as skySepDeg in the fixture.
    await client.query(`CREATE FUNCTION sky_sep_deg(double precision, double precision,
        double precision, double precision) RETURNS double precision LANGUAGE SQL IMMUTABLE AS
      $$ SELECT degrees(2 * asin(least(1, sqrt(sin(radians($4 - $2) / 2) ^ 2
           + cos(radians($2)) * cos(radians($4)) * sin(radians($3 - $1) / 2) ^ 2)))) $$`);
    for (const r of VISIT_ROWS) {
      await client.query('INSERT INTO visit VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)', [
        r.id,
        r.exposure_time,
        r.band,
        r.day_obs,
        r.obs_start,
        r.science_program,
        r.is_good === 1,
        r.ra,
        r.dec,
      ]);
    }
  });

  afterAll(async () => {
    if (client !== undefined) {
      if (externalUrl !== undefined) await client.query(`DROP SCHEMA ${schemaName} CASCADE`);
      await client.end();
    }
    cluster?.stop();
  });

  visitQuerySuite(backend);

  it('needs the casts: an uncast float parameter against a bigint column is refused', async () => {
    await expect(client.query('SELECT id FROM visit WHERE id > $1', [1.5])).rejects.toThrow(
      /invalid input syntax for type bigint/,
    );
    const { fragment } = where('visit > 1.5 AND visit < 3', new FixtureSchema());
    expect(await backend.select(fragment)).toEqual([2]);
  });
});
