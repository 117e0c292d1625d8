import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { assertFails, freshDb, parseJson, runCli, runJson, tempDir } from './cli-helpers.ts';

const dir = tempDir();
const FEATURE = 'outbound_call_single';

describe('bad input: a clear message, a non-zero exit, nothing written', () => {
  const db = freshDb(dir);
  const run = (...args: string[]) => runCli(args, { databaseUrl: db });

  it('account 7 starts at 99 with two ledger entries', () => {
    assert.equal(runJson(['deduct', '7', FEATURE], db).balance, 99);
  });

  it('rejects bad quantities', () => {
    assertFails(run('deduct', '7', FEATURE, '--quantity', '0'), 'quantity: must be between 1 and 1000000, got 0');
    assertFails(run('deduct', '7', FEATURE, '--quantity', '-1'), 'quantity: must be between 1 and 1000000, got -1');
    assertFails(run('deduct', '7', FEATURE, '--quantity', '1.5'), 'quantity: must be an integer, got "1.5"');
    assertFails(run('deduct', '7', FEATURE, '--quantity', 'abc'), 'quantity: must be an integer, got "abc"');
    assertFails(run('deduct', '7', FEATURE, '--quantity', '1e3'), 'quantity: must be an integer, got "1e3"');
    assertFails(run('deduct', '7', FEATURE, '--quantity', ''), 'quantity: must be an integer, got ""');
    assertFails(run('deduct', '7', FEATURE, '--quantity', '1000001'), 'quantity: must be between 1 and 1000000');
  });

  it('rejects unknown features and plans, empty and over-long accounts', () => {
    assertFails(run('deduct', '7', 'teleport'), 'Unknown feature "teleport"');
    assertFails(run('deduct', '', FEATURE), 'account: must not be empty');
    assertFails(run('deduct', 'a'.repeat(129), FEATURE), 'account: must be at most 128 characters');
    assertFails(run('balance', 'a'.repeat(129)), 'account: must be at most 128 characters');
    assertFails(run('set-plan', '7', 'gold', '--reason', 'x'), 'Unknown plan "gold"');
  });

  it('rejects adjustments without a reason, with both forms, or neither, or a bad amount', () => {
    const missing = run('adjust', '7', '--amount', '5');
    assert.equal(missing.status, 1);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /--reason/);
    assertFails(run('adjust', '7', '--amount', '5', '--reason', '   '), 'reason: is required');
    const both = run('adjust', '7', '--amount', '5', '--set-balance', '3', '--reason', 'x');
    assert.equal(both.status, 1);
    assert.match(both.stderr, /cannot be used with/);
    assertFails(run('adjust', '7', '--reason', 'x'), 'give exactly one of --amount or --set-balance');
    assertFails(run('adjust', '7', '--amount', '0', '--reason', 'x'), 'amount: must not be zero');
    assertFails(run('adjust', '7', '--amount', '2.5', '--reason', 'x'), 'amount: must be an integer, got "2.5"');
    assertFails(run('adjust', '7', '--amount', '1000000001', '--reason', 'x'), 'amount: must be between');
    assertFails(run('adjust', '7', '--set-balance', '-1', '--reason', 'x'), 'setBalance: must be between 0');
    assertFails(run('credit', '7', '--tokens', '0', '--source', 's', '--reference', 'r'), 'tokens: must be between 1');
    assertFails(run('history', '7', '--limit', 'ten'), 'limit: must be an integer, got "ten"');
  });

  it('a refused conditional adjustment (balance_changed) exits 1 and changes nothing', () => {
    const r = run('adjust', '7', '--set-balance', '42', '--expected-balance', '100', '--reason', 'restore');
    assertFails(r, 'The balance is 99, not the expected 100');
  });

  it('commander usage errors exit non-zero', () => {
    for (const args of [['frobnicate'], ['balance'], ['balance', '7', 'extra'], ['deduct', '7', FEATURE, '--bogus']]) {
      const r = run(...args);
      assert.equal(r.status, 1, args.join(' '));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /error: /);
    }
    assert.notEqual(runCli([], { databaseUrl: db }).status, 0);
  });

  it('an invalid config file exits 1 naming the file', () => {
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, JSON.stringify({ plans: 'none' }));
    assertFails(run('balance', '7', '--config', bad), bad);
    const json = runCli(['balance', '7', '--config', bad, '--json'], { databaseUrl: db });
    assert.equal(json.status, 1);
    const doc = parseJson(json);
    assert.equal(doc.code, 'config_invalid');
    assert.ok(String(doc.error).includes(bad));

    const broken = path.join(dir, 'broken.json');
    fs.writeFileSync(broken, '{ "plans": [');
    assertFails(run('deduct', '7', FEATURE, '--config', broken), `Invalid config ${broken}: not valid JSON`);
    const viaEnv = runCli(['balance', '7'], { databaseUrl: db, env: { TOKENMETER_CONFIG: broken } });
    assertFails(viaEnv, broken);
    assertFails(run('balance', '7', '--config', path.join(dir, 'missing.json')), 'missing.json');
  });

  it('a bad DATABASE_URL or a broken database file exits 1 with a clear one-line message', () => {
    assertFails(runCli(['balance', '7'], { databaseUrl: 'mysql://db/x' }), 'DATABASE_URL must start with sqlite:');
    const junk = path.join(dir, 'junk.db');
    fs.writeFileSync(junk, 'this is not a database file, only text that is long enough to have a header\n'.repeat(20));
    assertFails(runCli(['balance', '7'], { databaseUrl: `sqlite:${junk}` }), 'file is not a database');
    const json = runCli(['balance', '7', '--json'], { databaseUrl: `sqlite:${junk}` });
    assert.equal(json.status, 1);
    const doc = parseJson(json);
    assert.equal(doc.code, 'internal');
    assert.ok(!String(doc.error).includes('database'), 'an internal error hides its details');
  });

  it('after all that, account 7 is untouched and no other account exists', () => {
    const balance = runJson(['balance', '7'], db);
    assert.equal(balance.balance, 99);
    assert.equal(balance.package, 'free');
    assert.equal((runJson(['history', '7'], db).entries as unknown[]).length, 2);
    assert.equal(runJson(['reconcile'], db).accounts_checked, 1);
  });
});
