// The offline test provider's off-session charges against the real ledger and store, per
// backend: one charge per idempotency key in its books (test_charges), kept in the database as
// a real provider keeps its own, so a retry or a recovery after a crash never charges twice.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import type { ManualClock } from '../../src/core/clock.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import type { OffSessionCharge, SavedMethod } from '../../src/payments/payment-provider.ts';
import { TestProvider } from '../../src/payments/test-provider.ts';
import { backends, type TestStore } from '../helpers/backends.ts';
import { catalog, ledgerOn } from '../helpers/ledger.ts';

const pkg = catalog.packages.get('tokens_500') ?? assert.fail('the default config has no tokens_500');

const card = (last4: string): SavedMethod => ({ provider: 'test', methodId: `test_pm_${last4}`, brand: 'visa', last4 });

/** A charge and what its `remember` was told, each with whether the provider's books held the payment yet. */
function charge(
  provider: { charges: TestProvider; ledger: TokenLedger },
  over: Partial<OffSessionCharge> & { idempotencyKey: string },
) {
  const remembered: { paymentId: string; alreadyCharged: boolean }[] = [];
  const input: OffSessionCharge = {
    account: 'acct-auto',
    intent: 1,
    attempt: 1,
    method: card('4242'),
    package: pkg,
    paymentId: null,
    async remember(paymentId) {
      const found = await provider.ledger.payments.testCharges.find(paymentId);
      remembered.push({ paymentId, alreadyCharged: found !== undefined });
    },
    ...over,
  };
  return { input, remembered, run: () => provider.charges.chargeOffSession(input) };
}

