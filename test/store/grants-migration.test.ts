import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import pg from 'pg';
import { openPgStore } from '../../src/store/postgres/open-pg-store.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { accepted, ledgerOn, refused } from '../helpers/ledger.ts';
import { createTestDatabase, pgSuiteSkip } from '../helpers/pg-server.ts';

// Databases written by the code before grants (commit 9f8015c, schema version 6): five accounts
// with an allocation, purchased tokens, a negative purchased figure from a correction, a plan
// upgrade with a hold and a renewal due, keyed deductions. Made by fixtures/make-ledger-v6.ts run
// in that commit's tree (how: at its top).
const fixture = (file: string) => readFileSync(new URL(`./fixtures/${file}`, import.meta.url), 'utf8');

/** What the old code read for each account at the fixture's last instant: balance, available. */
const OLD_FIGURES: Record<string, [number, number]> = {
  a: [100, 100],
  b: [580, 580],
  c: [-100, -100],
  d: [1537, 1537],
  e: [99, 99],
};

async function checkMigrated(store: Store): Promise<void> {
  await store.migrate();
  const { ledger } = ledgerOn(store, '2026-11-06T10:00:00Z');
  try {
    assert.deepEqual((await ledger.reconcile()).drift, [], 'reconcile is clean right after the migration');
    for (const [id, [balance, available]] of Object.entries(OLD_FIGURES)) {
      const view = await ledger.getBalance(id);
      assert.deepEqual([view.balance, view.available], [balance, available], `account ${id} keeps its figures`);
    }
    // The negative purchased figure became a debt, which the allocation nets against.
    const c = await ledger.getBalance('c');
    assert.deepEqual([c.allocation, c.purchased, c.debt], [100, 0, 200]);
    const b = await ledger.grants('b', { includeInactive: true });
    // b had spent its allocation; its purchased tokens are one paid grant. The renewal due since
    // shows as of now (a grant no write has stored yet: its id is below zero).
    assert.deepEqual(
      b.map((g) => [g.category, g.remaining, g.source, g.id > 0]),
      [
        ['included', 100, 'cycle', false],
        ['paid', 480, 'migration', true],
      ],
    );
    // The migrated grants are spent and refunded like any: c's debt blocks, a purchase pays it.
    assert.equal(refused(await ledger.deduct({ account: 'c', feature: 'social_post' })).code, 'insufficient_tokens');
    accepted(await ledger.credit({ account: 'c', tokens: 300, source: 'test', reference: 'after' }));
    assert.deepEqual([(await ledger.getBalance('c')).balance, (await ledger.getBalance('c')).debt], [200, 0]);
    accepted(await ledger.deduct({ account: 'b', feature: 'crm_ai_agent', quantity: 30 }));
    accepted(await ledger.deduct({ account: 'd', feature: 'social_post', quantity: 1500 }));
    // A keyed deduction written before grants still replays.
    const replay = accepted(
      await ledger.deduct({ account: 'e', feature: 'outbound_call_single', idempotencyKey: 'k-e-1' }),
    );
    assert.equal(replay.replayed, true);
    assert.deepEqual((await ledger.reconcile()).drift, [], 'reconcile stays clean after use');
  } finally {
    await ledger.close();
  }
}

describe('migration 7 (grants) on a database written before it', () => {
  it('SQLite: the buckets become grants, every figure is kept, reconcile is clean', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-grants-mig-'));
    try {
      const path = join(dir, 'old.db');
      const db = new DatabaseSync(path);
      db.exec(fixture('ledger-v6.sqlite.sql'));
      db.close();
      await checkMigrated(new SqliteStore({ path }));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('PostgreSQL: the same on the real server', async (t) => {
    const skip = await pgSuiteSkip();
    if (skip) return t.skip(skip);
    const database = await createTestDatabase();
    try {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      await client.query(fixture('ledger-v6.pg.sql'));
      await client.end();
      await checkMigrated(openPgStore({ url: database.url, allowExitOnIdle: true }));
    } finally {
      await database.drop();
    }
  });
});
