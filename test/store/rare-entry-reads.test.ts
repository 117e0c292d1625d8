// Two writes read back a few entries of rare kinds with the account locked: a refund or dispute
// the steps already taken back for its payment (`takeBackSteps`), a plan change what the cycle
// has granted (`allocationGrantsSince`). Each goes through its partial index (migration 17),
// never through all of the account's entries: SQLite's plans and PostgreSQL's rows read say so.
// On every backend each finds exactly the entries its rule names, oldest first, whatever else
// the ledger holds.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ALLOCATION_GRANT_KINDS } from '../../src/core/cycle-grants.ts';
import { TAKE_BACK_KINDS } from '../../src/core/payment-refund.ts';
import { ALLOCATION_GRANTS_SQL, takeBackStepsSql } from '../../src/store/rare-entry-sql.ts';
import { ALLOCATION_GRANT_ENTRIES, TAKE_BACK_ENTRIES } from '../../src/store/schema/m017-rare-entry-indexes.ts';
import { ALLOCATION_GRANTS_SPELLED } from '../../src/store/schema/m019-checks-without-in-lists.ts';
import { numbered, PG_DIALECT, SQLITE_DIALECT } from '../../src/store/sql-dialect.ts';
import { SqliteConnection } from '../../src/store/sqlite/sqlite-connection.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { backends, type TestStore } from '../helpers/backends.ts';
import { explainAnalyze, rowsRead } from '../helpers/pg-plan.ts';
import { pgSuiteSkip } from '../helpers/pg-server.ts';
import {
  indexesAmong,
  migratedBefore,
  onPgDatabase,
  onSqliteFile,
  type RawDatabase,
  runStepsFrom,
} from '../helpers/upgrade-db.ts';

const skipPg = await pgSuiteSkip();

// Payment ids that are prefixes of one another, or hold LIKE's wildcards, or a character of
// more than one byte: a prefix match that was really a pattern, or counted bytes, would show.
const INTENTS = ['pi_1', 'pi_10', 'pi_1%', 'pi_1_', 'pi_é'];
const KINDS = [
  'payment_refund',
  'debit_reversal',
  'opening_balance',
  'cycle_grant',
  'plan_change',
  'credit',
  'purchase',
  'debit',
] as const;

interface Row {
  account: string;
  kind: (typeof KINDS)[number];
  source: string;
  reference: string | null;
  at: number;
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

/** An entry of 0 tokens (every kind's CHECK takes it). */
function insertSql(r: Row): string {
  const text = (v: string | null) => (v === null ? 'NULL' : `'${v.replaceAll("'", "''")}'`);
  return `INSERT INTO ledger_entries
    (account_id, kind, amount, allocation_delta, purchased_delta, balance_after, source, reference, at)
    VALUES (${text(r.account)}, '${r.kind}', 0, 0, 0, 0, ${text(r.source)}, ${text(r.reference)}, ${r.at})`;
}

describe("the reads' conditions", () => {
  const named = (condition: string) => [...condition.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]).sort();

  it("are their partial indexes' texts, naming exactly core's kinds", () => {
    assert.deepEqual(named(TAKE_BACK_ENTRIES), [...TAKE_BACK_KINDS].sort());
    assert.deepEqual(named(ALLOCATION_GRANT_ENTRIES), [...ALLOCATION_GRANT_KINDS].sort());
    assert.ok(takeBackStepsSql(SQLITE_DIALECT).includes(TAKE_BACK_ENTRIES));
    assert.deepEqual(named(ALLOCATION_GRANTS_SPELLED), [...ALLOCATION_GRANT_KINDS].sort());
    assert.ok(ALLOCATION_GRANTS_SQL.includes(ALLOCATION_GRANTS_SPELLED));
  });
});

