import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { assertFails, freshDb, parseJson, runCli, runJson, tempDir } from './cli-helpers.ts';

const dir = tempDir();
const FEATURE = 'outbound_call_single';

describe('idempotency keys', () => {
  it('a replayed key charges once; the same key with other parameters is a conflict', () => {
    const db = freshDb(dir);
    const first = runJson(['deduct', '7', FEATURE, '--idempotency-key', 'call-1'], db);
    assert.equal(first.replayed, false);
    assert.equal(first.balance, 99);
    const again = runJson(['deduct', '7', FEATURE, '--idempotency-key', 'call-1'], db);
    assert.equal(again.replayed, true);
    assert.equal(again.entry_id, first.entry_id);
    const human = runCli(['deduct', '7', FEATURE, '--idempotency-key', 'call-1'], { databaseUrl: db });
    assert.equal(human.status, 0);
    assert.match(human.stdout, /nothing charged again/);
    assert.ok(!human.stderr.includes('Deducted'), 'a replay logs no deduction');

    const conflict = runCli(['deduct', '7', FEATURE, '--quantity', '2', '--idempotency-key', 'call-1', '--json'], {
      databaseUrl: db,
    });
    assert.equal(conflict.status, 1);
    assert.equal(parseJson(conflict).code, 'idempotency_conflict');

    assert.equal(runJson(['balance', '7'], db).balance, 99);
    assert.equal((runJson(['history', '7'], db).entries as unknown[]).length, 2);
  });

  it('a credit is applied once per (source, reference)', () => {
    const db = freshDb(dir);
    const args = ['credit', '9', '--tokens', '25', '--source', 'support', '--reference', 'ticket-12'];
    assert.equal(runJson(args, db).balance, 125);
    const replay = runJson(args, db);
    assert.equal(replay.replayed, true);
    assert.equal(replay.balance, 125);
    const kinds = (runJson(['history', '9'], db).entries as { kind: string }[]).map((e) => e.kind);
    assert.deepEqual(kinds, ['credit', 'opening_balance']);
  });
});

describe('reconcile', () => {
  it('exits 0 when clean and 1, listing the drift, when a stored figure disagrees with the ledger', () => {
    const db = freshDb(dir);
    runJson(['deduct', '7', FEATURE], db);
    runJson(['deduct', '8', FEATURE], db);
    const clean = runCli(['reconcile'], { databaseUrl: db });
    assert.equal(clean.status, 0);
    assert.equal(clean.stdout, 'Reconciled: 2 accounts checked, no drift\n');

    const sqlite = new DatabaseSync(db.slice('sqlite:'.length));
    sqlite.exec("UPDATE accounts SET purchased = purchased + 5 WHERE id = '7'");
    sqlite.close();

    const drift = runCli(['reconcile', '--json'], { databaseUrl: db });
    assert.equal(drift.status, 1);
    const report = parseJson(drift);
    assert.equal(report.accounts_checked, 2);
    const rows = report.drift as Record<string, unknown>[];
    const balance = rows.find((d) => d.check === 'balance');
    assert.deepEqual(balance, {
      account: '7',
      check: 'balance',
      expected: 99,
      actual: 104,
      entry_id: null,
      balance: 104,
      ledger_sum: 99,
    });
    const human = runCli(['reconcile'], { databaseUrl: db });
    assert.equal(human.status, 1);
    assert.match(human.stderr, /error: drift found/);
    assert.match(human.stderr, /account 7: balance is 104, ledger says 99/);
  });
});

describe('backup', () => {
  it('writes a copy that reads the same figures, and never overwrites a file', () => {
    const db = freshDb(dir);
    runJson(['deduct', '7', FEATURE, '--quantity', '3'], db);
    runJson(['credit', '7', '--tokens', '40', '--source', 'grant', '--reference', 'b-1'], db);
    const file = path.join(dir, 'backups', 'copy.db');
    const run = runCli(['backup', file], { databaseUrl: db });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^Backed up /);
    assert.ok(fs.existsSync(file));

    const original = runJson(['balance', '7'], db);
    const copy = runJson(['balance', '7'], `sqlite:${file}`);
    assert.equal(copy.balance, 137);
    assert.deepEqual(copy, original);
    assert.deepEqual(runJson(['history', '7'], `sqlite:${file}`), runJson(['history', '7'], db));

    const before = fs.readFileSync(file);
    assertFails(runCli(['backup', file], { databaseUrl: db }), 'already exists');
    assert.deepEqual(fs.readFileSync(file), before);
  });
});

describe('operator commands', () => {
  it("adjust --set-balance restores the seed's user 7 to 42 with the reason and actor on record", () => {
    const db = freshDb(dir);
    runJson(['deduct', '7', FEATURE], db);
    const adjusted = runJson(
      ['adjust', '7', '--set-balance', '42', '--expected-balance', '99', '--reason', '58 calls lost', '--actor', 'ops'],
      db,
    );
    assert.equal(adjusted.delta, -57);
    assert.equal(adjusted.balance, 42);
    const [entry] = runJson(['history', '7', '--limit', '1'], db).entries as Record<string, unknown>[];
    assert.equal(entry?.kind, 'adjustment');
    assert.equal(entry?.reason, '58 calls lost');
    assert.equal(entry?.actor, 'ops');
    const same = runCli(['adjust', '7', '--set-balance', '42', '--reason', 'again'], { databaseUrl: db });
    assert.equal(same.status, 0);
    assert.match(same.stdout, /nothing changed/);
  });

  it('set-plan switches the plan at once and says so', () => {
    const db = freshDb(dir);
    const run = runCli(['set-plan', '7', 'pro', '--reason', 'upgrade'], { databaseUrl: db });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /plan \(new account\) → pro|plan free → pro/);
    const balance = runJson(['balance', '7'], db);
    assert.equal(balance.package, 'pro');
    assert.equal(balance.monthlyAllocation, 5000);
  });

  it('--help documents the exit codes', () => {
    for (const args of [['--help'], ['deduct', '--help']]) {
      const run = runCli(args, { databaseUrl: freshDb(dir) });
      assert.equal(run.status, 0);
      assert.match(run.stdout, /Exit codes:/);
      assert.match(run.stdout, /2 {2}a deduction refused for insufficient tokens/);
    }
  });
});
