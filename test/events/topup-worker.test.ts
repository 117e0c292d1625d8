// Automatic top-up end to end in one process, per backend: real deductions cross the threshold,
// the database records the intent, the worker (woken by the commit) charges the offline test
// provider, whose books are in the same database, and the ledger credits through the payment
// event path. The provider is wrapped to answer slowly, time out after charging, or see its
// payment refunded: never two charges, never two credits, never a credit for a failed payment.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { TopupWorker } from '../../src/events/topup-worker.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { silentLogger } from '../../src/log/logger.ts';
import type { OffSessionCharge, OffSessionResult, PaymentProvider } from '../../src/payments/payment-provider.ts';
import { TestProvider } from '../../src/payments/test-provider.ts';
import { backends, type TestStore } from '../helpers/backends.ts';
import { ledgerOn } from '../helpers/ledger.ts';
import { saveCard } from '../helpers/saved-card.ts';

const ops = { reason: 'test', actor: 'ops' };

/** Resolves once `check` holds, re-checked after every commit that records events (every top-up outcome does). */
function until(ledger: TokenLedger, check: () => Promise<boolean>): Promise<void> {
  return new Promise((resolve, reject) => {
    let busy = false;
    let again = false;
    const probe = () => {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      check()
        .then((done) => {
          busy = false;
          if (done) {
            stop();
            resolve();
          } else if (again) {
            again = false;
            probe();
          }
        })
        .catch((err: unknown) => {
          stop();
          reject(err);
        });
    };
    const stop = ledger.onEventsCommitted(probe);
    probe();
  });
}

const topupEvents = async (ledger: TokenLedger, account: string) =>
  (await ledger.store.service.accountEvents(account, { before: null, limit: 1000 }))
    .reverse()
    .map((e) => e.type)
    .filter((t) => t.startsWith('topup.'));

/** The test provider with hooks around its charge: to hold it, or to lose its answer. */
class WrappedProvider implements PaymentProvider {
  readonly name = 'test';
  readonly inner: TestProvider;
  calls = 0;
  before: (() => Promise<void>) | null = null;
  after: ((result: OffSessionResult) => Promise<void>) | null = null;

  constructor(inner: TestProvider) {
    this.inner = inner;
  }
  createCheckout: TestProvider['createCheckout'] = (input) => this.inner.createCheckout(input);
  createPortal: TestProvider['createPortal'] = (input) => this.inner.createPortal(input);

  async chargeOffSession(charge: OffSessionCharge): Promise<OffSessionResult> {
    this.calls += 1;
    await this.before?.();
    const result = await this.inner.chargeOffSession(charge);
    await this.after?.(result);
    return result;
  }
}

