// Migration 19 rebuilds SQLite's ledger, grants and holds with each CHECK's IN list spelled as
// comparisons (src/store/schema/sqlite-check-lists.ts): the same rules, cheaper to evaluate.
// These tests hold it to "the same rules": databases of both spellings accept and refuse every
// generated row alike, and an upgraded database keeps every row, counter, index and trigger.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ENTRY_KINDS } from '../../src/core/entry.ts';
import { withoutInLists } from '../../src/store/schema/sqlite-check-lists.ts';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { accepted, ledgerOn } from '../helpers/ledger.ts';
import { withDb } from '../helpers/sqlite-file.ts';
import { migratedBefore, onSqliteFile, runStepsFrom } from '../helpers/upgrade-db.ts';
import { normalizeSqliteSchema, type SqliteSchemaRow } from './schema-snapshot.ts';

const STEP = 19;
const TABLES = ['ledger_entries', 'grants', 'holds'];

describe('withoutInLists', () => {
  it('spells IN and NOT IN so that SQLite gives the same answer for every value, NULL included', () => {
    const db = new DatabaseSync(':memory:');
    try {
      const word = fc.stringMatching(/^[a-z_]{0,4}$/);
      fc.assert(
        fc.property(
          fc.uniqueArray(word, { minLength: 1, maxLength: 7 }),
          fc.option(word, { nil: null }),
          fc.boolean(),
          (list, value, not) => {
            const condition = `x ${not ? 'NOT ' : ''}IN (${list.map((v) => `'${v}'`).join(', ')})`;
            const spelled = withoutInLists(condition);
            assert.doesNotMatch(spelled, / IN \(/);
            const row = db
              .prepare(`WITH t (x) AS (SELECT ?) SELECT (${condition}) AS listed, (${spelled}) AS spelled FROM t`)
              .get(value) as { listed: unknown; spelled: unknown };
            assert.equal(row.spelled, row.listed, `${condition} on ${JSON.stringify(value)}`);
          },
        ),
        { numRuns: 500 },
      );
    } finally {
      db.close();
    }
  });
});

/** What a write came to: done, or which kind of constraint refused it (a CHECK's text differs between the spellings). */
function outcome(db: DatabaseSync, sql: string, params: (string | number | null)[]): string {
  try {
    db.prepare(sql).run(...params);
    return 'ok';
  } catch (error) {
    const message = (error as Error).message;
    return /CHECK constraint failed/.test(message) ? 'check' : message;
  }
}

describe('migration 19: the rules of the three tables, before and after', () => {
  // One database as step 18 left it, one as step 19 makes it, each with the same account.
  const dir = mkdtempSync(join(tmpdir(), 'tm-check-lists-'));
  let old: DatabaseSync;
  let now: DatabaseSync;
  /** A migrated database file, made before step 19 (which is marked applied first) or with it. */
  async function database(name: string, beforeStep: boolean): Promise<DatabaseSync> {
    const path = join(dir, name);
    if (beforeStep) {
      withDb(path, (db) => {
        db.exec(
          'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT',
        );
        for (const m of SQLITE_MIGRATIONS.filter((m) => m.version >= STEP)) {
          db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
        }
      });
    }
    const store = new SqliteStore({ path });
    await store.migrate();
    await store.close();
    const db = new DatabaseSync(path);
    db.exec('PRAGMA foreign_keys = ON');
    db.exec(`INSERT INTO accounts (id, plan, cycle_anchor, cycle_start, created_at, updated_at)
      VALUES ('a', 'free', 0, 0, 0, 0)`);
    return db;
  }
  before(async () => {
    old = await database('old.db', true);
    now = await database('now.db', false);
  });
  after(() => {
    old?.close();
    now?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('step 19 spells no IN list in the three tables or the allocation grants index, and step 18 did', () => {
    const tableSql = (db: DatabaseSync) =>
      [...TABLES, 'ledger_entries_allocation_grants'].map(
        (t) => (db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(t) as { sql: string }).sql,
      );
    for (const sql of tableSql(now)) assert.doesNotMatch(sql, / IN \(/);
    assert.ok(
      tableSql(old).every((sql) => / IN \(/.test(sql)),
      'the database before the step has the lists',
    );
  });

  it("each table's text is step 18's with its lists spelled out, and nothing else changed", () => {
    const text = (db: DatabaseSync, name: string) =>
      (db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(name) as { sql: string }).sql;
    // SQLite quotes a renamed table's name, and ALTER TABLE ADD COLUMN wrote version 11's columns on one line.
    const normal = (sql: string) =>
      sql
        .replace(/^CREATE TABLE "(\w+)"/, 'CREATE TABLE $1')
        .replace(/\s+/g, ' ')
        .trim();
    for (const name of [...TABLES, 'ledger_entries_allocation_grants']) {
      assert.equal(normal(text(now, name)), normal(withoutInLists(text(old, name))), name);
    }
  });

  const unknown = fc.constantFrom('', 'Debit', 'debit ', 'refund', 'grants');
  const small = fc.integer({ min: -3, max: 3 });
  let at = 1;

  it('accept and refuse every generated ledger entry alike', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom(...ENTRY_KINDS), unknown),
        fc.tuple(small, small, small, small),
        fc.constantFrom(0, 0, 1, -1),
        fc.constantFrom(null, '', '  ', 'why'),
        fc.constantFrom(null, 'k'),
        fc.constantFrom(-1, 0, 5),
        fc.constantFrom(0, 0, 1),
        fc.constantFrom(null, 0, 1),
        (kind, [allocation, purchased, promotional, debt], skew, reason, key, heldAfter, before6, quantity) => {
          at += 1;
          const amount = allocation + purchased + promotional - debt + skew;
          // A new key each time: the unique index on keyed debits is not what is compared here.
          const idempotencyKey = key === null ? null : `${key}-${at}`;
          const sql = `INSERT INTO ledger_entries (account_id, kind, amount, allocation_delta, purchased_delta,
            promotional_delta, debt_delta, balance_after, quantity, idempotency_key, reason, at, held_after, keyed_before_v6)
            VALUES ('a', ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)`;
          const params = [
            kind,
            amount,
            allocation,
            purchased,
            promotional,
            debt,
            quantity,
            idempotencyKey,
            reason,
            at,
            heldAfter,
            before6,
          ];
          assert.equal(outcome(now, sql, params), outcome(old, sql, params), JSON.stringify(params));
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('accept and refuse every generated grant, and every change of one, alike', () => {
    const categories = fc.oneof(fc.constantFrom('included', 'paid', 'promotional'), unknown);
    const statuses = fc.oneof(fc.constantFrom('scheduled', 'active', 'expired', 'voided'), unknown);
    let n = 0;
    fc.assert(
      fc.property(
        categories,
        statuses,
        fc.integer({ min: -1, max: 5 }),
        fc.integer({ min: -1, max: 6 }),
        statuses,
        fc.integer({ min: -2, max: 2 }),
        (category, status, tokens, remaining, nextStatus, delta) => {
          n += 1;
          const insert = `INSERT INTO grants (id, account_id, category, tokens, remaining, effective_at, source, reference,
            status, created_at) VALUES (?, 'a', ?, ?, ?, 0, 'test', ?, ?, 0)`;
          const params = [n, category, tokens, remaining, `r${n}`, status];
          const inserted = outcome(old, insert, params);
          assert.equal(outcome(now, insert, params), inserted, JSON.stringify(params));
          if (inserted !== 'ok') return;
          const update = 'UPDATE grants SET status = ?, remaining = remaining + ? WHERE id = ?';
          assert.equal(
            outcome(now, update, [nextStatus, delta, n]),
            outcome(old, update, [nextStatus, delta, n]),
            JSON.stringify([...params, nextStatus, delta]),
          );
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('accept and refuse every generated hold alike', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom('active', 'committed', 'released', 'expired'), unknown),
        fc.integer({ min: -1, max: 4 }),
        fc.constantFrom(null, 5),
        fc.integer({ min: -1, max: 5 }),
        (status, amount, closedAt, poolAmount) => {
          const sql = `INSERT INTO holds (account_id, amount, status, created_at, expires_at, closed_at, pool_amount)
            VALUES ('a', ?, ?, 0, 10, ?, ?)`;
          const params = [amount, status, closedAt, poolAmount];
          assert.equal(outcome(now, sql, params), outcome(old, sql, params), JSON.stringify(params));
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('migration 19 on a database written before it', () => {
  it('keeps every row with its id, each table counter, every index and trigger, and the ledger balances', async () => {
    await onSqliteFile(async (db) => {
      const old = await migratedBefore(db, STEP);
      const { ledger } = ledgerOn(old, '2026-11-20T10:00:00Z');
      const ops = { reason: 'test', actor: 'ops' };
      await ledger.createAccount({ account: 'a' });
      await ledger.grant({ account: 'a', tokens: 40, category: 'promotional', ...ops });
      accepted(await ledger.deduct({ account: 'a', feature: 'social_post', idempotencyKey: 'k1' }));
      accepted(await ledger.deduct({ account: 'a', feature: 'outbound_call_single' }));
      const hold = accepted(await ledger.reserve({ account: 'a', amount: 5 }));
      accepted(await ledger.commitHold(hold.holdId, 3));
      accepted(await ledger.reserve({ account: 'a', amount: 2 }));
      accepted(await ledger.adjust({ account: 'a', amount: 7, ...ops }));
      await ledger.close();

      const snapshot = async () => ({
        rows: Object.fromEntries(
          await Promise.all(TABLES.map(async (t) => [t, await db.query(`SELECT * FROM ${t} ORDER BY id`)])),
        ),
        counters: await db.query('SELECT name, seq FROM sqlite_sequence ORDER BY name'),
        columns: Object.fromEntries(
          await Promise.all(TABLES.map(async (t) => [t, await db.query(`PRAGMA table_xinfo(${t})`)])),
        ),
        // Every index and trigger, by name; the tables' own text is what the step changes.
        objects: await db.query(
          "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type <> 'table' ORDER BY name",
        ),
      });
      const was = await snapshot();
      // The counters run ahead of the highest ids, as after a rolled-back insert: the step keeps them.
      await db.exec("UPDATE sqlite_sequence SET seq = seq + 50 WHERE name IN ('ledger_entries', 'grants', 'holds')");
      const counters = await db.query('SELECT name, seq FROM sqlite_sequence ORDER BY name');

      const upgraded = await runStepsFrom(db, STEP, STEP);
      const is = await snapshot();
      assert.deepEqual(is.rows, was.rows, 'every row, with its id and columns');
      assert.deepEqual(is.counters, counters, 'each AUTOINCREMENT counter as it was');
      assert.deepEqual(is.columns, was.columns, 'the same columns, in the same order');
      // The same indexes and triggers, the allocation grants' index with its condition spelled out too.
      const spelled = (o: SqliteSchemaRow) =>
        o.name === 'ledger_entries_allocation_grants' && o.sql !== null ? { ...o, sql: withoutInLists(o.sql) } : o;
      assert.deepEqual(
        normalizeSqliteSchema(is.objects as unknown as SqliteSchemaRow[]),
        normalizeSqliteSchema((was.objects as unknown as SqliteSchemaRow[]).map(spelled)),
      );
      assert.equal((await db.query('PRAGMA foreign_key_check')).length, 0, 'no foreign key dangles');
      assert.deepEqual(
        (await db.query('PRAGMA integrity_check')).map((r) => r.integrity_check),
        ['ok'],
      );

      const { ledger: after19 } = ledgerOn(upgraded, '2026-11-20T11:00:00Z');
      try {
        const again = await after19.deduct({ account: 'a', feature: 'social_post', idempotencyKey: 'k1' });
        assert.equal(accepted(again).replayed, true, 'a key written before the step replays');
        const next = accepted(await after19.deduct({ account: 'a', feature: 'outbound_call_single' }));
        const ledgerCounter = counters.find((c) => c.name === 'ledger_entries');
        assert.ok(next.entryId > Number(ledgerCounter?.seq), 'new ids continue past the counter');
        assert.deepEqual((await after19.reconcile()).drift, []);
      } finally {
        await after19.close();
      }
    });
  });
});
