import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import pg from 'pg';
import { freshDb, runJson, tempDir } from './cli-helpers.ts';

const dir = tempDir();
const SERVER = process.env.TOKENMETER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Why the server cannot be used, or null. Without one, CI fails; elsewhere the test is skipped. */
async function serverProblem(): Promise<string | null> {
  const client = new pg.Client({ connectionString: SERVER, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return err instanceof Error ? err.message || err.name : String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

const problem = await serverProblem();
const skip =
  problem !== null && process.env.CI !== 'true'
    ? `no PostgreSQL server at ${new URL(SERVER).host} (${problem}); with CI=true this is a failure`
    : false;

/** Creates the throwaway legacy database `tm_legacy_<random>`, runs `body` on its URL, and drops it. */
async function withLegacyDatabase(body: (url: string) => Promise<void> | void): Promise<void> {
  const name = `tm_legacy_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: SERVER, connectionTimeoutMillis: 3000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    try {
      const url = new URL(SERVER);
      url.pathname = `/${name}`;
      await seedLegacyTable(url.toString());
      await body(url.toString());
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
  } finally {
    await admin.end();
  }
}

async function seedLegacyTable(url: string): Promise<void> {
  const legacy = new pg.Client({ connectionString: url });
  await legacy.connect();
  try {
    // bigint ids and a numeric balance: pg hands both back as text.
    await legacy.query(`CREATE TABLE users (
      id BIGINT PRIMARY KEY, email TEXT, tokens_balance NUMERIC(12, 2), tokens_used_this_month INTEGER,
      token_package VARCHAR(32))`);
    await legacy.query(`INSERT INTO users VALUES
      (7, 'seven@example.com', NULL, NULL, NULL),
      (8, 'eight@example.com', 250.00, 3, 'starter'),
      (9, 'nine@example.com', 12.50, 0, 'free')`);
    // Enough rows to take several cursor fetches.
    await legacy.query(`INSERT INTO users
      SELECT 1000 + g, NULL, g % 50, 0, 'free' FROM generate_series(1, 2500) AS g`);
  } finally {
    await legacy.end();
  }
}

describe('import-legacy from a PostgreSQL users table', () => {
  it('imports through a cursor, fills the seed NULLs, rejects 12.50, and is idempotent', { skip }, async () => {
    await withLegacyDatabase((legacyUrl) => {
      const db = freshDb(dir);
      const report = runJson(['import-legacy', '--source', legacyUrl], db);
      assert.equal(report.rows_read, 2503);
      assert.equal(report.imported, 2502);
      assert.equal(report.null_balances_initialized, 1);
      assert.equal(report.rejected_count, 1);
      assert.deepEqual(
        (report.rejected as { account: string }[]).map((r) => r.account),
        ['9'],
      );
      assert.equal(runJson(['balance', '7'], db).balance, 100);
      assert.equal(runJson(['balance', '8'], db).balance, 250);
      assert.equal(runJson(['balance', '1049'], db).balance, 49);
      const again = runJson(['import-legacy', '--source', legacyUrl], db);
      assert.equal(again.imported, 0);
      assert.equal(again.skipped, 2502);
    });
  });
});
