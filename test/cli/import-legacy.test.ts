import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { assertFails, freshDb, parseJson, runCli, runJson, tempDir } from './cli-helpers.ts';
import { legacySqlite, SEED_USER_7 } from './legacy-helpers.ts';

const dir = tempDir();

type Row = Record<string, unknown>;

function entriesOf(account: string, db: string): Row[] {
  return runJson(['history', account], db).entries as Row[];
}

describe('import-legacy from the seed app (SQLite users table)', () => {
  it('opens user 7 (all NULL) on free with 100, an opening_balance entry, and says what it filled in', () => {
    const db = freshDb(dir);
    const legacy = legacySqlite(dir, [
      SEED_USER_7,
      { id: 8, balance: 250, used: 3, plan: 'starter' },
      { id: 9, balance: 40, used: 60, plan: 'gold' },
    ]);
    const report = runJson(['import-legacy', '--source', `sqlite:${legacy}`], db);
    assert.equal(report.success, true);
    assert.equal(report.dry_run, false);
    assert.equal(report.rows_read, 3);
    assert.equal(report.imported, 3);
    assert.equal(report.tokens_imported, 100 + 250 + 40);
    assert.equal(report.null_balances_initialized, 1);
    assert.equal(report.null_used_initialized, 1);
    assert.equal(report.null_plans_defaulted, 1);
    assert.deepEqual(report.unknown_plans, [{ plan: 'gold', rows: 1 }]);
    assert.equal(report.skipped, 0);
    assert.deepEqual(report.already_active, []);
    assert.deepEqual(report.rejected, []);

    const seven = runJson(['balance', '7'], db);
    assert.deepEqual([seven.balance, seven.package, seven.usedThisMonth], [100, 'free', 0]);
    const eight = runJson(['balance', '8'], db);
    assert.deepEqual([eight.balance, eight.package, eight.usedThisMonth], [250, 'starter', 3]);
    assert.equal(runJson(['balance', '9'], db).package, 'free');

    const [opening] = entriesOf('7', db);
    assert.equal(opening?.kind, 'opening_balance');
    assert.equal(opening?.source, 'import');
    assert.equal(opening?.reference, '7');
    assert.match(String(opening?.reason), /imported from sqlite:.*legacy-\d+\.db \(table users\)/);
    assert.equal(runCli(['reconcile'], { databaseUrl: db }).status, 0);
  });

  it('is idempotent: a second run imports nothing and reports every account as skipped', () => {
    const db = freshDb(dir);
    const legacy = legacySqlite(dir, [SEED_USER_7, { id: 8, balance: 5, used: 0, plan: 'free' }]);
    assert.equal(runJson(['import-legacy', '--source', `sqlite:${legacy}`], db).imported, 2);
    const again = runJson(['import-legacy', '--source', `sqlite:${legacy}`], db);
    assert.equal(again.imported, 0);
    assert.equal(again.skipped, 2);
    assert.equal(again.null_balances_initialized, 0);
    assert.equal(entriesOf('7', db).length, 1);
    const human = runCli(['import-legacy', '--source', `sqlite:${legacy}`], { databaseUrl: db });
    assert.equal(human.status, 0);
    assert.match(human.stdout, /Imported 0 accounts/);
    assert.match(human.stdout, /skipped, already imported: 2/);
  });

  it('never overwrites an account provisioned by use: lists it with both balances', () => {
    const db = freshDb(dir);
    runJson(['deduct', '9', 'outbound_call_single'], db);
    const legacy = legacySqlite(dir, [SEED_USER_7, { id: 9, balance: 40, used: 60, plan: 'starter' }]);
    const report = runJson(['import-legacy', '--source', `sqlite:${legacy}`], db);
    assert.equal(report.imported, 1);
    assert.deepEqual(report.already_active, [{ account: '9', balance: 99, legacy_balance: 40 }]);
    assert.equal(report.already_active_count, 1);
    const nine = runJson(['balance', '9'], db);
    assert.deepEqual([nine.balance, nine.package], [99, 'free']);
    assert.equal(entriesOf('9', db).length, 2);
    const human = runCli(['import-legacy', '--source', `sqlite:${legacy}`], { databaseUrl: db });
    assert.match(human.stdout, /account 9: tokenmeter 99, legacy 40/);
  });

  it('--dry-run reports the same numbers and writes nothing', () => {
    const db = freshDb(dir);
    runJson(['deduct', '9', 'outbound_call_single'], db);
    const legacy = legacySqlite(dir, [SEED_USER_7, { id: 9, balance: 40 }, { id: 10, balance: 1.5 }]);
    const preview = runJson(['import-legacy', '--source', `sqlite:${legacy}`, '--dry-run'], db);
    assert.equal(preview.dry_run, true);
    assert.equal(preview.imported, 1);
    assert.equal(preview.already_active_count, 1);
    assert.equal(preview.rejected_count, 1);
    assert.deepEqual(entriesOf('7', db), []);
    const human = runCli(['import-legacy', '--source', `sqlite:${legacy}`, '--dry-run'], { databaseUrl: db });
    assert.match(human.stdout, /^Dry run \(nothing written\)\. Would import 1 account/);
    const real = runJson(['import-legacy', '--source', `sqlite:${legacy}`], db);
    for (const key of ['imported', 'already_active_count', 'rejected_count', 'null_balances_initialized']) {
      assert.equal(real[key], preview[key], key);
    }
  });

  it('rejects rows that cannot be accounts, with the row and the reason, and imports the rest', () => {
    const db = freshDb(dir);
    const legacy = legacySqlite(dir, [
      { id: 1, balance: 10 },
      { id: 2, balance: 12.5 },
      { id: 3, balance: 'lots' },
      { id: 4, balance: 5, used: -1 },
    ]);
    const report = runJson(['import-legacy', '--source', `sqlite:${legacy}`], db);
    assert.equal(report.imported, 1);
    assert.equal(report.rejected_count, 3);
    const rejected = report.rejected as Row[];
    assert.deepEqual(
      rejected.map((r) => [r.row, r.account]),
      [
        [2, '2'],
        [3, '3'],
        [4, '4'],
      ],
    );
    assert.match(String(rejected[0]?.reason), /balance: 12\.5 is not an integer/);
    assert.match(String(rejected[1]?.reason), /balance: "lots" is not an integer/);
    assert.match(String(rejected[2]?.reason), /used this month/);
  });

  it('reads other column names', () => {
    const db = freshDb(dir);
    const file = path.join(dir, 'custom.csv');
    fs.writeFileSync(file, 'user_id,credits,spent,tier\nu-1,30,2,pro\n');
    const report = runJson(
      [
        'import-legacy',
        '--source',
        file,
        '--id-column',
        'user_id',
        '--balance-column',
        'credits',
        '--used-column',
        'spent',
        '--plan-column',
        'tier',
      ],
      db,
    );
    assert.equal(report.imported, 1);
    assert.deepEqual([runJson(['balance', 'u-1'], db).balance, runJson(['balance', 'u-1'], db).package], [30, 'pro']);
  });
});