for (const backend of backends()) {
  describe(`the rare entries a write reads back are exactly those written [${backend.name}]`, () => {
    let db: TestStore;

    before(async () => {
      db = await backend.open();
      await db.raw(ACCOUNTS);
    });

    after(() => db.cleanup());

    it("takeBackSteps and allocationGrantsSince find their kinds' entries of the account, oldest first", async () => {
      // The runs share the database: every row written so far is in what each read must sift.
      const written: Row[] = [];
      const is = (kinds: readonly string[], r: Row) => kinds.includes(r.kind);
      const shown = (rows: readonly Row[]) => rows.map((r) => [r.account, r.kind, r.source, r.reference, r.at]);
      await fc.assert(
        fc.asyncProperty(
          fc.array(rowArb, { minLength: 1, maxLength: 8 }),
          fc.constantFrom('a', 'b'),
          fc.constantFrom('stripe', 'test'),
          fc.constantFrom(...INTENTS),
          fc.double({ min: 0, max: 1, noNaN: true }),
          async (rows, account, source, intent, sinceShare) => {
            for (const r of rows) {
              // A counter in every reference keeps (kind, source, reference) unique, as the
              // ledger requires; it is also the entry's time, so time never goes back.
              const n = written.length;
              const reference =
                r.shape === 'step' ? `${r.intent}:evt_${n}` : r.shape === 'other' ? `${r.intent}-evt_${n}` : null;
              const row = { account: r.account, kind: r.kind, source: r.source, reference, at: n };
              await db.raw(insertSql(row));
              written.push(row);
            }
            const prefix = `${intent}:`;
            const since = Math.floor(sinceShare * written.length);
            const [steps, grants] = await db.store.write(async (tx) => [
              await tx.takeBackSteps(account, source, prefix),
              await tx.allocationGrantsSince(account, since),
            ]);
            const toRow = (e: (typeof steps)[number]) => ({ ...e, source: e.source ?? '' }) as Row;
            assert.deepEqual(
              shown(steps.map(toRow)),
              shown(
                written.filter(
                  (r) =>
                    r.account === account &&
                    r.source === source &&
                    is(TAKE_BACK_KINDS, r) &&
                    r.reference?.startsWith(prefix) === true,
                ),
              ),
            );
            assert.deepEqual(
              shown(grants.map(toRow)),
              shown(written.filter((r) => r.account === account && r.at >= since && is(ALLOCATION_GRANT_KINDS, r))),
            );
          },
        ),
        { numRuns: 30 },
      );
    });
  });
}

/** Migration 17's indexes that a database has. */
const rareEntryIndexes = (db: RawDatabase) =>
  indexesAmong(db, ['ledger_entries_take_backs', 'ledger_entries_allocation_grants']);

/** Migration 17 over a ledger written before it: the indexes are built over the entries there, which are then found. */
async function upgradeAcross17(db: RawDatabase): Promise<void> {
  const before = await migratedBefore(db, 17);
  await db.exec(ACCOUNTS);
  const rows: Row[] = [
    { account: 'a', kind: 'opening_balance', source: 'provision', reference: 'a', at: 0 },
    { account: 'a', kind: 'payment_refund', source: 'stripe', reference: 'pi_1:evt_1', at: 1 },
    { account: 'a', kind: 'debit', source: 'stripe', reference: 'pi_1:evt_2', at: 2 },
    { account: 'a', kind: 'debit_reversal', source: 'stripe', reference: 'pi_1:evt_3', at: 3 },
    { account: 'a', kind: 'payment_refund', source: 'stripe', reference: 'pi_10:evt_4', at: 4 },
    { account: 'a', kind: 'cycle_grant', source: 'cycle', reference: 'a:5', at: 5 },
  ];
  for (const r of rows) await db.exec(insertSql(r));
  await before.close();
  assert.deepEqual(await rareEntryIndexes(db), [], 'written before the step');
  const upgraded = await runStepsFrom(db, 17);
  assert.deepEqual(await rareEntryIndexes(db), ['ledger_entries_allocation_grants', 'ledger_entries_take_backs']);
  const [steps, grants] = await upgraded.write(async (tx) => [
    await tx.takeBackSteps('a', 'stripe', 'pi_1:'),
    await tx.allocationGrantsSince('a', 0),
  ]);
  assert.deepEqual(
    steps.map((e) => e.reference),
    ['pi_1:evt_1', 'pi_1:evt_3'],
  );
  assert.deepEqual(
    grants.map((e) => e.kind),
    ['opening_balance', 'cycle_grant'],
  );
}

