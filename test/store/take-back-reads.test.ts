// A refund or dispute reads the steps already taken back for its payment (`takeBackSteps`)
// inside the account's write. That read goes through the partial index of take-back entries
// (migration 17), never through all of the account's entries: SQLite's plan and PostgreSQL's
// rows read say so. On every backend it finds exactly the take-back entries of the account and
// source whose reference starts with the prefix, oldest first, whatever else the ledger holds.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { TAKE_BACK_KINDS } from '../../src/core/payment-refund.ts';
import { TAKE_BACK_ENTRIES } from '../../src/store/schema/m017-take-back-index.ts';
import { numbered, PG_DIALECT, SQLITE_DIALECT } from '../../src/store/sql-dialect.ts';
import { SqliteConnection } from '../../src/store/sqlite/sqlite-connection.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { takeBackStepsSql } from '../../src/store/take-back-sql.ts';
import { backends, type TestStore } from '../helpers/backends.ts';
import { explainAnalyze, rowsRead } from '../helpers/pg-plan.ts';
import { pgSuiteSkip } from '../helpers/pg-server.ts';
import { migratedWithout, onPgDatabase, onSqliteFile, type RawDatabase, runStep } from '../helpers/upgrade-db.ts';

const skipPg = await pgSuiteSkip();

// Payment ids that are prefixes of one another, or hold LIKE's wildcards, or a character of
// more than one byte: a prefix match that was really a pattern, or counted bytes, would show.
const INTENTS = ['pi_1', 'pi_10', 'pi_1%', 'pi_1_', 'pi_é'];
const KINDS = ['payment_refund', 'debit_reversal', 'credit', 'purchase', 'debit'] as const;

interface Row {
  account: string;
  kind: (typeof KINDS)[number];
  source: string;
  reference: string | null;
}

const rowArb = fc.record({
  account: fc.constantFrom('a', 'b'),
  kind: fc.constantFrom(...KINDS),
  source: fc.constantFrom('stripe', 'test'),
  intent: fc.constantFrom(...INTENTS),
  // `pi_1:evt`, the shape a step's reference has; `pi_1-evt`, a reference that only starts alike; none.
  shape: fc.constantFrom('step', 'other', 'none'),
});

const ACCOUNTS = `INSERT INTO accounts (id, plan, cycle_anchor, cycle_start, created_at, updated_at)
  VALUES ('a', 'free', 0, 0, 0, 0), ('b', 'free', 0, 0, 0, 0)`;

/** An entry of 0 tokens (every kind's CHECK takes it) at time `at`. */
function insertSql(r: Row, at: number): string {
  const text = (v: string | null) => (v === null ? 'NULL' : `'${v.replaceAll("'", "''")}'`);
  return `INSERT INTO ledger_entries
    (account_id, kind, amount, allocation_delta, purchased_delta, balance_after, source, reference, at)
    VALUES (${text(r.account)}, '${r.kind}', 0, 0, 0, 0, ${text(r.source)}, ${text(r.reference)}, ${at})`;
}

describe('the take-back condition', () => {
  it("is the partial index's text, naming exactly TAKE_BACK_KINDS", () => {
    const named = [...TAKE_BACK_ENTRIES.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]);
    assert.deepEqual(named.sort(), [...TAKE_BACK_KINDS].sort());
    assert.match(takeBackStepsSql(SQLITE_DIALECT), new RegExp(TAKE_BACK_ENTRIES.replace(/[()]/g, '\\$&')));
  });
});

for (const backend of backends()) {
  describe(`a payment's take-back steps are exactly those written [${backend.name}]`, () => {
    let db: TestStore;

    before(async () => {
      db = await backend.open();
      await db.raw(ACCOUNTS);
    });

    after(() => db.cleanup());

    it('takeBackSteps finds the take-back entries of the account and source under the prefix, oldest first', async () => {
      // The runs share the database: every row written so far is in what each read must sift.
      const written: Row[] = [];
      await fc.assert(
        fc.asyncProperty(
          fc.array(rowArb, { minLength: 1, maxLength: 8 }),
          fc.constantFrom('a', 'b'),
          fc.constantFrom('stripe', 'test'),
          fc.constantFrom(...INTENTS),
          async (rows, account, source, intent) => {
            for (const r of rows) {
              // A counter in every reference keeps (kind, source, reference) unique, as the ledger requires.
              const n = written.length;
              const reference =
                r.shape === 'step' ? `${r.intent}:evt_${n}` : r.shape === 'other' ? `${r.intent}-evt_${n}` : null;
              const row = { account: r.account, kind: r.kind, source: r.source, reference };
              await db.raw(insertSql(row, n));
              written.push(row);
            }
            const prefix = `${intent}:`;
            const found = await db.store.write((tx) => tx.takeBackSteps(account, source, prefix));
            const expected = written.filter(
              (r) =>
                r.account === account &&
                r.source === source &&
                (TAKE_BACK_KINDS as readonly string[]).includes(r.kind) &&
                r.reference?.startsWith(prefix) === true,
            );
            assert.deepEqual(
              found.map((e) => [e.account, e.kind, e.source, e.reference]),
              expected.map((r) => [r.account, r.kind, r.source, r.reference]),
            );
          },
        ),
        { numRuns: 30 },
      );
    });
  });
}

