// The real PostgreSQL server the tests use: found through TOKENMETER_TEST_PG_URL, else the
// development default. Every test database is created here and dropped by its owner.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { redactPgUrl } from '../../src/store/postgres/pg-url.ts';

export const PG_TEST_URL = process.env.TOKENMETER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  /** A connection string for the new database. */
  url: string;
  /** Drops the database, closing whatever connections are still open on it. */
  drop(): Promise<void>;
}

let admin: pg.Pool | undefined;

function adminPool(): pg.Pool {
  if (!admin) {
    admin = new pg.Pool({
      connectionString: PG_TEST_URL,
      max: 2,
      connectionTimeoutMillis: 3000,
      allowExitOnIdle: true,
    });
    admin.on('error', () => {});
  }
  return admin;
}

let probe: Promise<string | null> | undefined;

/** Why the server cannot be used (null when it can). Asked once per process. */
export function pgServerProblem(): Promise<string | null> {
  probe ??= adminPool()
    .query('SELECT 1')
    .then(
      () => null,
      (err: unknown) => `no PostgreSQL server at ${redactPgUrl(PG_TEST_URL)} (${describe(err)})`,
    );
  return probe;
}

function describe(err: unknown): string {
  if (err instanceof AggregateError) return err.errors.map(describe).join('; ');
  return err instanceof Error ? err.message || err.name : String(err);
}

/** Throws a clear error when the server cannot be used. */
export async function requirePgServer(): Promise<void> {
  const problem = await pgServerProblem();
  if (problem) {
    throw new Error(`postgres: ${problem}. CI=true requires it: start PostgreSQL or set TOKENMETER_TEST_PG_URL`);
  }
}

let warned = false;

/**
 * The `skip` option for a suite that needs the server: false when it is reachable; without one,
 * a reason (and a printed notice), except on CI, where the suite runs and fails.
 */
export async function pgSuiteSkip(): Promise<string | false> {
  const problem = await pgServerProblem();
  if (!problem || process.env.CI === 'true') return false;
  if (!warned) console.warn(`postgres backend skipped: ${problem}; set TOKENMETER_TEST_PG_URL to use one`);
  warned = true;
  return problem;
}

/** Creates an empty database `tm_test_<pid>_<random>` on the test server. */
export async function createTestDatabase(): Promise<TestDatabase> {
  await requirePgServer();
  const name = `tm_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const pool = adminPool();
  await pool.query(`CREATE DATABASE ${name}`);
  const url = new URL(PG_TEST_URL);
  url.pathname = `/${name}`;
  let dropped = false;
  return {
    name,
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await pool.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