describe('migration 17 on a ledger written before it', () => {
  it('SQLite: builds both indexes over the entries there; what was written before is found', () =>
    onSqliteFile(upgradeAcross17));

  it('PostgreSQL: the same', { skip: skipPg }, () => onPgDatabase(upgradeAcross17));
});

describe("SQLite's plans of the rare entries a write reads", () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-rare-entries-'));
  const path = join(dir, 'plans.db');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("search each read's own partial index, and sort nothing but its few rows", async () => {
    const store = new SqliteStore({ path });
    await store.migrate();
    await store.close();
    const conn = new SqliteConnection(path, 5000);
    const plan = (sql: string, ...params: (string | number)[]) =>
      conn.all(`EXPLAIN QUERY PLAN ${sql}`, ...params).map((r) => String(r.detail));
    try {
      const steps = plan(takeBackStepsSql(SQLITE_DIALECT), 'a', 'stripe', 5, 'pi_1:');
      assert.deepEqual(
        steps,
        ['SEARCH ledger_entries USING INDEX ledger_entries_take_backs (account_id=? AND source=?)'],
        steps.join(' | '),
      );
      const grants = plan(ALLOCATION_GRANTS_SQL, 'a', 0);
      assert.deepEqual(
        grants,
        [
          'SEARCH ledger_entries USING INDEX ledger_entries_allocation_grants (account_id=? AND at>?)',
          'USE TEMP B-TREE FOR ORDER BY',
        ],
        grants.join(' | '),
      );
    } finally {
      conn.close();
    }
  });
});

describe("PostgreSQL's plans of the rare entries a write reads", { skip: skipPg }, () => {
  it("read the account's entries of those kinds, not its deductions", () =>
    onPgDatabase(async (db) => {
      const store = db.open();
      await store.migrate();
      // An opening, 5,000 deductions on the account, and among them three take-back steps and a plan change.
      const entry = (kind: Row['kind'], source: string, reference: string, at: number) =>
        insertSql({ account: 'a', kind, source, reference, at });
      await db.exec(`${ACCOUNTS};
        ${entry('opening_balance', 'provision', 'a', 0)};
        INSERT INTO ledger_entries
          (account_id, kind, amount, allocation_delta, purchased_delta, balance_after, source, reference, feature, quantity, at)
        SELECT 'a', 'debit', -1, -1, 0, 0, 'stripe', 'pi_1:d' || i, 'x', 1, i FROM generate_series(1, 5000) AS i;
        ${entry('payment_refund', 'stripe', 'pi_1:evt_1', 5001)};
        ${entry('debit_reversal', 'stripe', 'pi_1:evt_2', 5002)};
        ${entry('payment_refund', 'stripe', 'pi_2:evt_3', 5003)};
        ${entry('plan_change', 'stripe', 'sub_1', 5004)};
        ANALYZE ledger_entries`);
      for (const [sql, params, index, entries] of [
        [numbered(takeBackStepsSql(PG_DIALECT)), ['a', 'stripe', 5, 'pi_1:'], 'ledger_entries_take_backs', 3],
        [numbered(ALLOCATION_GRANTS_SQL), ['a', 0], 'ledger_entries_allocation_grants', 2],
      ] as const) {
        const explained = await explainAnalyze(db, sql, [...params]);
        const plan = JSON.stringify(explained);
        const read = rowsRead(explained, 'ledger_entries');
        assert.match(plan, new RegExp(index), `the planner chose ${index}`);
        assert.ok(read <= entries, `read ${read} ledger rows for ${entries} entries of those kinds: ${plan}`);
      }
      const [steps, grants] = await store.write(async (tx) => [
        await tx.takeBackSteps('a', 'stripe', 'pi_1:'),
        await tx.allocationGrantsSince('a', 1),
      ]);
      assert.deepEqual(
        steps.map((e) => e.reference),
        ['pi_1:evt_1', 'pi_1:evt_2'],
      );
      assert.deepEqual(
        grants.map((e) => e.kind),
        ['plan_change'],
      );
    }));
});
