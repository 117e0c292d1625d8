import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { freshDb, parseJson, runCli, runJson, tempDir } from './cli-helpers.ts';

const dir = tempDir();
const FEATURE = 'outbound_call_single';
const LOG_LINE = 'Deducted 1 tokens from user 7 (outbound_call_single). Balance: 100 → 99';

const BALANCE_KEYS = [
  'success',
  'account',
  'exists',
  'balance',
  'tokens_balance',
  'available',
  'held',
  'usedThisMonth',
  'tokens_used_this_month',
  'package',
  'token_package',
  'monthlyAllocation',
  'tokens_rollover',
  'billing_cycle_start',
  'last_token_reset',
  'next_token_reset',
  'features_disabled',
  'allocation',
  'purchased',
  'promotional',
  'debt',
  'grants',
  'expiring_next',
  'features',
  'pool',
];

const ENTRY_KEYS = [
  'id',
  'account',
  'kind',
  'amount',
  'allocation_delta',
  'purchased_delta',
  'promotional_delta',
  'debt_delta',
  'grants',
  'balance_after',
  'feature',
  'quantity',
  'idempotency_key',
  'source',
  'reference',
  'reason',
  'actor',
  'at',
  'pool',
  'pooled',
  'member',
];

function sortedKeys(doc: object): string[] {
  return Object.keys(doc).sort();
}

describe('--json: one document on stdout, logs on stderr', () => {
  const db = freshDb(dir);

  it('deduct: the wire fields on stdout, the seed log line on stderr only', () => {
    const run = runCli(['deduct', '7', FEATURE, '--json'], { databaseUrl: db });
    assert.equal(run.status, 0, run.stderr);
    const doc = parseJson(run);
    assert.deepEqual(sortedKeys(doc), [
      'account',
      'available',
      'balance',
      'balance_before',
      'cost',
      'entry_id',
      'feature',
      'quantity',
      'replayed',
      'success',
    ]);
    assert.equal(doc.success, true);
    assert.equal(doc.replayed, false);
    assert.ok(run.stderr.includes(LOG_LINE), run.stderr);
    assert.ok(!run.stdout.includes('Deducted'), 'no log line on stdout');
    // The logs are JSON lines (stderr is not a terminal here).
    for (const line of run.stderr.trim().split('\n')) assert.equal(typeof JSON.parse(line).level, 'number');
  });

  it('deduct without --json: a readable line on stdout, still no log line there', () => {
    const run = runCli(['deduct', '7', FEATURE], { databaseUrl: db });
    assert.equal(run.status, 0);
    assert.match(run.stdout, /^Charged 1 token to account 7 for outbound_call_single x1: balance 99 → 98/);
    assert.equal(run.stdout.trim().split('\n').length, 1);
    assert.ok(!run.stdout.includes('Deducted'));
    assert.ok(run.stderr.includes('Balance: 99 → 98'));
  });

  it('balance: exactly the seed fields plus the figures, with per-feature costs', () => {
    const doc = runJson(['balance', '7'], db);
    assert.deepEqual(sortedKeys(doc), [...BALANCE_KEYS].sort());
    assert.equal(doc.balance, 98);
    assert.equal(doc.tokens_balance, 98);
    assert.equal(doc.usedThisMonth, 2);
    assert.equal(doc.tokens_used_this_month, 2);
    assert.equal(doc.package, 'free');
    assert.equal(doc.token_package, 'free');
    assert.equal(doc.monthlyAllocation, 100);
    assert.equal(doc.tokens_rollover, 0);
    assert.equal(doc.last_token_reset, null);
    assert.equal(typeof doc.billing_cycle_start, 'string');
    assert.ok(!Number.isNaN(Date.parse(String(doc.billing_cycle_start))));
    assert.equal(typeof doc.next_token_reset, 'string');
    assert.deepEqual((doc.features as Record<string, unknown>)[FEATURE], {
      name: (doc.features as Record<string, { name: string }>)[FEATURE]?.name,
      cost: 1,
      allowed: true,
    });

    const human = runCli(['balance', '7'], { databaseUrl: db });
    assert.match(human.stdout, /^Account 7: balance 98 \(available 98\), plan free, used this month 2$/m);
  });

  it('adjust, credit, set-plan, history, reconcile, migrate, backup: one document each', () => {
    const adjusted = runJson(['adjust', '7', '--amount', '2', '--reason', 'goodwill', '--actor', 'ops:ana'], db);
    assert.deepEqual(sortedKeys(adjusted), [
      'account',
      'available',
      'balance',
      'balance_before',
      'delta',
      'entry_id',
      'replayed',
      'success',
    ]);
    assert.equal(adjusted.balance, 100);

    const credited = runJson(['credit', '7', '--tokens', '50', '--source', 'grant', '--reference', 'g-1'], db);
    assert.deepEqual(sortedKeys(credited), [
      'account',
      'available',
      'balance',
      'entry_id',
      'replayed',
      'success',
      'tokens',
    ]);
    assert.equal(credited.balance, 150);

    const plan = runJson(['set-plan', '7', 'starter', '--reason', 'upgrade'], db);
    assert.equal(plan.success, true);
    assert.equal(plan.previous_plan, 'free');
    assert.equal(plan.plan, 'starter');

    const history = runJson(['history', '7', '--limit', '2'], db);
    assert.deepEqual(sortedKeys(history), ['account', 'entries', 'next_cursor', 'success']);
    const entries = history.entries as Record<string, unknown>[];
    assert.equal(entries.length, 2);
    for (const entry of entries) assert.deepEqual(sortedKeys(entry), [...ENTRY_KEYS].sort());
    assert.equal(entries[0]?.kind, 'plan_change');
    assert.equal(entries[1]?.kind, 'credit');
    assert.match(String(entries[1]?.actor), /^cli:./, 'the default actor is cli:<os user>');
    assert.equal(typeof history.next_cursor, 'string');
    const older = runJson(['history', '7', '--limit', '2', '--cursor', String(history.next_cursor)], db);
    assert.equal((older.entries as Record<string, unknown>[])[0]?.kind, 'adjustment');
    assert.equal((older.entries as Record<string, unknown>[])[0]?.actor, 'ops:ana');

    const reconciled = runJson(['reconcile'], db);
    assert.deepEqual(reconciled, { success: true, accounts_checked: 1, drift: [] });

    const migrated = runJson(['migrate'], db);
    assert.equal(migrated.success, true);

    const backup = runJson(['backup', path.join(dir, 'json-backup.db')], db);
    assert.equal(backup.success, true);
    assert.equal(backup.file, path.join(dir, 'json-backup.db'));
  });

  it('errors: one {success:false, code, error} document, also for usage errors', () => {
    const unknown = runJson(['deduct', '7', 'teleport'], db, 1);
    assert.deepEqual(unknown, { success: false, code: 'unknown_feature', error: 'Unknown feature "teleport"' });
    const bad = runJson(['deduct', '7', FEATURE, '--quantity', '1.5'], db, 1);
    assert.deepEqual(bad, {
      success: false,
      code: 'invalid_request',
      error: 'quantity: must be an integer, got "1.5"',
    });
    const usage = runJson(['balance', '7', '--bogus'], db, 1);
    assert.equal(usage.success, false);
    assert.equal(usage.code, 'invalid_request');
    assert.match(String(usage.error), /unknown option '--bogus'/);
  });
});
