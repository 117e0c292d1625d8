// An automatic top-up credits the package it charged for. A charge whose answer was lost (a
// timeout, or the provider still processing) is asked about again later, under the same key; if
// the user picked another package meanwhile, that must not change what the old charge buys (it
// once credited the new package: 2,000 tokens for a $5 charge of tokens_100). The package, its
// tokens and its price are fixed on the intent when the attempt starts (migration 20, guarded by
// the database), and a success is credited only when it paid exactly that price.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { attemptKey } from '../../src/core/auto-topup.ts';
import type { ManualClock } from '../../src/core/clock.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import type { TopupAttempt } from '../../src/ledger/topup/auto-topup-ledger.ts';
import { TestProvider } from '../../src/payments/test-provider.ts';
import { backends, type TestStore } from '../helpers/backends.ts';
import { catalog, ledgerOn } from '../helpers/ledger.ts';
import { saveCard } from '../helpers/saved-card.ts';
import {
  applyEvent,
  armedAccount,
  beginDue,
  chargeWith,
  choosePackage,
  LEASE_MS,
  mustBegin,
} from './topup-attempt-helpers.ts';

const ops = { reason: 'test', actor: 'ops' };
const TOPUPS = ['tokens_100', 'tokens_500', 'tokens_2000'] as const;
const tokensOf = (id: string) => catalog.packages.get(id)?.tokens ?? assert.fail(`no package ${id}`);
const priceOf = (id: string) => catalog.packages.get(id)?.priceCents ?? assert.fail(`no package ${id}`);

/** The provider's webhook for a charge of an attempt (Stripe's `payment_intent.succeeded`, as normalized). */
const paidWebhook = (a: TopupAttempt, paymentId: string, over: { attempt?: number | null; amount?: number } = {}) => ({
  type: 'topup_paid' as const,
  paymentId,
  intent: a.intent,
  attempt: over.attempt === undefined ? a.attempt : over.attempt,
  account: a.account,
  packageId: a.package.id,
  amount: over.amount ?? a.package.priceCents,
  currency: a.package.currency,
});

const runsOn: Record<string, number> = { sqlite: 30, postgres: 6 };

