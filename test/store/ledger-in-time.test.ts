// An account's entries never go back in time (migration 16), so one index, by account and time,
// orders them as they were written and history pages through it. Whatever the clock does
// (stepped back by days, operations sent together while it moves both ways, monthly renewals
// falling due on the way), each account's entries are written in time order, history lists them
// newest first in the order written, and a page at a time gives the same as all at once. The
// database itself refuses an entry earlier than one its account has; and a ledger written before
// the step, with a clock that went back, keeps working after it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { LedgerEntry } from '../../src/core/entry.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { afterCursor, HISTORY_SQL } from '../../src/store/history-sql.ts';
import { numbered } from '../../src/store/sql-dialect.ts';
import { backends, type TestStore } from '../helpers/backends.ts';
import { ledgerOn } from '../helpers/ledger.ts';
import { explainAnalyze, rowsRead } from '../helpers/pg-plan.ts';
import { pgSuiteSkip } from '../helpers/pg-server.ts';
import { migratedBefore, onPgDatabase, onSqliteFile, type RawDatabase, runStepsFrom } from '../helpers/upgrade-db.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const ACCOUNTS = ['u1', 'u2', 'u3'];

const opArb = fc.record({
  op: fc.constantFrom('deduct', 'deduct', 'credit', 'reserve', 'adjust', 'plan'),
  account: fc.constantFrom(...ACCOUNTS),
  // How the clock moves before the operation: back or forward by up to 40 days, often not at all.
  step: fc.oneof(fc.constant(0), fc.integer({ min: -40 * DAY, max: 40 * DAY }), fc.integer({ min: -HOUR, max: HOUR })),
  // Sent with the operations after it, without waiting (they share group commit's batches).
  together: fc.boolean(),
});

/** Every entry of an account, as history gives them in pages of `limit`. */
async function pages(ledger: TokenLedger, account: string, limit: number): Promise<LedgerEntry[]> {
  const all: LedgerEntry[] = [];
  let cursor: string | null = null;
  do {
    const page = await ledger.history(account, { limit, cursor });
    all.push(...page.entries);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return all;
}

const skipPg = await pgSuiteSkip();

for (const backend of backends()) {
  describe(`an account's entries never go back in time [${backend.name}]`, () => {
    let db: TestStore;
    let ledger: TokenLedger;
    let clock: ReturnType<typeof ledgerOn>['clock'];

    before(async () => {
      db = await backend.open();
      ({ ledger, clock } = ledgerOn(db.store, '2026-03-01T00:00:00Z'));
    });

    after(async () => {
      await ledger.close();
      await db.cleanup();
    });

    it('whatever the clock does, history lists each account newest first in the order written, in pages or at once', async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(opArb, { minLength: 1, maxLength: 14 }),
          fc.integer({ min: 1, max: 4 }),
          async (ops, limit) => {
            let pending: Promise<unknown>[] = [];
            for (const o of ops) {
              clock.advance(o.step);
              const ref = `r${n++}`;
              const run =
                o.op === 'deduct'
                  ? ledger.deduct({ account: o.account, feature: 'crm_ai_agent', idempotencyKey: ref })
                  : o.op === 'credit'
                    ? ledger.credit({ account: o.account, tokens: 7, source: 'test', reference: ref })
                    : o.op === 'reserve'
                      ? ledger.reserve({ account: o.account, amount: 3 }).then(async (r) => {
                          if (r.ok) await ledger.commitHold(r.holdId, 2);
                        })
                      : o.op === 'adjust'
                        ? ledger.adjust({ account: o.account, amount: -1, reason: 'test', actor: 'ops' })
                        : ledger.setPlan({
                            account: o.account,
                            plan: n % 2 === 0 ? 'starter' : 'free',
                            reason: 'test',
                            actor: 'ops',
                          });
              pending.push(run);
              if (!o.together) {
                await Promise.all(pending);
                pending = [];
              }
            }
            await Promise.all(pending);
            for (const account of ACCOUNTS) {
              const all = (await ledger.history(account, { limit: 1000 })).entries;
              for (let i = 1; i < all.length; i++) {
                const [newer, older] = [all[i - 1] as LedgerEntry, all[i] as LedgerEntry];
                assert.ok(newer.id > older.id, `${account}: entry ${newer.id} listed before ${older.id}`);
                assert.ok(newer.at >= older.at, `${account}: entry ${newer.id} is earlier than ${older.id}`);
                // The balance each entry records follows from the one before it, in this order.
                assert.equal(newer.balanceAfter, older.balanceAfter + newer.amount, `${account}: entry ${newer.id}`);
              }
              assert.deepEqual(
                (await pages(ledger, account, limit)).map((e) => e.id),
                all.map((e) => e.id),
              );
            }
          },
        ),
        { numRuns: 20 },
      );
      assert.deepEqual((await ledger.reconcile()).drift, []);
    });

    it('the database refuses an entry earlier than one its account has, and takes one as late or later', async () => {
      assert.ok((await ledger.deduct({ account: 'raw', feature: 'social_post' })).ok);
      // A copy of the account's latest entry, `shift` ms from its time: a credit of nothing.
      const copy = (shift: number) => `INSERT INTO ledger_entries
          (account_id, kind, amount, allocation_delta, purchased_delta, balance_after, at)
        SELECT account_id, 'credit', 0, 0, 0, balance_after, at + ${shift} FROM ledger_entries
        WHERE account_id = 'raw' ORDER BY at DESC, id DESC LIMIT 1`;
      await assert.rejects(db.raw(copy(-1)), /earlier than an entry its account already has/);
      await db.raw(copy(0));
      await db.raw(copy(1));
      const times = (await ledger.history('raw', { limit: 10 })).entries.map((e) => e.at);
      assert.equal(times.length, 4);
      assert.deepEqual(
        times,
        [...times].sort((a, b) => b - a),
      );
    });
  });
}

