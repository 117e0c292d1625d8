import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { fixture, type PaymentApp, paymentApp, sign, stripeEvent } from './payment-helpers.ts';

const paidSession = (account: string, reference: string, paymentIntent: string, pkg = 'tokens_100') =>
  fixture('checkout.session', {
    id: reference,
    mode: 'payment',
    status: 'complete',
    payment_status: 'paid',
    client_reference_id: account,
    metadata: { tokenmeter_account: account, tokenmeter_package: pkg },
    amount_total: 500,
    amount_subtotal: 500,
    currency: 'usd',
    payment_intent: paymentIntent,
  });

const refundedCharge = (charge: string, paymentIntent: string, amountRefunded: number) =>
  fixture('charge', {
    id: charge,
    payment_intent: paymentIntent,
    amount: 500,
    amount_captured: 500,
    captured: true,
    amount_refunded: amountRefunded,
    refunded: amountRefunded === 500,
  });

describe('Stripe webhook', () => {
  let t: PaymentApp;
  let n = 0;
  /** A fresh account with a checkout tokenmeter created, as the checkout route records it. */
  const started = async () => {
    const id = `${++n}`;
    const account = `w${id}`;
    const reference = `cs_test_${id}`;
    await t.ledger.payments.startPayment({
      provider: 'stripe',
      reference,
      account,
      package: t.ledger.payments.findPackage('tokens_100'),
    });
    return { account, reference, pi: `pi_${id}`, charge: `ch_${id}` };
  };
  const purchased = async (account: string) => (await t.ledger.getBalance(account)).purchased;
  const payment = async (account: string) => (await t.ledger.payments.history(account))[0];

  before(async () => {
    t = await paymentApp({ testProvider: false });
  });
  after(() => t.close());

  describe('happy paths', () => {
    it('the same event delivered 5 times, concurrently, credits once and every delivery gets 2xx', async () => {
      const p = await started();
      const body = stripeEvent('checkout.session.completed', paidSession(p.account, p.reference, p.pi));
      const responses = await Promise.all(Array.from({ length: 5 }, () => t.webhook(body)));
      assert.deepEqual(
        responses.map((r) => r.statusCode),
        [200, 200, 200, 200, 200],
      );
      assert.equal(await purchased(p.account), 100);
      assert.equal((await payment(p.account))?.status, 'paid');
    });

    it('two different events for one payment credit once', async () => {
      const p = await started();
      const session = paidSession(p.account, p.reference, p.pi);
      await Promise.all([
        t.webhook(stripeEvent('checkout.session.completed', session)),
        t.webhook(stripeEvent('checkout.session.async_payment_succeeded', session)),
      ]);
      assert.equal(await purchased(p.account), 100);
    });

    it('a purchase then two partial refunds take back the refunded shares; the balance may go negative', async () => {
      const p = await started();
      await t.webhook(stripeEvent('checkout.session.completed', paidSession(p.account, p.reference, p.pi)));
      await t.ledger.adjust({ account: p.account, amount: -200, reason: 'spent it all', actor: 'test' });
      await t.webhook(stripeEvent('charge.refunded', refundedCharge(p.charge, p.pi, 150))); // 30 tokens
      await t.webhook(stripeEvent('charge.refunded', refundedCharge(p.charge, p.pi, 400))); // 80 in all
      const view = await t.ledger.getBalance(p.account);
      assert.equal(view.balance, -80);
      assert.equal(view.featuresDisabled, true);
      const row = await payment(p.account);
      assert.equal(row?.status, 'partially_refunded');
      assert.equal(row?.tokensTakenBack, 80);
      assert.equal(row?.receiptUrl, 'https://pay.stripe.com/receipts/payment/example');
      const deduct = await t.call({
        method: 'POST',
        url: '/api/tokens/deduct',
        payload: { account: p.account, feature: 'social_post' },
      });
      assert.equal(deduct.statusCode, 402);
    });

    it('a refund delivered before its purchase is kept and applied when the purchase arrives', async () => {
      const p = await started();
      const early = await t.webhook(stripeEvent('charge.refunded', refundedCharge(p.charge, p.pi, 500)));
      assert.equal(early.statusCode, 200);
      assert.equal(early.json().status, 'pending');
      assert.equal(await purchased(p.account), 0);
      await t.webhook(stripeEvent('checkout.session.completed', paidSession(p.account, p.reference, p.pi)));
      assert.equal(await purchased(p.account), 0);
      assert.equal((await payment(p.account))?.status, 'refunded');
    });

    for (const shape of ['top-level subscription (older API)', 'parent.subscription_details (newer API)']) {
      it(`a subscription's checkout and first invoice grant one allocation: ${shape}`, async () => {
        const account = `sub-${shape.length}`;
        await t.ledger.payments.startPayment({
          provider: 'stripe',
          reference: `cs_sub_${shape.length}`,
          account,
          package: t.ledger.payments.findPackage('plan_starter'),
        });
        const sub = `sub_${shape.length}`;
        const session = fixture('checkout.session', {
          id: `cs_sub_${shape.length}`,
          mode: 'subscription',
          status: 'complete',
          payment_status: 'paid',
          payment_intent: null,
          subscription: sub,
          metadata: { tokenmeter_account: account, tokenmeter_package: 'plan_starter' },
        });
        const base = fixture('invoice', {
          id: `in_${shape.length}`,
          billing_reason: 'subscription_create',
          status: 'paid',
          paid: true,
          amount_paid: 4900,
        });
        const invoice = shape.startsWith('top')
          ? { ...base, subscription: sub }
          : {
              ...base,
              subscription: undefined,
              payment_intent: undefined,
              parent: { type: 'subscription_details', subscription_details: { subscription: sub, metadata: {} } },
            };
        // Stripe often delivers the invoice first.
        assert.equal((await t.webhook(stripeEvent('invoice.paid', invoice))).json().status, 'pending');
        await t.webhook(stripeEvent('checkout.session.completed', session));
        await t.webhook(stripeEvent('invoice.paid', invoice)); // a second event for the same invoice
        const view = await t.ledger.getBalance(account);
        assert.equal(view.plan, 'starter');
        assert.equal(view.allocation, 1000 + 100); // one grant; the free opening rolls over
        const grants = (await t.ledger.history(account, { limit: 20 })).entries.filter((e) => e.kind === 'cycle_grant');
        assert.equal(grants.length, 1);
      });
    }

    it('a paid session tokenmeter did not create: credited for a known account, else recorded unmatched', async () => {
      await t.ledger.deduct({ account: 'known', feature: 'social_post' });
      const ok = await t.webhook(
        stripeEvent('checkout.session.completed', paidSession('known', 'cs_app_1', 'pi_app_1')),
      );
      assert.equal(ok.json().status, 'applied');
      assert.equal(await purchased('known'), 100);
      const unknown = await t.webhook(
        stripeEvent('checkout.session.completed', paidSession('ghost', 'cs_app_2', 'pi_app_2')),
      );
      assert.equal(unknown.statusCode, 200);
      assert.equal(unknown.json().status, 'unmatched');
      assert.equal((await t.ledger.getBalance('ghost')).purchased, 0);
    });

    it('unknown event types and unpaid sessions are acknowledged and ignored', async () => {
      const r = await t.webhook(stripeEvent('customer.created', { id: 'cus_x', object: 'customer' }));
      assert.equal(r.statusCode, 200);
      assert.equal(r.json().status, 'ignored');
      const p = await started();
      const unpaid = { ...paidSession(p.account, p.reference, p.pi), payment_status: 'unpaid' };
      assert.equal((await t.webhook(stripeEvent('checkout.session.completed', unpaid))).json().status, 'ignored');
      assert.equal(await purchased(p.account), 0);
    });
  });

  describe('property', () => {
    it('events in any order, with repeats, end in the same state', async () => {
      await fc.assert(
        fc.asyncProperty(fc.shuffledSubarray([0, 1, 2, 3, 4, 5], { minLength: 6, maxLength: 6 }), async (order) => {
          const p = await started();
          const session = paidSession(p.account, p.reference, p.pi);
          const bodies = [
            stripeEvent('checkout.session.completed', session, `evt_a_${p.account}`),
            stripeEvent('checkout.session.async_payment_succeeded', session, `evt_b_${p.account}`),
            stripeEvent('charge.refunded', refundedCharge(p.charge, p.pi, 100), `evt_c_${p.account}`),
            stripeEvent('charge.refunded', refundedCharge(p.charge, p.pi, 250), `evt_d_${p.account}`),
            stripeEvent('charge.refunded', refundedCharge(p.charge, p.pi, 100), `evt_c_${p.account}`),
            stripeEvent('customer.updated', { id: 'cus_1', object: 'customer' }, `evt_e_${p.account}`),
          ];
          for (const i of order) {
            const body = bodies[i];
            if (body === undefined) throw new Error('bad index');
            assert.equal((await t.webhook(body)).statusCode, 200);
          }
          const view = await t.ledger.getBalance(p.account);
          assert.equal(view.purchased, 50);
          const row = await payment(p.account);
          assert.equal(row?.status, 'partially_refunded');
          assert.equal(row?.tokensTakenBack, 50);
          assert.equal(row?.amountRefunded, 250);
        }),
        { numRuns: 30 },
      );
      assert.equal((await t.ledger.reconcile()).drift.length, 0);
    });
  });

  describe('security', () => {
    const attempt = async (mutate: (body: string) => { body: string; signature: string | null }) => {
      const p = await started();
      const body = stripeEvent(
        'checkout.session.completed',
        paidSession(p.account, p.reference, p.pi),
        `evt_sec_${p.account}`,
      );
      const bad = mutate(body);
      const r = await t.webhook(bad.body, bad.signature);
      assert.equal(r.statusCode, 400);
      assert.equal(r.json().success, false);
      assert.equal(await purchased(p.account), 0);
      assert.equal((await payment(p.account))?.status, 'pending');
      // Nothing was recorded: the genuine delivery of the same event still applies.
      assert.equal((await t.webhook(body)).json().status, 'applied');
      assert.equal(await purchased(p.account), 100);
    };

    it('a forged signature (another secret) changes nothing', () =>
      attempt((body) => ({ body, signature: sign(body, { secret: 'whsec_attacker' }) })));

    it('a tampered body changes nothing', () =>
      attempt((body) => ({ body: body.replace('"tokens_100"', '"tokens_2000"'), signature: sign(body) })));

    it('a signature older than 300 s changes nothing', () =>
      attempt((body) => ({ body, signature: sign(body, { timestamp: Math.floor(Date.now() / 1000) - 301 }) })));

    it('a missing signature changes nothing', () => attempt((body) => ({ body, signature: null })));

    it('a garbage signature header changes nothing', () => attempt((body) => ({ body, signature: 't=1,v1=abc' })));
  });
});