for (const backend of backends().filter((b) => b.name === 'sqlite' || b.name === 'postgres')) {
  describe(`the top-up worker [${backend.name}]`, { timeout: 60_000 }, () => {
    let db: TestStore;
    let ledger: TokenLedger;
    let provider: WrappedProvider;
    let worker: TopupWorker;
    let stopSignal: () => void;

    beforeEach(async () => {
      db = await backend.open();
      const made = ledgerOn(db.store, undefined, undefined, { topupRetryMs: 0 });
      ledger = made.ledger;
      provider = new WrappedProvider(new TestProvider({ charges: ledger.payments.testCharges }));
      worker = new TopupWorker({
        autoTopup: ledger.autoTopup,
        provider: (name) => (name === 'test' ? provider : null),
        clock: made.clock,
        logger: silentLogger,
        leaseMs: 60_000,
        recheckMs: 0,
        pollMs: 60_000,
      });
      stopSignal = ledger.onTopupIntents(() => worker.wake());
      worker.start();
    });

    afterEach(async () => {
      stopSignal();
      await worker.stop();
      await ledger.close();
      await db.cleanup();
    });

    /** A free account (100 tokens) with a saved test card and auto top-up on: below 50, buy `pkg`. */
    async function armed(account: string, last4 = '4242', pkg = 'tokens_500', monthlyLimit = 5) {
      await ledger.createAccount({ account });
      await saveCard(ledger, account, { last4 });
      await ledger.autoTopup.put({ account, enabled: true, threshold: 50, packageId: pkg, monthlyLimit });
    }

    const succeeded = (account: string) =>
      until(ledger, async () => (await topupEvents(ledger, account)).includes('topup.succeeded'));

    it('160 concurrent deductions of 1 across the threshold: exactly one charge and one credit', async () => {
      await armed('c');
      const results = await Promise.all(
        Array.from({ length: 160 }, () => ledger.deduct({ account: 'c', feature: 'outbound_call_single' })),
      );
      await succeeded('c');
      const charged = results.filter((r) => r.ok).length;
      const charges = await ledger.payments.testCharges.list('c');
      assert.deepEqual(
        charges.map((c) => [c.status, c.amount]),
        [['succeeded', 2_500]],
      );
      assert.equal((await ledger.payments.history('c')).length, 1);
      assert.equal((await ledger.getBalance('c')).balance, 100 + 500 - charged);
      assert.deepEqual(await topupEvents(ledger, 'c'), ['topup.succeeded']);
      assert.deepEqual((await ledger.reconcile()).drift, []);
    });

    it('a card declined off session is tried three times, then auto top-up is suspended; nothing is credited', async () => {
      await armed('d', '0341');
      await ledger.adjust({ account: 'd', amount: -60, ...ops });
      await until(ledger, async () => (await topupEvents(ledger, 'd')).includes('topup.suspended'));
      assert.deepEqual(await topupEvents(ledger, 'd'), [
        'topup.failed',
        'topup.failed',
        'topup.failed',
        'topup.suspended',
      ]);
      assert.equal(provider.calls, 3);
      assert.equal((await ledger.payments.testCharges.list('d')).filter((c) => c.status === 'succeeded').length, 0);
      assert.equal((await ledger.getBalance('d')).balance, 40);
      const view = await ledger.autoTopup.get('d');
      assert.deepEqual([view.status, view.lastError], ['suspended', 'card_declined']);
    });

    it('a card that needs authentication suspends at once; insufficient funds is retried', async () => {
      await armed('a', '3184');
      await ledger.adjust({ account: 'a', amount: -60, ...ops });
      await until(ledger, async () => (await topupEvents(ledger, 'a')).includes('topup.suspended'));
      assert.deepEqual(await topupEvents(ledger, 'a'), ['topup.failed', 'topup.suspended']);
      assert.equal((await ledger.autoTopup.get('a')).lastError, 'authentication_required');

      await armed('f', '9995');
      await ledger.adjust({ account: 'f', amount: -60, ...ops });
      await until(ledger, async () => (await topupEvents(ledger, 'f')).includes('topup.suspended'));
      assert.equal((await ledger.payments.testCharges.list('f')).length, 3);
      assert.equal((await ledger.autoTopup.get('f')).lastError, 'insufficient_funds');
    });

    it('a slow provider: more crossings and wake-ups meanwhile start no second charge', async () => {
      await armed('s');
      let release = () => {};
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      let entered = () => {};
      const charging = new Promise<void>((resolve) => {
        entered = resolve;
      });
      provider.before = async () => {
        entered();
        await held;
      };
      await ledger.adjust({ account: 's', amount: -60, ...ops }); // 40
      await charging;
      // Back above and below again while the charge hangs: the open intent takes it.
      await ledger.adjust({ account: 's', amount: 20, ...ops });
      await ledger.adjust({ account: 's', amount: -20, ...ops });
      worker.wake();
      worker.wake();
      release();
      await succeeded('s');
      assert.equal(provider.calls, 1);
      assert.equal((await ledger.payments.testCharges.list('s')).length, 1);
      assert.equal((await ledger.getBalance('s')).balance, 540);
    });

    it('an answer lost after the provider charged (a timeout): asked again under the same key, credited once', async () => {
      await armed('t');
      let lost = 0;
      provider.after = async () => {
        if (lost++ === 0) throw new Error('timed out waiting for the provider');
      };
      await ledger.adjust({ account: 't', amount: -60, ...ops });
      await succeeded('t');
      assert.equal(provider.calls, 2);
      const charges = await ledger.payments.testCharges.list('t');
      assert.equal(charges.length, 1);
      const [intent] = await ledger.autoTopup.intents('t');
      assert.deepEqual([intent?.status, intent?.attempt, intent?.paymentId], ['succeeded', 1, charges[0]?.paymentId]);
      assert.equal((await ledger.getBalance('t')).balance, 540);
    });

    it('a card whose provider is not configured here is declined as provider_unavailable, not charged', async () => {
      await armed('p');
      await saveCard(ledger, 'p', { provider: 'stripe' });
      await ledger.adjust({ account: 'p', amount: -60, ...ops });
      await until(ledger, async () => (await topupEvents(ledger, 'p')).includes('topup.suspended'));
      assert.equal(provider.calls, 0);
      assert.equal((await ledger.autoTopup.get('p')).lastError, 'provider_unavailable');
      assert.equal((await ledger.getBalance('p')).balance, 40);
    });

    it('a payment refunded after it succeeded takes its tokens back and is never credited again', async () => {
      // A limit of one: the refund takes available below the threshold again, and that crossing
      // must charge nothing more this month (whenever the worker gets to it).
      await armed('r', '4242', 'tokens_500', 1);
      await ledger.adjust({ account: 'r', amount: -60, ...ops }); // 40, then +500
      await succeeded('r');
      const [payment] = await ledger.payments.history('r');
      assert.ok(payment?.paymentIntent);
      await ledger.payments.applyEvent({
        provider: 'test',
        eventId: 'refund-r',
        eventType: 'charge.refunded',
        command: {
          type: 'charge_refunded',
          paymentIntent: payment.paymentIntent,
          chargeId: 'ch_r',
          amountRefunded: 2_500,
          receiptUrl: null,
        },
      });
      // The worker's success reported again (a redelivered job) changes nothing.
      const [intent] = await ledger.autoTopup.intents('r');
      assert.ok(intent);
      await ledger.payments.applyEvent({
        provider: 'test',
        eventId: 'late-success-r',
        eventType: 'payment_intent.succeeded',
        command: {
          type: 'topup_paid',
          paymentId: payment.paymentIntent,
          intent: intent.id,
          attempt: intent.attempt,
          account: 'r',
          packageId: 'tokens_500',
          amount: 2_500,
          currency: 'usd',
        },
      });
      assert.equal((await ledger.getBalance('r')).balance, 40);
      assert.equal((await ledger.payments.testCharges.list('r')).length, 1);
      assert.deepEqual((await ledger.reconcile()).drift, []);
    });
  });
}
