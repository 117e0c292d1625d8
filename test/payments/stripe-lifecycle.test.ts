import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fixture, type PaymentApp, paymentApp, stripeEvent } from './payment-helpers.ts';
import { paidInvoice as invoice, subscribeStarter } from './subscription-fixtures.ts';

// Regression tests for issue 13 (items 1, 2 and 5), through Stripe's webhook with real payload
// shapes and real signatures.

const paidSession = (over: { account: string; reference: string; pi: string | null; pkg: string }) =>
  fixture('checkout.session', {
    id: over.reference,
    mode: 'payment',
    status: 'complete',
    payment_status: 'paid',
    client_reference_id: over.account,
    metadata: { tokenmeter_account: over.account, tokenmeter_package: over.pkg },
    amount_total: 500,
    amount_subtotal: 500,
    currency: 'usd',
    payment_intent: over.pi,
  });

const charge = (id: string, pi: string, amountRefunded: number, amount = 500) =>
  fixture('charge', {
    id,
    payment_intent: pi,
    amount,
    amount_captured: amount,
    captured: true,
    amount_refunded: amountRefunded,
    refunded: amountRefunded === amount,
  });

/** A Dispute object as Stripe sends it in `charge.dispute.*` events. */
const dispute = (id: string, pi: string, charge: string, amount: number, status: string) => ({
  id,
  object: 'dispute',
  amount,
  charge,
  currency: 'usd',
  payment_intent: pi,
  reason: 'fraudulent',
  status,
  is_charge_refundable: false,
  livemode: false,
  metadata: {},
  created: 1_700_000_000,
});

