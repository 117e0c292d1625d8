// Opening a ledger refuses a config that no longer configures a feature the ledger or a hold
// names (`Store.inUse`). That read steps through the feature indexes (migration 15) instead of
// reading every entry: the plans below may search an index but never scan either table; on
// every backend the features it finds are exactly those written, whatever was written; and a
// ledger written before the step finds the same after it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { defaultConfig } from '../../src/config/default-config.ts';
import { parseConfig } from '../../src/config/index.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { inUseSql } from '../../src/store/in-use-sql.ts';
import { PG_DIALECT, SQLITE_DIALECT } from '../../src/store/sql-dialect.ts';
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

// Ids that sort next to each other in every way (a prefix, a separator either side of a letter
// or digit), so a step that skipped or repeated a neighbour would show.
const EXTRA = ['a', 'a-b', 'a.b', 'a0', 'a_b', 'ab', 'b', 'z9'];
const config = defaultConfig();
config.features.push(...EXTRA.map((id) => ({ id, name: id, cost: 1 })));
const catalog = parseConfig(config, 'test');
const FEATURES = [...catalog.features.keys()];

const opArb = fc.record({
  op: fc.constantFrom('deduct', 'reserve', 'credit'),
  account: fc.constantFrom('u1', 'u2', 'u3'),
  feature: fc.constantFrom(...FEATURES),
});

const skipPg = await pgSuiteSkip();

for (const backend of backends()) {
  describe(`the features in use are those written [${backend.name}]`, () => {
    let db: TestStore;
    let ledger: TokenLedger;

    before(async () => {
      db = await backend.open();
      ledger = new TokenLedger({ store: db.store, catalog, clock: new ManualClock('2026-03-01T00:00:00Z') });
    });

    after(async () => {
      await ledger.close();
      await db.cleanup();
    });

    it('after any writes, inUse names each feature an entry or a hold names, once, in byte order', async () => {
      assert.deepEqual((await db.store.inUse()).features, [], 'a new ledger uses none');
      // The runs share the database: what inUse must name only grows.
      const written = new Set<string>();
      let credits = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 12 }), async (ops) => {
          for (const o of ops) {
            if (o.op === 'credit') {
              const reference = `r${credits++}`;
              await ledger.credit({ account: o.account, tokens: 20, source: 'test', reference });
            } else if (o.op === 'deduct') {
              if ((await ledger.deduct({ account: o.account, feature: o.feature })).ok) written.add(o.feature);
            } else if ((await ledger.reserve({ account: o.account, feature: o.feature })).ok) {
              written.add(o.feature);
            }
          }
          const used = await db.store.inUse();
          assert.deepEqual(used.features, [...written].sort());
          assert.deepEqual(used.plans, ['free']);
        }),
        { numRuns: 25 },
      );
    });
  });
}

/** The feature indexes of a database. */
const featureIndexes = (db: RawDatabase) => indexesAmong(db, ['holds_feature', 'ledger_entries_feature']);

/**
 * Migration 15 on a ledger written before it. Version 15 is marked applied first, so the store's
 * migrate runs every other step; the ledger is written; then the mark goes, and the next migrate
 * builds the indexes over the rows there. The features found after it are those written.
 */
async function upgradeAcross15(db: RawDatabase): Promise<void> {
  const before = await migratedBefore(db, 15);
  const ledger = new TokenLedger({ store: before, catalog, clock: new ManualClock('2026-03-01T00:00:00Z') });
  for (const feature of ['social_post', 'a_b', 'crm_ai_agent', 'social_post']) {
    assert.ok((await ledger.deduct({ account: 'old', feature })).ok);
  }
  assert.ok((await ledger.reserve({ account: 'old', feature: 'a' })).ok);
  await ledger.close();
  assert.deepEqual(await featureIndexes(db), [], 'written before the step');
  const after = await runStepsFrom(db, 15);
  assert.deepEqual(await featureIndexes(db), ['holds_feature', 'ledger_entries_feature']);
  assert.deepEqual((await after.inUse()).features, ['a', 'a_b', 'crm_ai_agent', 'social_post']);
}

describe('migration 15 on a ledger written before it', () => {
  it('SQLite: builds both indexes over the rows there; the features found are those written', () =>
    onSqliteFile(upgradeAcross15));

  it('PostgreSQL: the same', { skip: skipPg }, () => onPgDatabase(upgradeAcross15));
});

describe("SQLite's plan of the features in use", () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-in-use-'));
  const path = join(dir, 'plans.db');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads each table only by one-row probes of its feature index', async () => {
    const store = new SqliteStore({ path });
    await store.migrate();
    await store.close();
    const conn = new SqliteConnection(path, 5000);
    try {
      const steps = conn.all(`EXPLAIN QUERY PLAN ${inUseSql(SQLITE_DIALECT).features}`);
      const detail = new Map(steps.map((r) => [Number(r.id), String(r.detail)]));
      const plan = steps.map((r) => String(r.detail)).join(' | ');
      const reads = steps.filter((r) => /\b(ledger_entries|holds)\b/.test(String(r.detail)));
      assert.equal(reads.length, 4, `the first feature and the next, in each table: ${plan}`);
      for (const r of reads) {
        // A scalar subquery (ORDER BY feature LIMIT 1) stops at its first row: one probe, not a walk.
        assert.match(String(r.detail), /^SEARCH (ledger_entries|holds) USING COVERING INDEX \w+_feature /, plan);
        assert.match(detail.get(Number(r.parent)) ?? '', /SCALAR SUBQUERY/, plan);
      }
    } finally {
      conn.close();
    }
  });
});

describe("PostgreSQL's plan of the features in use", { skip: skipPg }, () => {
  it('reads a row of the feature index per feature, not every entry', () =>
    onPgDatabase(async (db) => {
      const store = db.open();
      await store.migrate();
      // 5,000 entries of two features, and a hold of a third.
      await db.exec(`INSERT INTO accounts (id, plan, cycle_anchor, cycle_start, created_at, updated_at)
        VALUES ('a', 'free', 0, 0, 0, 0);
        INSERT INTO ledger_entries
          (account_id, kind, amount, allocation_delta, purchased_delta, balance_after, feature, quantity, at)
        SELECT 'a', 'debit', -1, -1, 0, 0, CASE WHEN i % 2 = 0 THEN 'x' ELSE 'y' END, 1, i
        FROM generate_series(1, 5000) AS i;
        INSERT INTO holds (account_id, amount, feature, created_at, expires_at) VALUES ('a', 1, 'w', 0, 1);
        ANALYZE ledger_entries, holds`);
      const explained = await explainAnalyze(db, inUseSql(PG_DIALECT).features);
      const plan = JSON.stringify(explained);
      const read = rowsRead(explained, 'ledger_entries');
      assert.match(plan, /ledger_entries_feature/, 'the planner chose the feature index');
      assert.ok(read <= 3, `read ${read} ledger rows for 2 features: ${plan}`);
      assert.deepEqual((await store.inUse()).features, ['w', 'x', 'y']);
    }));
});
