import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { accepted, ledgerOn, refused } from '../helpers/ledger.ts';
import { withDb } from '../helpers/sqlite-file.ts';

// Migration 13 rebuilds SQLite's ledger so that version 6's rule on keyed debits is a CHECK, not
// a trigger run for every row; the keyed debits written before version 6 are the rows it spares.

const dir = mkdtempSync(join(tmpdir(), 'tm-keyed-check-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const START = '2026-11-06T10:00:00Z';
/** The answer a keyed deduction got before version 6, stored in idempotency_keys. */
const OLD_ANSWER = {
  ok: true,
  account: 'old',
  feature: 'crm_ai_agent',
  quantity: 1,
  cost: 2,
  balanceBefore: 100,
  balance: 98,
  available: 88,
  entryId: 0,
  replayed: false,
};

describe('migration 13 (SQLite: the keyed-debit rule as a CHECK)', () => {
  it('copies every entry, marks only the keyed debits from before version 6, and holds new rows to the rule', async () => {
    const path = join(dir, 'ledger.db');
    // Steps 1 to 12, as a database that has not seen 13 yet: 13 and every later step marked applied.
    withDb(path, (db) => {
      db.exec(
        'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT',
      );
      for (const m of SQLITE_MIGRATIONS.filter((m) => m.version >= 13)) {
        db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
      }
    });
    const before = new SqliteStore({ path });
    await before.migrate();
    const { ledger } = ledgerOn(before, START);
    accepted(await ledger.reserve({ account: 'old', amount: 10 }));
    const keyed = accepted(await ledger.deduct({ account: 'a', feature: 'social_post', idempotencyKey: 'new-way' }));
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    await ledger.close();

    // A keyed deduction as the code before version 6 wrote it (held_after unknown, its answer in
    // idempotency_keys); that code had no trigger. And a counter ahead of the highest id.
    const at = Date.parse(START);
    const { legacyId, counter, entries } = withDb(path, (db) => {
      db.exec(`DROP TRIGGER ledger_entries_keyed_debit_held;
        UPDATE accounts SET allocation = allocation - 2, used_this_cycle = used_this_cycle + 2, version = version + 1
          WHERE id = 'old';
        UPDATE grants SET remaining = remaining - 2 WHERE account_id = 'old' AND category = 'included';
        INSERT INTO ledger_entries (account_id, kind, amount, allocation_delta, purchased_delta, balance_after,
          feature, quantity, idempotency_key, at, grant_moves)
          SELECT 'old', 'debit', -2, -2, 0, 98, 'crm_ai_agent', 1, 'old-key', ${at}, '[[' || id || ',-2]]'
          FROM grants WHERE account_id = 'old' AND category = 'included';`);
      const id = Number(
        (db.prepare("SELECT id FROM ledger_entries WHERE idempotency_key = 'old-key'").get() as { id: number }).id,
      );
      db.prepare(
        "INSERT INTO idempotency_keys (account_id, operation, key, fingerprint, response, created_at) VALUES ('old', 'deduct', 'old-key', 'crm_ai_agentx1', ?, ?)",
      ).run(JSON.stringify({ ...OLD_ANSWER, entryId: id }), at);
      db.exec("UPDATE sqlite_sequence SET seq = seq + 100 WHERE name = 'ledger_entries'");
      const seq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'ledger_entries'").get() as { seq: number };
      const all = db.prepare('SELECT * FROM ledger_entries ORDER BY id').all();
      db.exec('DELETE FROM schema_migrations WHERE version >= 13');
      return { legacyId: id, counter: Number(seq.seq), entries: all };
    });

    const store = new SqliteStore({ path });
    await store.migrate();
    const { ledger: after13 } = ledgerOn(store, START);
    try {
      const copied = withDb(path, (db) => db.prepare('SELECT * FROM ledger_entries ORDER BY id').all());
      assert.deepEqual(
        copied.map(({ keyed_before_v6, ...rest }) => rest),
        entries.map((e) => ({ ...e })),
        'every entry is copied with its id and columns',
      );
      assert.deepEqual(
        copied.filter((e) => e.keyed_before_v6 === 1).map((e) => e.id),
        [legacyId],
        'only the keyed debit from before version 6 is marked',
      );
      const triggers = withDb(path, (db) =>
        db
          .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'ledger_entries' ORDER BY name",
          )
          .all(),
      );
      assert.deepEqual(
        triggers.map((t) => t.name),
        ['ledger_entries_in_time', 'ledger_entries_no_delete', 'ledger_entries_no_update'],
      );

      // Both kinds of keyed deduction replay as they did; the old key conflicts as it did.
      assert.deepEqual(await after13.deduct({ account: 'old', feature: 'crm_ai_agent', idempotencyKey: 'old-key' }), {
        ...OLD_ANSWER,
        entryId: legacyId,
        replayed: true,
      });
      assert.equal(
        refused(await after13.deduct({ account: 'old', feature: 'social_post', idempotencyKey: 'old-key' })).code,
        'idempotency_conflict',
      );
      assert.deepEqual(await after13.deduct({ account: 'a', feature: 'social_post', idempotencyKey: 'new-way' }), {
        ...keyed,
        replayed: true,
      });

      // New rows: ids continue past the counter; the rule, the key's uniqueness and append-only hold.
      const fresh = accepted(await after13.deduct({ account: 'old', feature: 'crm_ai_agent', idempotencyKey: 'k2' }));
      assert.ok(fresh.entryId > counter, `entry ${fresh.entryId} is past the counter ${counter}`);
      const debit = (key: string, held: number, marked: number) =>
        `INSERT INTO ledger_entries (account_id, kind, amount, allocation_delta, purchased_delta, balance_after, feature,
           quantity, idempotency_key, at, held_after, keyed_before_v6)
         VALUES ('a', 'debit', -1, -1, 0, 50, 'social_post', 1, '${key}', ${at + 60_000}, ${held}, ${marked})`;
      withDb(path, (db) => {
        assert.throws(() => db.exec(debit('no-figure', -1, 0)), /keyed_debit_held/);
        assert.throws(() => db.exec(debit('marked', 0, 1)), /CHECK constraint failed/);
        assert.throws(() => db.exec(debit('new-way', 3, 0)), /UNIQUE/);
        assert.throws(() => db.exec(`UPDATE ledger_entries SET amount = 0 WHERE id = ${legacyId}`), /append-only/);
        assert.throws(() => db.exec(`DELETE FROM ledger_entries WHERE id = ${legacyId}`), /append-only/);
      });
      assert.deepEqual((await after13.reconcile()).drift, []);
    } finally {
      await after13.close();
    }
  });
});
