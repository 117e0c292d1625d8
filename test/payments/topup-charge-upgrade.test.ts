// Migration 20 on a database written before it: intents charging then keep no recorded charge,
// and are still settled safely (a webhook of their PaymentIntent, which names no attempt, credits
// the package it names at its price); a pending intent's next attempt records its charge.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ledgerOn } from '../helpers/ledger.ts';
import { pgSuiteSkip } from '../helpers/pg-server.ts';
import { migratedBefore, onPgDatabase, onSqliteFile, type RawDatabase, runStepsFrom } from '../helpers/upgrade-db.ts';
import { applyEvent, mustBegin } from './topup-attempt-helpers.ts';

const STEP = 20;
const skipPg = await pgSuiteSkip();

/** Two accounts with a Stripe card and auto top-up on (tokens_100 at first, tokens_2000 picked since), written as the code before did. */
async function writtenBefore(db: RawDatabase, now: number): Promise<void> {
  for (const [account, status, attempt, pi] of [
    ['charging', 'charging', 1, "'pi_before'"],
    ['waiting', 'pending', 1, 'NULL'],
  ] as const) {
    await db.exec(`
      INSERT INTO accounts (id, plan, cycle_anchor, cycle_start, created_at, updated_at) VALUES ('${account}', 'free', ${now}, ${now}, ${now}, ${now});
      INSERT INTO payment_methods (account_id, provider, method_id, brand, last4, saved_at) VALUES ('${account}', 'stripe', 'pm_${account}', 'visa', '4242', ${now});
      INSERT INTO auto_topups (account_id, enabled, threshold, package_id, monthly_limit, status, failures, last_error, updated_at)
        VALUES ('${account}', 1, 500, 'tokens_2000', 5, 'active', 0, NULL, ${now});
      INSERT INTO topup_intents (account_id, sequence, status, attempt, provider, payment_id, next_attempt_at, created_at, updated_at)
        VALUES ('${account}', 1, '${status}', ${attempt}, 'stripe', ${pi}, ${now}, ${now}, ${now});`);
  }
}

async function upgradeAcross20(db: RawDatabase): Promise<void> {
  const start = '2026-01-15T10:00:00Z';
  const old = await migratedBefore(db, STEP);
  await old.close();
  await writtenBefore(db, Date.parse(start));
  const { ledger } = ledgerOn(await runStepsFrom(db, STEP), start, false);
  try {
    const [charging] = await ledger.autoTopup.intents('charging');
    assert.deepEqual([charging?.status, charging?.paymentId, charging?.charge], ['charging', 'pi_before', null]);
    assert.ok(charging);
    // Its PaymentIntent's webhook (metadata from before: no attempt) credits what it charged, once.
    const paid = {
      type: 'topup_paid' as const,
      paymentId: 'pi_before',
      intent: charging.id,
      attempt: null,
      account: 'charging',
      packageId: 'tokens_100',
      amount: 500,
      currency: 'usd',
    };
    assert.equal((await applyEvent(ledger, paid)).status, 'applied');
    assert.equal((await applyEvent(ledger, paid)).status, 'applied');
    assert.equal((await ledger.getBalance('charging')).purchased, 100);
    const [settled] = await ledger.autoTopup.intents('charging');
    assert.equal(settled?.status, 'succeeded');

    // The pending one's next attempt charges the package picked, recorded on the intent.
    const a = await mustBegin(ledger, 'waiting');
    assert.deepEqual([a.attempt, a.package.id], [2, 'tokens_2000']);
    const [waiting] = await ledger.autoTopup.intents('waiting');
    assert.deepEqual(waiting?.charge, { packageId: 'tokens_2000', tokens: 2_000, amount: 10_000, currency: 'usd' });
    assert.deepEqual((await ledger.reconcile()).drift, []);
  } finally {
    await ledger.close();
  }
}

describe('migration 20 on a database written before it', () => {
  it('SQLite: open intents upgrade without a charge, and are settled by price', () => onSqliteFile(upgradeAcross20));
  it('PostgreSQL: the same', { skip: skipPg }, () => onPgDatabase(upgradeAcross20));
});