describe('import-legacy from a CSV export', () => {
  it('reads empty fields as NULL, names unknown plans, and rejects broken records by line', () => {
    const db = freshDb(dir);
    const file = path.join(dir, 'users.csv');
    fs.writeFileSync(
      file,
      [
        'id,email,tokens_balance,tokens_used_this_month,token_package',
        '7,seven@example.com,,,',
        '8,"eight, jr@example.com",250,3,starter',
        '9,nine@example.com,40,1,platinum',
        '10,ten@example.com,5',
        '11,eleven@example.com,NULL,\\N,null',
        '',
      ].join('\r\n'),
    );
    const report = runJson(['import-legacy', '--source', file], db);
    assert.equal(report.source, `csv:${file}`);
    assert.equal(report.rows_read, 5);
    assert.equal(report.imported, 4);
    assert.equal(report.null_balances_initialized, 2);
    assert.equal(report.null_plans_defaulted, 2);
    assert.deepEqual(report.unknown_plans, [{ plan: 'platinum', rows: 1 }]);
    assert.deepEqual(report.rejected, [{ row: 4, line: 5, account: null, reason: 'has 3 fields, the header has 5' }]);
    assert.equal(runJson(['balance', '7'], db).balance, 100);
    assert.equal(runJson(['balance', '8'], db).balance, 250);
    assert.equal(runJson(['balance', '11'], db).balance, 100);
  });
});

describe('import-legacy: a source it cannot read fails with exit 1 and writes nothing', () => {
  const db = freshDb(dir);
  const legacy = legacySqlite(dir, [SEED_USER_7]);

  for (const [what, args, fragment] of [
    ['a missing SQLite file', ['--source', `sqlite:${path.join(dir, 'nope.db')}`], 'no SQLite database'],
    ['a missing CSV file', ['--source', path.join(dir, 'nope.csv')], 'no file at'],
    ['a missing table', ['--source', `sqlite:${legacy}`, '--table', 'accounts'], 'no table "accounts"'],
    ['a missing column', ['--source', `sqlite:${legacy}`, '--balance-column', 'tokens'], 'has no column "tokens"'],
    ['SQL in a name', ['--source', `sqlite:${legacy}`, '--table', 'users; DROP TABLE users'], 'not a plain SQL name'],
    ['a SQLite file given as CSV', ['--source', legacy], 'use --source sqlite:'],
    ['a bad batch size', ['--source', `sqlite:${legacy}`, '--batch-size', 'many'], 'batchSize'],
  ] as const) {
    it(what, () => {
      assertFails(runCli(['import-legacy', ...args], { databaseUrl: db }), fragment);
      const json = runCli(['import-legacy', ...args, '--json'], { databaseUrl: db });
      assert.equal(json.status, 1);
      assert.equal(parseJson(json).success, false);
    });
  }

  it('left nothing behind', () => {
    assert.deepEqual(entriesOf('7', db), []);
  });
});