for (const backend of backends().filter((b) => b.name in runsOn)) {
  describe(`an automatic top-up credits the package it charged [${backend.name}]`, { timeout: 120_000 }, () => {
    let db: TestStore;
    let ledger: TokenLedger;
    let clock: ManualClock;
    let provider: TestProvider;
    beforeEach(async () => {
      db = await backend.open();
      ({ ledger, clock } = ledgerOn(db.store, undefined, false, { topupRetryMs: 0 }));
      provider = new TestProvider({ charges: ledger.payments.testCharges, clock });
    });
    afterEach(async () => {
      await ledger.close();
      await db.cleanup();
    });

    const credited = async (account: string) => {
      const b = await ledger.getBalance(account);
      const payments = await ledger.payments.history(account);
      return { purchased: b.purchased, payments: payments.map((p) => [p.packageId, p.tokens, p.amount, p.status]) };
    };

    it('a lost answer asked again after the package changed credits the 100 tokens charged for $5, not 2,000', async () => {
      await armedAccount(ledger, 'inflight', 'tokens_100');
      const first = await mustBegin(ledger, 'inflight');
      assert.equal((await chargeWith(provider, ledger, first)).status, 'succeeded');
      await ledger.autoTopup.later(first, 0); // the answer was lost: asked again later

      await choosePackage(ledger, 'inflight', 'tokens_2000');

      const again = await mustBegin(ledger, 'inflight');
      assert.deepEqual(
        [again.attempt, again.idempotencyKey, again.package.id, again.package.priceCents],
        [1, first.idempotencyKey, 'tokens_100', 500],
      );
      const result = await chargeWith(provider, ledger, again);
      assert.ok(result.status === 'succeeded');
      assert.equal((await ledger.payments.testCharges.list('inflight')).length, 1);
      await ledger.autoTopup.succeeded(again, result.paymentId, result.amount, result.currency);

      assert.deepEqual(await credited('inflight'), {
        purchased: 100,
        payments: [['tokens_100', 100, 500, 'paid']],
      });
      const [intent] = await ledger.autoTopup.intents('inflight');
      assert.deepEqual(intent?.charge, { packageId: 'tokens_100', tokens: 100, amount: 500, currency: 'usd' });
      assert.deepEqual((await ledger.reconcile()).drift, []);
    });

    it('the webhook of that charge, before or after the worker, credits the same 100 tokens once', async () => {
      await armedAccount(ledger, 'hook', 'tokens_100', { provider: 'stripe' });
      const first = await mustBegin(ledger, 'hook');
      await ledger.autoTopup.remember(first, 'pi_hook');
      await ledger.autoTopup.later(first, 0);
      await choosePackage(ledger, 'hook', 'tokens_2000');
      // The worker asks again (with the package the settings name now, had it not been fixed)...
      const again = await mustBegin(ledger, 'hook');
      assert.equal(again.package.id, 'tokens_100');
      // ...and Stripe's webhook for the PaymentIntent, whose metadata names what it charged, comes too.
      assert.equal((await applyEvent(ledger, paidWebhook(first, 'pi_hook'))).status, 'applied');
      await ledger.autoTopup.succeeded(again, 'pi_hook', 500, 'usd');
      assert.deepEqual(await credited('hook'), { purchased: 100, payments: [['tokens_100', 100, 500, 'paid']] });
    });

    it('the next attempt buys the package chosen meanwhile, at its own price', async () => {
      await armedAccount(ledger, 'next', 'tokens_2000', { last4: '9995' }); // insufficient funds
      const first = await mustBegin(ledger, 'next');
      const declined = await chargeWith(provider, ledger, first);
      assert.ok(declined.status === 'failed');
      await ledger.autoTopup.failed(first, declined.paymentId, declined.reason);
      const [pending] = await ledger.autoTopup.intents('next');
      assert.deepEqual([pending?.status, pending?.charge], ['pending', null]);

      await choosePackage(ledger, 'next', 'tokens_500');
      await saveCard(ledger, 'next', { last4: '4242' }); // a good card for the next try
      const second = await mustBegin(ledger, 'next');
      assert.deepEqual([second.attempt, second.package.id], [2, 'tokens_500']);
      const paid = await chargeWith(provider, ledger, second);
      assert.ok(paid.status === 'succeeded');
      assert.equal(paid.amount, 2_500);
      await ledger.autoTopup.succeeded(second, paid.paymentId, paid.amount, paid.currency);
      assert.deepEqual(await credited('next'), { purchased: 500, payments: [['tokens_500', 500, 2_500, 'paid']] });
    });

    it('a payment that is not the attempt’s price is not credited: unmatched price_mismatch, and the attempt ends', async () => {
      await armedAccount(ledger, 'cheap', 'tokens_2000', { provider: 'stripe' });
      const a = await mustBegin(ledger, 'cheap');
      await ledger.autoTopup.remember(a, 'pi_cheap');
      const outcome = await applyEvent(ledger, paidWebhook(a, 'pi_cheap', { amount: 500 }));
      assert.deepEqual([outcome.status, outcome.reason], ['unmatched', 'price_mismatch']);
      assert.deepEqual(await credited('cheap'), { purchased: 0, payments: [] });
      const [intent] = await ledger.autoTopup.intents('cheap');
      assert.deepEqual([intent?.status, intent?.error], ['failed', 'price_mismatch']);
      // Nothing more is charged for it; the payment waits for an operator.
      assert.equal(await beginDue(ledger, 'cheap'), null);
      assert.deepEqual(
        (await ledger.payments.unmatchedEvents()).map((e) => e.reason),
        ['price_mismatch'],
      );
    });

    it('a payment naming another account than its intent’s is not credited (unknown_account)', async () => {
      await armedAccount(ledger, 'owner', 'tokens_100', { provider: 'stripe' });
      await ledger.createAccount({ account: 'intruder' });
      const a = await mustBegin(ledger, 'owner');
      await ledger.autoTopup.remember(a, 'pi_owner');
      const outcome = await applyEvent(ledger, { ...paidWebhook(a, 'pi_owner'), account: 'intruder' });
      assert.deepEqual([outcome.status, outcome.reason], ['unmatched', 'unknown_account']);
      assert.deepEqual(await credited('owner'), { purchased: 0, payments: [] });
      assert.deepEqual(await credited('intruder'), { purchased: 0, payments: [] });
      const [intent] = await ledger.autoTopup.intents('owner');
      assert.equal(intent?.status, 'charging');
    });

    describe('an intent charging since before migration 20 (no charge recorded)', () => {
      /**
       * An account whose intent was moved to charging attempt 1 of tokens_100 ($5) by the code
       * before (its charge columns null), its payment remembered, and which then picked tokens_2000.
       */
      async function legacy(account: string, paymentId: string) {
        await armedAccount(ledger, account, 'tokens_2000');
        await ledger.adjust({ account, amount: 1_000, ...ops }); // back above: the open intent is cancelled
        assert.equal(await beginDue(ledger, account), null);
        const now = clock.now();
        await db.raw(
          `INSERT INTO topup_intents (account_id, sequence, status, attempt, provider, payment_id, next_attempt_at, created_at, updated_at)
           VALUES ('${account}', 2, 'charging', 1, 'test', '${paymentId}', ${now}, ${now}, ${now})`,
        );
        const [intent] = await ledger.autoTopup.intents(account);
        assert.ok(intent?.status === 'charging' && intent.charge === null);
        return intent;
      }

      it('the worker’s answer for it, read with the package chosen since, is refused by price, not credited', async () => {
        const intent = await legacy('old', 'test_pi_old');
        // The charge the code before made and remembered: $5 for tokens_100, under the attempt's key.
        await ledger.payments.testCharges.record({
          idempotencyKey: attemptKey(intent, 1),
          paymentId: 'test_pi_old',
          account: 'old',
          methodId: 'test_pm_old',
          amount: 500,
          currency: 'usd',
          status: 'succeeded',
          reason: null,
          createdAt: clock.now(),
        });
        const a = await mustBegin(ledger, 'old');
        assert.equal(a.package.id, 'tokens_2000'); // all the code can know now
        const result = await chargeWith(provider, ledger, a);
        assert.ok(result.status === 'succeeded');
        assert.equal(result.amount, 500);
        await ledger.autoTopup.succeeded(a, result.paymentId, result.amount, result.currency);
        assert.deepEqual(await credited('old'), { purchased: 1_000, payments: [] }); // the adjustment's alone
        const [after] = await ledger.autoTopup.intents('old');
        assert.deepEqual([after?.status, after?.error], ['failed', 'price_mismatch']);
      });

      it('the webhook of its PaymentIntent (metadata without an attempt) credits the package it names at that price', async () => {
        const intent = await legacy('oldhook', 'pi_old');
        const outcome = await applyEvent(ledger, {
          type: 'topup_paid',
          paymentId: 'pi_old',
          intent: intent.id,
          attempt: null,
          account: 'oldhook',
          packageId: 'tokens_100',
          amount: 500,
          currency: 'usd',
        });
        assert.equal(outcome.status, 'applied');
        assert.deepEqual(await credited('oldhook'), {
          purchased: 1_000 + 100,
          payments: [['tokens_100', 100, 500, 'paid']],
        });
      });
    });

    it('the database keeps an attempt’s charge: fixed while it charges, set when it starts, none while pending', async () => {
      await armedAccount(ledger, 'guard', 'tokens_100');
      const [pending] = await ledger.autoTopup.intents('guard');
      assert.ok(pending);
      // A pending intent holds no charge.
      await assert.rejects(
        db.raw(
          `UPDATE topup_intents SET package_id = 'tokens_100', tokens = 100, amount = 500, currency = 'usd' WHERE id = ${pending.id}`,
        ),
      );
      // An attempt cannot start without its charge...
      await assert.rejects(
        db.raw(`UPDATE topup_intents SET status = 'charging', attempt = 1 WHERE id = ${pending.id}`),
      );
      // ...nor with half of it.
      await assert.rejects(
        db.raw(
          `UPDATE topup_intents SET status = 'charging', attempt = 1, package_id = 'tokens_100' WHERE id = ${pending.id}`,
        ),
      );
      const a = await mustBegin(ledger, 'guard');
      await ledger.autoTopup.remember(a, 'pi_guard');
      // While it charges, its package, tokens, price and number stay.
      for (const change of [
        `package_id = 'tokens_2000', tokens = 2000, amount = 10000`,
        'tokens = 2000',
        'amount = 1',
        `currency = 'eur'`,
        'attempt = 2',
        'package_id = NULL, tokens = NULL, amount = NULL, currency = NULL',
      ]) {
        await assert.rejects(db.raw(`UPDATE topup_intents SET ${change} WHERE id = ${a.intent}`), change);
      }
      const [intent] = await ledger.autoTopup.intents('guard');
      assert.deepEqual(
        [intent?.status, intent?.attempt, intent?.paymentId, intent?.charge],
        ['charging', 1, 'pi_guard', { packageId: 'tokens_100', tokens: 100, amount: 500, currency: 'usd' }],
      );
    });

    it('property: whatever packages are picked, answers lost and webhooks in between, each payment credits the package its attempt charged', async () => {
      /** One worker round, with what happens around it: the user picks a package, a webhook comes, the account spends. */
      const round = fc.record({
        pick: fc.option(fc.constantFrom(...TOPUPS), { nil: null }),
        answer: fc.constantFrom('given', 'lost', 'crash'),
        webhook: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.nat() }),
        spend: fc.boolean(),
      });
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...TOPUPS),
          fc.array(round, { minLength: 1, maxLength: 12 }),
          async (start, rounds) => {
            const account = `prop-${++run}`;
            await armedAccount(ledger, account, start);
            /** Each charge made: the attempt that made it (the package it was asked to charge). */
            const charges: { attempt: TopupAttempt; paymentId: string }[] = [];
            let adjusted = 0;
            for (const r of rounds) {
              if (r.pick !== null) await choosePackage(ledger, account, r.pick);
              clock.advance(LEASE_MS + 1); // an attempt a crashed worker left is due again
              const a = await beginDue(ledger, account);
              if (a) {
                const result = await chargeWith(provider, ledger, a);
                assert.ok(result.status === 'succeeded');
                if (!charges.some((c) => c.paymentId === result.paymentId)) {
                  charges.push({ attempt: a, paymentId: result.paymentId });
                }
                if (r.answer === 'given') {
                  await ledger.autoTopup.succeeded(a, result.paymentId, result.amount, result.currency);
                } else if (r.answer === 'lost') {
                  await ledger.autoTopup.later(a, 0);
                }
              }
              // The provider's webhook for one of the charges made (late, early, or again).
              const c = r.webhook === null ? undefined : charges[r.webhook % charges.length];
              if (c) await applyEvent(ledger, paidWebhook(c.attempt, c.paymentId), 'test');
              const { available } = await ledger.getBalance(account);
              if (r.spend && available >= 500) {
                await ledger.adjust({ account, amount: 499 - available, ...ops }); // crosses: a new intent
                adjusted += 499 - available;
              }
            }
            const madeBy = new Map(charges.map((c) => [c.paymentId, c.attempt.package.id]));
            const payments = await ledger.payments.history(account);
            for (const p of payments) {
              const pkg = madeBy.get(p.reference) ?? assert.fail(`payment ${p.reference} was never charged`);
              assert.deepEqual([p.packageId, p.tokens, p.amount], [pkg, tokensOf(pkg), priceOf(pkg)]);
            }
            for (const charge of await ledger.payments.testCharges.list(account)) {
              const pkg = madeBy.get(charge.paymentId) ?? assert.fail(`unknown charge ${charge.paymentId}`);
              assert.equal(charge.amount, priceOf(pkg));
            }
            const tokens = payments.reduce((sum, p) => sum + p.tokens, 0);
            assert.equal((await ledger.getBalance(account)).balance, 100 + adjusted + tokens);
            assert.deepEqual(await ledger.payments.unmatchedEvents(), []);
          },
        ),
        { numRuns: runsOn[backend.name] ?? 0 },
      );
      assert.deepEqual((await ledger.reconcile()).drift, []);
    });
  });
}