/** The take-back index of a database, if it has it. */
async function takeBackIndexes(db: RawDatabase): Promise<string[]> {
  const rows = await db.query(
    db.backend === 'sqlite'
      ? "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'ledger_entries_take_backs'"
      : "SELECT indexname AS name FROM pg_indexes WHERE indexname = 'ledger_entries_take_backs'",
  );
  return rows.map((r) => String(r.name));
}

/** Migration 17 over a ledger written before it: the index is built over the steps there, which are then found. */
async function upgradeAcross17(db: RawDatabase): Promise<void> {
  const before = await migratedWithout(db, 17, 'take_back_index');
  await db.exec(ACCOUNTS);
  const rows: Row[] = [
    { account: 'a', kind: 'payment_refund', source: 'stripe', reference: 'pi_1:evt_1' },
    { account: 'a', kind: 'debit', source: 'stripe', reference: 'pi_1:evt_2' },
    { account: 'a', kind: 'debit_reversal', source: 'stripe', reference: 'pi_1:evt_3' },
    { account: 'a', kind: 'payment_refund', source: 'stripe', reference: 'pi_10:evt_4' },
  ];
  for (const [i, r] of rows.entries()) await db.exec(insertSql(r, i));
  await before.close();
  assert.deepEqual(await takeBackIndexes(db), [], 'written before the step');
  const upgraded = await runStep(db, 17);
  assert.deepEqual(await takeBackIndexes(db), ['ledger_entries_take_backs']);
  const found = await upgraded.write((tx) => tx.takeBackSteps('a', 'stripe', 'pi_1:'));
  assert.deepEqual(
    found.map((e) => e.reference),
    ['pi_1:evt_1', 'pi_1:evt_3'],
  );
}

describe('migration 17 on a ledger written before it', () => {
  it('SQLite: builds the index over the entries there; the steps written before are found', () =>
    onSqliteFile(upgradeAcross17));

  it('PostgreSQL: the same', { skip: skipPg }, () => onPgDatabase(upgradeAcross17));
});

describe("SQLite's plan of a payment's take-back steps", () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-take-backs-'));
  const path = join(dir, 'plans.db');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('searches the take-back index by account and source, and sorts nothing', async () => {
    const store = new SqliteStore({ path });
    await store.migrate();
    await store.close();
    const conn = new SqliteConnection(path, 5000);
    try {
      const plan = conn
        .all(`EXPLAIN QUERY PLAN ${takeBackStepsSql(SQLITE_DIALECT)}`, 'a', 'stripe', 5, 'pi_1:')
        .map((r) => String(r.detail));
      assert.deepEqual(
        plan,
        ['SEARCH ledger_entries USING INDEX ledger_entries_take_backs (account_id=? AND source=?)'],
        plan.join(' | '),
      );
    } finally {
      conn.close();
    }
  });
});

describe("PostgreSQL's plan of a payment's take-back steps", { skip: skipPg }, () => {
  it("reads the account's take-back entries, not its deductions", () =>
    onPgDatabase(async (db) => {
      const store = db.open();
      await store.migrate();
      // 5,000 deductions on the account, and three take-back steps among them.
      await db.exec(`${ACCOUNTS};
        INSERT INTO ledger_entries
          (account_id, kind, amount, allocation_delta, purchased_delta, balance_after, source, reference, feature, quantity, at)
        SELECT 'a', 'debit', -1, -1, 0, 0, 'stripe', 'pi_1:d' || i, 'x', 1, i FROM generate_series(1, 5000) AS i;
        ${insertSql({ account: 'a', kind: 'payment_refund', source: 'stripe', reference: 'pi_1:evt_1' }, 5001)};
        ${insertSql({ account: 'a', kind: 'debit_reversal', source: 'stripe', reference: 'pi_1:evt_2' }, 5002)};
        ${insertSql({ account: 'a', kind: 'payment_refund', source: 'stripe', reference: 'pi_2:evt_3' }, 5003)};
        ANALYZE ledger_entries`);
      const explained = await explainAnalyze(db, numbered(takeBackStepsSql(PG_DIALECT)), ['a', 'stripe', 5, 'pi_1:']);
      const plan = JSON.stringify(explained);
      const read = rowsRead(explained, 'ledger_entries');
      assert.match(plan, /ledger_entries_take_backs/, 'the planner chose the take-back index');
      assert.ok(read <= 3, `read ${read} ledger rows for 3 take-back entries: ${plan}`);
      const found = await store.write((tx) => tx.takeBackSteps('a', 'stripe', 'pi_1:'));
      assert.deepEqual(
        found.map((e) => e.reference),
        ['pi_1:evt_1', 'pi_1:evt_2'],
      );
    }));
});
