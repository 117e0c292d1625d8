// PostgreSQL plans a trigger function's queries once per connection, at their first run, from
// the size of that statement's new rows, and keeps the plan for the connection's life. The
// ledger's per-statement triggers (an entry names an account; an account's entries never go
// back in time) must read `accounts` and `ledger_entries` only by index whatever a connection's
// first ledger INSERT was: a plan that scanned every account, made for a first statement of some
// dozens of rows (80 here, before migration 18), would be kept for every statement after it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pgSuiteSkip } from '../helpers/pg-server.ts';
import { onPgDatabase, type RawDatabase } from '../helpers/upgrade-db.ts';

const skipPg = await pgSuiteSkip();

const ACCOUNTS = 10_000;

/** `ACCOUNTS` accounts with an opening entry each, and fresh statistics. */
async function seed(db: RawDatabase): Promise<void> {
  const store = db.open();
  await store.migrate();
  await db.exec(`INSERT INTO accounts (id, plan, cycle_anchor, cycle_start, created_at, updated_at)
      SELECT 'u' || i, 'free', 0, 0, 0, 0 FROM generate_series(1, ${ACCOUNTS}) AS i;
    INSERT INTO ledger_entries (account_id, kind, amount, allocation_delta, purchased_delta, balance_after, source, reference, at)
      SELECT 'u' || i, 'opening_balance', 0, 0, 0, 0, 'provision', 'u' || i, 1 FROM generate_series(1, ${ACCOUNTS}) AS i;
    ANALYZE accounts, ledger_entries`);
}

/**
 * On a new connection, a first INSERT of an entry for each of `accounts` (named in the statement,
 * so only its triggers read `accounts`), then what the transaction read of each table: rows by
 * sequential scans, and entries returned by all of its indexes.
 */
async function firstInsertReads(db: RawDatabase, accounts: number[]): Promise<Record<string, unknown>[]> {
  const ids = accounts.map((i) => `'u${i}'`).join(', ');
  return db.query(`BEGIN;
    INSERT INTO ledger_entries (account_id, kind, amount, allocation_delta, purchased_delta, balance_after, feature, quantity, at)
      SELECT id, 'debit', 0, 0, 0, 0, 'x', 1, 2 FROM unnest(ARRAY[${ids}]) AS id;
    SELECT r.relname, pg_stat_get_xact_tuples_returned(r.oid)::int AS scanned,
      (SELECT coalesce(sum(pg_stat_get_xact_tuples_returned(i.indexrelid)), 0)::int FROM pg_index i
        WHERE i.indrelid = r.oid) AS from_indexes
    FROM pg_class r WHERE r.relname IN ('accounts', 'ledger_entries') ORDER BY r.relname`);
}

describe("PostgreSQL's ledger triggers read by index, whatever a connection's first statement", {
  skip: skipPg,
}, () => {
  for (const rows of [1, 80, 400]) {
    it(`a first INSERT of ${rows} entries over ${rows} of ${ACCOUNTS.toLocaleString('en-US')} accounts scans neither table`, () =>
      onPgDatabase(async (db) => {
        await seed(db);
        const reads = await firstInsertReads(
          db,
          Array.from({ length: rows }, (_, i) => 1 + ((i * 37) % ACCOUNTS)),
        );
        // No table scanned; from the indexes, a probe's worth of entries per account named (the
        // accounts' key, the account's latest entries), not every account.
        assert.deepEqual(
          reads.map((r) => [r.relname, r.scanned]),
          [
            ['accounts', 0],
            ['ledger_entries', 0],
          ],
          `rows read by sequential scans: ${JSON.stringify(reads)}`,
        );
        for (const r of reads)
          assert.ok(Number(r.from_indexes) <= 2 * rows, `index entries read: ${JSON.stringify(reads)}`);
      }));
  }
});
