/**
 * The databases a registry suite runs against: SQLite always (a temporary file per
 * repository), PostgreSQL when GPU_DRP_TEST_POSTGRES_URL is set (start one with
 * `bash scripts/services/postgres.sh start DIR`). Each suite gets a fresh PostgreSQL
 * database (CREATE DATABASE with a random name through the URL's connection, dropped in
 * afterAll); each repository inside it a fresh schema (search_path in the URL options).
 * Under CI=true a missing PostgreSQL URL is a failure, never a silent skip.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import { Registry, type RegistryOpenOptions } from '../../../src/butler/registry/index.ts';

export interface TestDatabase {
  readonly name: 'sqlite' | 'postgres';
  /** Why it cannot run here, or null. */
  readonly unavailable: string | null;
  /** Prepare the suite's database (PostgreSQL: CREATE DATABASE). */
  setup(): Promise<void>;
  /** A URL for a new, empty repository. */
  newUrl(): Promise<string>;
  /** Drop everything made by this suite. */
  teardown(): Promise<void>;
}

function sqliteDatabase(): TestDatabase {
  let dir: string | null = null;
  let n = 0;
  return {
    name: 'sqlite',
    unavailable: null,
    async setup() {
      dir = mkdtempSync(join(tmpdir(), 'gpu-drp-registry-'));
    },
    async newUrl() {
      return `sqlite:${join(dir!, `repo${n++}.sqlite3`)}`;
    },
    async teardown() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresDatabase(): TestDatabase {
  const admin = process.env.GPU_DRP_TEST_POSTGRES_URL;
  let dbUrl: URL | null = null;
  let dbName = '';
  let n = 0;
  return {
    name: 'postgres',
    unavailable:
      admin === undefined || admin === ''
        ? 'GPU_DRP_TEST_POSTGRES_URL is not set (start a server: eval "$(bash scripts/services/postgres.sh start /tmp/gpu-drp-pg)")'
        : null,
    async setup() {
      dbName = `registry_test_${randomBytes(6).toString('hex')}`;
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE "${dbName}"`);
      } finally {
        await c.end();
      }
      dbUrl = new URL(admin!);
      dbUrl.pathname = `/${dbName}`;
    },
    async newUrl() {
      const schema = `repo_${n++}_${randomBytes(3).toString('hex')}`;
      const c = new pg.Client({ connectionString: dbUrl!.toString() });
      await c.connect();
      try {
        await c.query(`CREATE SCHEMA "${schema}"`);
      } finally {
        await c.end();
      }
      const u = new URL(dbUrl!.toString());
      u.searchParams.set('options', `-c search_path=${schema}`);
      return u.toString();
    },
    async teardown() {
      if (!dbName) return;
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Fresh test databases, SQLite first (one set per suite). */
export function testDatabases(): TestDatabase[] {
  return [sqliteDatabase(), postgresDatabase()];
}

/** What a suite body gets. */
export interface SuiteContext {
  readonly db: TestDatabase;
  /** A new, empty repository (closed after the test). */
  newRegistry(o?: RegistryOpenOptions): Promise<Registry>;
  /** A URL for a new repository (nothing created). */
  newUrl(): Promise<string>;
  /** Close this registry after the test. */
  track(r: Registry): Registry;
}

/**
 * Inside a per-database describe block: when `db` cannot run here, declare a failing
 * test under CI=true (a missing server is never a silent skip there) or a visible skip
 * whose name says why, and return true (the caller declares nothing else).
 */
export function declareUnavailable(db: TestDatabase, area: string): boolean {
  if (db.unavailable === null) return false;
  if (process.env.CI === 'true') {
    it('has its database', () => {
      throw new Error(`${db.name} ${area} tests cannot run: ${db.unavailable}`);
    });
  } else {
    console.warn(`[${area}] ${db.name} tests skipped: ${db.unavailable}`);
    it.skip(`${db.name}: ${db.unavailable}`, () => {});
  }
  return true;
}

/**
 * Declares the suite once per database (`describe.each`). A database that cannot run
 * here is a failing test under CI=true and a visible skip otherwise.
 */
export function describeEachDatabase(title: string, body: (ctx: SuiteContext) => void): void {
  describe.each(testDatabases())(`${title} ($name)`, (db) => {
    if (declareUnavailable(db, 'registry')) return;
    const opened: Registry[] = [];
    beforeAll(() => db.setup());
    afterAll(() => db.teardown());
    afterEach(async () => {
      for (const r of opened.splice(0)) await r.close();
    });
    const track = (r: Registry): Registry => {
      opened.push(r);
      return r;
    };
    body({
      db,
      newUrl: () => db.newUrl(),
      track,
      async newRegistry(o = {}) {
        return track(await Registry.open(await db.newUrl(), { create: true, ...o }));
      },
    });
  });
}