describe('Stripe payment lifecycle (issue 13)', () => {
  let t: PaymentApp;
  let n = 0;
  const purchased = async (account: string) => (await t.ledger.getBalance(account)).purchased;

  /** A paid $5 / 100-token top-up tokenmeter created. */
  const boughtTopup = async () => {
    const id = `${++n}`;
    const p = { account: `lc${id}`, reference: `cs_lc_${id}`, pi: `pi_lc_${id}`, charge: `ch_lc_${id}` };
    await t.ledger.payments.startPayment({
      provider: 'stripe',
      reference: p.reference,
      account: p.account,
      package: t.ledger.payments.findPackage('tokens_100'),
    });
    await t.webhook(
      stripeEvent('checkout.session.completed', paidSession({ ...p, pkg: 'tokens_100' }), `evt_cs_${p.account}`),
    );
    assert.equal(await purchased(p.account), 100);
    return p;
  };

  /** An account on `plan_starter` through a subscription checkout, its first period paid. */
  const subscribed = () => subscribeStarter(t, `${++n}`, 'sb');

  before(async () => {
    t = await paymentApp({ testProvider: false });
  });
  after(() => t.close());

  describe('item 1: refunds and disputes do not depend on delivery order', () => {
    it('regression: $4 refunded and $1 disputed of a $5 / 100-token purchase ends at 0 tokens in either order', async () => {
      const orders = [
        ['refund', 'dispute'],
        ['dispute', 'refund'],
      ] as const;
      for (const order of orders) {
        const p = await boughtTopup();
        for (const step of order) {
          const body =
            step === 'refund'
              ? stripeEvent('charge.refunded', charge(p.charge, p.pi, 400))
              : stripeEvent(
                  'charge.dispute.created',
                  dispute(`dp_${p.account}`, p.pi, p.charge, 100, 'needs_response'),
                );
          assert.equal((await t.webhook(body)).json().status, 'applied');
        }
        assert.equal(await purchased(p.account), 0, order.join(' then '));
        assert.equal((await t.ledger.payments.history(p.account))[0]?.tokensTakenBack, 100);
      }
    });

    it('regression: a full refund and a dispute the merchant wins take back everything, whenever the refund arrives', async () => {
      const orders = [
        ['refund', 'opened', 'won'],
        ['opened', 'won', 'refund'],
        ['opened', 'refund', 'won'],
        ['won', 'opened', 'refund'], // the close delivered before the open must not reopen it
      ] as const;
      for (const order of orders) {
        const p = await boughtTopup();
        const dp = `dp_${p.account}`;
        for (const step of order) {
          const body =
            step === 'refund'
              ? stripeEvent('charge.refunded', charge(p.charge, p.pi, 500))
              : step === 'opened'
                ? stripeEvent('charge.dispute.created', dispute(dp, p.pi, p.charge, 500, 'needs_response'))
                : stripeEvent('charge.dispute.closed', dispute(dp, p.pi, p.charge, 500, 'won'));
          await t.webhook(body);
        }
        assert.equal(await purchased(p.account), 0, order.join(' then '));
        const row = (await t.ledger.payments.history(p.account))[0];
        assert.equal(row?.tokensTakenBack, 100, order.join(' then '));
        assert.equal(row?.status, 'refunded', order.join(' then '));
      }
    });

    it('a dispute lost after it was opened keeps its share; a won one arriving before the open gives nothing back twice', async () => {
      const p = await boughtTopup();
      const dp = `dp_${p.account}`;
      await t.webhook(stripeEvent('charge.dispute.created', dispute(dp, p.pi, p.charge, 250, 'needs_response')));
      assert.equal(await purchased(p.account), 50);
      await t.webhook(stripeEvent('charge.dispute.closed', dispute(dp, p.pi, p.charge, 250, 'lost')));
      // An update sent before the close but delivered after it changes nothing.
      await t.webhook(stripeEvent('charge.dispute.updated', dispute(dp, p.pi, p.charge, 250, 'under_review')));
      assert.equal(await purchased(p.account), 50);
      assert.equal((await t.ledger.payments.history(p.account))[0]?.status, 'disputed');
      assert.equal((await t.ledger.reconcile()).drift.length, 0);
    });
  });

  describe('item 2: subscriptions grant once per billing period', () => {
    it('regression: a second invoice for the same period grants nothing (it took 1,000 to 1,500)', async () => {
      const s = await subscribed();
      const again = invoice({
        id: `in_${s.id}_b`,
        sub: s.sub,
        pi: `pi_in_${s.id}_b`,
        reason: 'subscription_cycle',
        start: s.start,
      });
      assert.equal((await t.webhook(stripeEvent('invoice.paid', again))).statusCode, 200);
      assert.equal((await t.ledger.getBalance(s.account)).allocation, 1100);
      const grants = (await t.ledger.history(s.account, { limit: 50 })).entries.filter((e) => e.kind === 'cycle_grant');
      assert.equal(grants.length, 1);
    });

    it('proration and manual invoices grant nothing; the next period grants once', async () => {
      const s = await subscribed();
      for (const reason of ['subscription_update', 'manual']) {
        const other = invoice({
          id: `in_${s.id}_${reason}`,
          sub: s.sub,
          pi: `pi_${s.id}_${reason}`,
          reason,
          start: s.start + 86_400,
          amount: 1200,
        });
        assert.equal((await t.webhook(stripeEvent('invoice.paid', other))).json().status, 'applied');
      }
      assert.equal((await t.ledger.getBalance(s.account)).allocation, 1100);
      const next = invoice({
        id: `in_${s.id}_n`,
        sub: s.sub,
        pi: `pi_${s.id}_n`,
        reason: 'subscription_cycle',
        start: s.start + 30 * 86_400,
      });
      await t.webhook(stripeEvent('invoice.paid', next));
      await t.webhook(stripeEvent('invoice.paid', next));
      assert.equal((await t.ledger.getBalance(s.account)).allocation, 1000 + 500); // 1100 unused, 500 roll over
    });

    it('regression: a refund of a subscription charge takes back the period grant in proportion (it stayed pending)', async () => {
      const s = await subscribed();
      const half = await t.webhook(stripeEvent('charge.refunded', charge(`ch_${s.id}`, s.pi, 2450, 4900)));
      assert.equal(half.json().status, 'applied');
      assert.equal((await t.ledger.getBalance(s.account)).balance, 1100 - 500);
      await t.webhook(
        stripeEvent('charge.dispute.created', dispute(`dp_${s.id}`, s.pi, `ch_${s.id}`, 2450, 'needs_response')),
      );
      assert.equal((await t.ledger.getBalance(s.account)).balance, 100);
      assert.equal((await t.ledger.reconcile()).drift.length, 0);
    });

    it('regression: an invoice paid after the subscription was deleted grants nothing and is unmatched with its reason', async () => {
      const s = await subscribed();
      const deleted = { id: s.sub, object: 'subscription', status: 'canceled', metadata: {} };
      await t.webhook(stripeEvent('customer.subscription.deleted', deleted));
      const before = await t.ledger.getBalance(s.account);
      assert.equal(before.plan, 'free');
      const late = invoice({
        id: `in_${s.id}_late`,
        sub: s.sub,
        pi: `pi_${s.id}_late`,
        reason: 'subscription_cycle',
        start: s.start + 30 * 86_400,
      });
      const r = await t.webhook(stripeEvent('invoice.paid', late, `evt_late_${s.id}`));
      assert.equal(r.json().status, 'unmatched');
      const after = await t.ledger.getBalance(s.account);
      assert.equal(after.plan, 'free');
      assert.equal(after.balance, before.balance);
      const unmatched = await t.ledger.payments.unmatchedEvents();
      assert.equal(unmatched.find((e) => e.eventId === `evt_late_${s.id}`)?.reason, 'subscription_canceled');
      // Renewed lazily again: a month later the free plan's allocation comes back by itself.
      t.clock.advance(32 * 86_400_000);
      assert.equal((await t.ledger.getBalance(s.account)).allocation, 100);
    });
  });

  describe('item 2: after a cancellation', () => {
    it('an invoice paid after an update with status canceled grants nothing and is unmatched', async () => {
      const s = await subscribed();
      const canceled = { id: s.sub, object: 'subscription', status: 'canceled', metadata: {} };
      await t.webhook(stripeEvent('customer.subscription.updated', canceled));
      const before = await t.ledger.getBalance(s.account);
      const late = invoice({
        id: `in_${s.id}_late`,
        sub: s.sub,
        pi: `pi_${s.id}_late`,
        reason: 'subscription_cycle',
        start: s.start + 30 * 86_400,
      });
      const r = await t.webhook(stripeEvent('invoice.paid', late, `evt_late_upd_${s.id}`));
      assert.equal(r.json().status, 'unmatched');
      const after = await t.ledger.getBalance(s.account);
      assert.equal(after.balance, before.balance);
      assert.equal(after.plan, before.plan);
      const unmatched = await t.ledger.payments.unmatchedEvents();
      assert.equal(unmatched.find((e) => e.eventId === `evt_late_upd_${s.id}`)?.reason, 'subscription_canceled');
    });
  });

  describe('item 5: sessions tokenmeter did not create', () => {
    it('regression: a Payment Link session naming tokens_2000 for 1 cent is unmatched with its reason, not credited', async () => {
      await t.ledger.deduct({ account: 'linkbuyer', feature: 'social_post' });
      const cheap = {
        ...paidSession({ account: 'linkbuyer', reference: 'cs_link_1', pi: 'pi_link_1', pkg: 'tokens_2000' }),
        amount_total: 1,
      };
      const r = await t.webhook(stripeEvent('checkout.session.completed', cheap, 'evt_link_cheap'));
      assert.equal(r.json().status, 'unmatched');
      assert.equal(await purchased('linkbuyer'), 0);
      const euros = {
        ...paidSession({ account: 'linkbuyer', reference: 'cs_link_2', pi: 'pi_link_2', pkg: 'tokens_2000' }),
        amount_total: 10_000,
        currency: 'eur',
      };
      assert.equal(
        (await t.webhook(stripeEvent('checkout.session.completed', euros, 'evt_link_eur'))).json().status,
        'unmatched',
      );
      assert.equal(await purchased('linkbuyer'), 0);
      const reasons = new Map((await t.ledger.payments.unmatchedEvents()).map((e) => [e.eventId, e.reason]));
      assert.equal(reasons.get('evt_link_cheap'), 'price_mismatch');
      assert.equal(reasons.get('evt_link_eur'), 'price_mismatch');
    });

    it('a Payment Link session at the package price is credited', async () => {
      await t.ledger.deduct({ account: 'linkbuyer2', feature: 'social_post' });
      const fair = {
        ...paidSession({ account: 'linkbuyer2', reference: 'cs_link_3', pi: 'pi_link_3', pkg: 'tokens_2000' }),
        amount_total: 10_000,
      };
      assert.equal((await t.webhook(stripeEvent('checkout.session.completed', fair))).json().status, 'applied');
      assert.equal(await purchased('linkbuyer2'), 2000);
    });

    it('an unknown account or package is recorded unmatched with its reason', async () => {
      const ghost = paidSession({ account: 'ghost-lc', reference: 'cs_link_4', pi: 'pi_link_4', pkg: 'tokens_100' });
      await t.webhook(stripeEvent('checkout.session.completed', ghost, 'evt_link_ghost'));
      const nopkg = paidSession({ account: 'linkbuyer', reference: 'cs_link_5', pi: 'pi_link_5', pkg: 'nope' });
      await t.webhook(stripeEvent('checkout.session.completed', nopkg, 'evt_link_nopkg'));
      const reasons = new Map((await t.ledger.payments.unmatchedEvents()).map((e) => [e.eventId, e.reason]));
      assert.equal(reasons.get('evt_link_ghost'), 'unknown_account');
      assert.equal(reasons.get('evt_link_nopkg'), 'unknown_package');
    });
  });
});