/** The ledger's indexes and triggers whose name starts with `ledger_entries_`. */
async function ledgerObjects(db: RawDatabase): Promise<string[]> {
  const rows = await db.query(
    db.backend === 'sqlite'
      ? "SELECT name FROM sqlite_master WHERE name LIKE 'ledger_entries_%' ORDER BY name"
      : `SELECT indexname AS name FROM pg_indexes WHERE indexname LIKE 'ledger\\_entries\\_%'
         UNION SELECT tgname FROM pg_trigger WHERE tgname LIKE 'ledger\\_entries\\_%' ORDER BY 1`,
  );
  return rows.map((r) => String(r.name));
}

/**
 * Migration 16 on a ledger written before it, where the clock went back: version 16 is marked
 * applied first, so the store's migrate runs every other step; an account is written, then
 * given an entry an hour earlier than its latest and an `updated_at` earlier still (as a clock
 * stepped back left them before the rule); then the mark goes and the next migrate runs the step.
 */
async function upgradeAcross16(db: RawDatabase): Promise<void> {
  const old = await migratedBefore(db, 16);
  const before = ledgerOn(old, '2026-03-01T12:00:00Z');
  assert.ok((await before.ledger.deduct({ account: 'old', feature: 'social_post' })).ok);
  const latest = before.clock.now();
  await before.ledger.close();
  assert.ok((await ledgerObjects(db)).includes('ledger_entries_account'), 'written before the step');
  await db.exec(`INSERT INTO ledger_entries (account_id, kind, amount, allocation_delta, purchased_delta, balance_after, at)
    SELECT account_id, 'debit', -1, -1, 0, balance_after - 1, ${latest - HOUR} FROM ledger_entries
    WHERE account_id = 'old' ORDER BY id DESC LIMIT 1;
    UPDATE accounts SET allocation = allocation - 1, updated_at = ${latest - 2 * HOUR} WHERE id = 'old'`);
  const store = await runStepsFrom(db, 16);
  const objects = await ledgerObjects(db);
  assert.ok(!objects.includes('ledger_entries_account'), 'the index by account and id is gone');
  assert.ok(objects.includes('ledger_entries_account_at'));
  assert.ok(objects.includes('ledger_entries_in_time'));
  const [row] = await db.query("SELECT updated_at FROM accounts WHERE id = 'old'");
  assert.equal(Number(row?.updated_at), latest, "the account's floor is its latest entry's time");

  // The clock two hours behind the latest entry: the write is recorded at that entry's time.
  const afterStep = ledgerOn(store, new Date(latest - 2 * HOUR).toISOString());
  const deducted = await afterStep.ledger.deduct({ account: 'old', feature: 'social_post' });
  assert.ok(deducted.ok);
  const history = (await afterStep.ledger.history('old', { limit: 10 })).entries;
  // Newest first by time, then id: the new debit at the floor, the two entries written at that
  // time before it (the first debit, the account's opening), then the one written last before
  // the step but an hour earlier.
  assert.deepEqual(
    history.map((e) => [e.kind, e.at - latest]),
    [
      ['debit', 0],
      ['debit', 0],
      ['opening_balance', 0],
      ['debit', -HOUR],
    ],
  );
  assert.equal(history[0]?.id, deducted.entryId);
  await afterStep.ledger.close();
}

describe('migration 16 on a ledger written before it', () => {
  it('SQLite: drops the index by account and id, raises each floor, and the next write is in time', () =>
    onSqliteFile(upgradeAcross16));

  it('PostgreSQL: the same', { skip: skipPg }, () => onPgDatabase(upgradeAcross16));
});

describe("PostgreSQL's plan of a history page", { skip: skipPg }, () => {
  it('reads about a page of entries, first page or by cursor, for an account holding half the ledger', () =>
    onPgDatabase(async (db) => {
      await db.open().migrate();
      // 40,000 entries, every other one the hot account's, in time order.
      await db.exec(`INSERT INTO accounts (id, plan, cycle_anchor, cycle_start, created_at, updated_at)
        VALUES ('hot', 'free', 0, 0, 0, 40000), ('b', 'free', 0, 0, 0, 40000);
        INSERT INTO ledger_entries (account_id, kind, amount, allocation_delta, purchased_delta, balance_after, at)
        SELECT CASE WHEN i % 2 = 0 THEN 'hot' ELSE 'b' END, 'credit', 0, 0, 0, 0, i / 3
        FROM generate_series(1, 40000) AS i ORDER BY i;
        ANALYZE ledger_entries`);
      const [middle] = await db.query(
        "SELECT id FROM ledger_entries WHERE account_id = 'hot' ORDER BY id LIMIT 1 OFFSET 10000",
      );
      const cursor = Number(middle?.id);
      const first = await explainAnalyze(db, numbered(HISTORY_SQL.first), ['hot', 51]);
      const after = await explainAnalyze(db, numbered(HISTORY_SQL.after), ['hot', ...afterCursor(cursor), 51]);
      // A page of 51 among entries interleaved with another account's, a few of one time
      // (three entries share each millisecond here), and the cursor's own entry, twice.
      for (const [name, plan] of [
        ['first page', first],
        ['by cursor', after],
      ] as const) {
        const read = rowsRead(plan, 'ledger_entries');
        assert.ok(read <= 4 * 51, `${name}: read ${read} entries for a page of 51: ${JSON.stringify(plan)}`);
      }
    }));
});
