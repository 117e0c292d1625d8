import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freshDb, parseJson, runCli, runJson, tempDir, ZERO_MESSAGE } from './cli-helpers.ts';

const dir = tempDir();
const FEATURE = 'outbound_call_single';

describe('the seed incident through the CLI', () => {
  it('(1) a never-seen account: 100 → 99, then 99 → 98, and a new process reads 98', () => {
    const db = freshDb(dir);
    const first = runJson(['deduct', '7', FEATURE], db);
    assert.equal(first.balance_before, 100);
    assert.equal(first.balance, 99);
    const second = runJson(['deduct', '7', FEATURE], db);
    assert.equal(second.balance_before, 99);
    assert.equal(second.balance, 98);
    const read = runJson(['balance', '7'], db);
    assert.equal(read.balance, 98);
    assert.equal(read.tokens_balance, 98);
    assert.equal(read.usedThisMonth, 2);
    assert.equal(read.features_disabled, false);
    const kinds = (runJson(['history', '7'], db).entries as { kind: string }[]).map((e) => e.kind);
    assert.deepEqual(kinds, ['debit', 'debit', 'opening_balance']);
  });

  it('(2) at balance 0 a deduction exits 2 with the exact message and nothing changes', () => {
    const db = freshDb(dir);
    const set = runJson(['adjust', '7', '--set-balance', '0', '--reason', 'seed test: zero balance'], db);
    assert.equal(set.balance, 0);
    const entriesBefore = (runJson(['history', '7'], db).entries as unknown[]).length;

    const human = runCli(['deduct', '7', FEATURE], { databaseUrl: db });
    assert.equal(human.status, 2);
    assert.equal(human.stdout, '');
    assert.ok(human.stderr.split('\n').includes(ZERO_MESSAGE), human.stderr);

    const json = runCli(['deduct', '7', FEATURE, '--json'], { databaseUrl: db });
    assert.equal(json.status, 2);
    const refusal = parseJson(json);
    assert.equal(refusal.success, false);
    assert.equal(refusal.code, 'insufficient_tokens');
    assert.equal(refusal.error, ZERO_MESSAGE);
    assert.equal(refusal.balance, 0);
    assert.equal(refusal.available, 0);

    const after = runJson(['balance', '7'], db);
    assert.equal(after.balance, 0);
    assert.equal(after.features_disabled, true);
    assert.equal((runJson(['history', '7'], db).entries as unknown[]).length, entriesBefore);
  });

  it('(3) set to 10: five deductions → 5, five more → 0, one more refused with exit 2', () => {
    const db = freshDb(dir);
    runJson(['adjust', '7', '--set-balance', '10', '--reason', 'seed test: ten'], db);
    let last: Record<string, unknown> = {};
    for (let i = 0; i < 5; i++) last = runJson(['deduct', '7', FEATURE], db);
    assert.equal(last.balance, 5);
    for (let i = 0; i < 5; i++) last = runJson(['deduct', '7', FEATURE], db);
    assert.equal(last.balance, 0);
    const refused = runCli(['deduct', '7', FEATURE], { databaseUrl: db });
    assert.equal(refused.status, 2);
    assert.ok(refused.stderr.includes(ZERO_MESSAGE));
    assert.equal(runJson(['balance', '7'], db).balance, 0);
    assert.equal(runCli(['reconcile'], { databaseUrl: db }).status, 0);
  });
});