for (const backend of backends()) {
  describe(`test provider off-session charges [${backend.name}]`, () => {
    let db: TestStore;
    let ledger: TokenLedger;
    let clock: ManualClock;
    let provider: TestProvider;
    const ctx = () => ({ charges: provider, ledger });
    beforeEach(async () => {
      db = await backend.open();
      ({ ledger, clock } = ledgerOn(db.store));
      provider = new TestProvider({ charges: ledger.payments.testCharges, clock });
    });
    afterEach(async () => {
      await ledger.close();
      await db.cleanup();
    });

    it('charges the package price to the good card; remember gets the payment id before it is charged', async () => {
      const c = charge(ctx(), { idempotencyKey: 'topup-1-1' });
      const result = await c.run();
      assert.equal(result.status, 'succeeded');
      assert.match(result.paymentId ?? '', /^test_pi_[0-9a-f]{24}$/);
      assert.deepEqual(result, { status: 'succeeded', paymentId: result.paymentId, amount: 2500, currency: 'usd' });
      assert.deepEqual(c.remembered, [{ paymentId: result.paymentId, alreadyCharged: false }]);
      const [row, ...more] = await ledger.payments.testCharges.list('acct-auto');
      assert.equal(more.length, 0);
      assert.deepEqual(row, {
        idempotencyKey: 'topup-1-1',
        paymentId: result.paymentId,
        account: 'acct-auto',
        methodId: 'test_pm_4242',
        amount: 2500,
        currency: 'usd',
        status: 'succeeded',
        reason: null,
        createdAt: clock.now(),
      });
    });

    it('each test card off session: decided by the saved last four digits', async () => {
      const expected = [
        ['4242', null],
        ['0341', 'card_declined'],
        ['9995', 'insufficient_funds'],
        ['3184', 'authentication_required'],
        ['4444', null], // any other card behaves like 4242
      ] as const;
      for (const [last4, reason] of expected) {
        const result = await charge(ctx(), { idempotencyKey: `key-${last4}`, method: card(last4) }).run();
        if (reason === null) assert.equal(result.status, 'succeeded', last4);
        else assert.deepEqual(result, { status: 'failed', paymentId: result.paymentId, reason }, last4);
        assert.ok(result.paymentId, `a declined charge has a payment id too (${last4})`);
      }
      const rows = await ledger.payments.testCharges.list('acct-auto');
      assert.deepEqual(rows.map((r) => [r.methodId, r.status, r.reason]).sort(), [
        ['test_pm_0341', 'failed', 'card_declined'],
        ['test_pm_3184', 'failed', 'authentication_required'],
        ['test_pm_4242', 'succeeded', null],
        ['test_pm_4444', 'succeeded', null],
        ['test_pm_9995', 'failed', 'insufficient_funds'],
      ]);
    });

    it('the same key twice: one charge in the books and the first result, even if the card changed meanwhile', async () => {
      const first = await charge(ctx(), { idempotencyKey: 'topup-7-1' }).run();
      clock.advance(60_000);
      // A retry of the same attempt; were it charged again, 0341 would now decline it.
      const retry = charge(ctx(), { idempotencyKey: 'topup-7-1', method: card('0341') });
      assert.deepEqual(await retry.run(), first);
      assert.deepEqual(
        retry.remembered.map((r) => r.paymentId),
        [first.paymentId],
      );
      assert.equal((await ledger.payments.testCharges.list('acct-auto')).length, 1);
    });

    it('a declined charge asked again with its key stays declined, and nothing new is charged', async () => {
      const first = await charge(ctx(), { idempotencyKey: 'topup-8-1', method: card('9995') }).run();
      const again = await charge(ctx(), { idempotencyKey: 'topup-8-1', method: card('9995') }).run();
      assert.deepEqual(again, first);
      assert.equal(first.status, 'failed');
      assert.equal((await ledger.payments.testCharges.list('acct-auto')).length, 1);
    });

    it('recovery by payment id: the stored charge is returned, nothing charged or remembered again', async () => {
      const first = await charge(ctx(), { idempotencyKey: 'topup-9-1' }).run();
      assert.ok(first.paymentId);
      // After a crash the worker asks again with the id it stored (and the same key).
      const recovery = charge(ctx(), { idempotencyKey: 'topup-9-1', paymentId: first.paymentId, method: card('0341') });
      assert.deepEqual(await recovery.run(), first);
      assert.deepEqual(recovery.remembered, []);
      assert.equal((await ledger.payments.testCharges.list('acct-auto')).length, 1);
    });

    it('recovery of a payment remembered but never charged (a crash in between): charged once, under that id', async () => {
      const remembered = 'test_pi_000000000000000000000abc';
      const c = charge(ctx(), { idempotencyKey: 'topup-10-1', paymentId: remembered });
      const result = await c.run();
      assert.deepEqual(result, { status: 'succeeded', paymentId: remembered, amount: 2500, currency: 'usd' });
      assert.deepEqual(c.remembered, []);
      assert.equal((await ledger.payments.testCharges.find(remembered))?.idempotencyKey, 'topup-10-1');
    });

    it('the books outlive the process: a reopened store answers a repeat with the first charge', async () => {
      const first = await charge(ctx(), { idempotencyKey: 'topup-11-1' }).run();
      const reopened = ledgerOn(await db.reopen());
      try {
        const again = new TestProvider({ charges: reopened.ledger.payments.testCharges });
        const retry = charge({ charges: again, ledger: reopened.ledger }, { idempotencyKey: 'topup-11-1' });
        assert.deepEqual(await retry.run(), first);
        assert.equal((await reopened.ledger.payments.testCharges.list('acct-auto')).length, 1);
      } finally {
        await reopened.ledger.close();
      }
    });

    it('a card another provider saved is not charged', async () => {
      const stripeCard = { ...card('4242'), provider: 'stripe' };
      const result = await charge(ctx(), { idempotencyKey: 'topup-12-1', method: stripeCard }).run();
      assert.deepEqual(result, { status: 'failed', paymentId: null, reason: 'payment_method_unknown' });
      assert.deepEqual(await ledger.payments.testCharges.list('acct-auto'), []);
    });

    it('property: concurrent charges over a few keys leave one charge per key, and every call gets that charge', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ key: fc.integer({ min: 0, max: 3 }), last4: fc.constantFrom('4242', '0341', '9995') }), {
            minLength: 1,
            maxLength: 12,
          }),
          async (calls) => {
            const account = `acct-prop-${++run}`;
            const results = await Promise.all(
              calls.map(({ key, last4 }) =>
                charge(ctx(), { account, idempotencyKey: `${account}:${key}`, method: card(last4) }).run(),
              ),
            );
            const rows = await ledger.payments.testCharges.list(account);
            assert.equal(rows.length, new Set(calls.map((c) => c.key)).size);
            calls.forEach(({ key }, i) => {
              const row = rows.find((r) => r.idempotencyKey === `${account}:${key}`);
              assert.ok(row);
              assert.equal(results[i]?.paymentId, row.paymentId);
              assert.equal(results[i]?.status, row.status);
            });
          },
        ),
        { numRuns: 15 },
      );
    });
  });
}

describe('test provider checkouts', () => {
  it('the checkout url asks the page to tick the save box when the card is to be saved', async () => {
    const db = await (backends()[0] ?? assert.fail('no backend')).open();
    const { ledger } = ledgerOn(db.store);
    try {
      const provider = new TestProvider({ charges: ledger.payments.testCharges });
      const input = { account: 'a', package: pkg, successUrl: '/s', cancelUrl: '/c' };
      const plain = await provider.createCheckout(input);
      assert.equal(plain.url, `/pay/test/${plain.checkoutId}`);
      const saving = await provider.createCheckout({ ...input, saveCard: true });
      assert.match(saving.checkoutId, /^test_cs_[0-9a-f]{24}$/);
      assert.equal(saving.url, `/pay/test/${saving.checkoutId}?save_card=1`);
    } finally {
      await ledger.close();
      await db.cleanup();
    }
  });
});
