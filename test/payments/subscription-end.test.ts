import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fixture, type PaymentApp, paymentApp, stripeEvent } from './payment-helpers.ts';
import {
  DAY_S,
  paidInvoice,
  type Subscriber,
  subscribeStarter,
  subscription,
  subscriptionCheckout,
} from './subscription-fixtures.ts';

// A subscription ends once, whichever of its ending events arrives first (`updated` with an
// ended status, `deleted`), through Stripe's webhook with real payload shapes and signatures.

describe('the end of a subscription', () => {
  let t: PaymentApp;
  let n = 0;
  before(async () => {
    t = await paymentApp({ testProvider: false });
  });
  after(() => t.close());

  const ended = (s: Subscriber, status = 'canceled') =>
    subscription({ id: s.sub, account: s.account, pkg: 'plan_starter', status, start: s.start });
  const updated = (s: Subscriber, status: string) => stripeEvent('customer.subscription.updated', ended(s, status));
  const deleted = (s: Subscriber) => stripeEvent('customer.subscription.deleted', ended(s));

  /** The account's plan, whether it is still renewed by its subscription, and its end entries. */
  async function standing(account: string) {
    const view = await t.ledger.getBalance(account);
    const entries = (await t.ledger.history(account, { limit: 100 })).entries;
    return {
      plan: view.plan,
      subscriptionDriven: view.nextReset === null,
      allocation: view.allocation,
      ends: entries.filter((e) => e.kind === 'plan_change').length,
    };
  }

  it('regression: updated with status canceled before deleted returns the account to the default plan (it kept starter, 1,100, two months on)', async () => {
    for (const order of ['deleted first', 'updated first'] as const) {
      const s = await subscribeStarter(t, `${++n}`, 'end');
      const events = [updated(s, 'canceled'), deleted(s)];
      for (const body of order === 'deleted first' ? [...events].reverse() : events) {
        assert.equal((await t.webhook(body)).json().status, 'applied', order);
      }
      assert.deepEqual(
        await standing(s.account),
        { plan: 'free', subscriptionDriven: false, allocation: 100, ends: 1 },
        order,
      );
      // Renewed lazily again: two months on, the free plan's allocation, not the subscription's.
      t.clock.advance(62 * DAY_S * 1000);
      const later = await t.ledger.getBalance(s.account);
      assert.deepEqual({ plan: later.plan, allocation: later.allocation }, { plan: 'free', allocation: 100 }, order);
    }
    assert.deepEqual((await t.ledger.reconcile()).drift, []);
  });

  it('an update with status incomplete_expired ends it too; the deleted event after it changes nothing', async () => {
    const s = await subscribeStarter(t, `${++n}`, 'end');
    const back = { plan: 'free', subscriptionDriven: false, allocation: 100, ends: 1 };
    await t.webhook(updated(s, 'incomplete_expired'));
    assert.deepEqual(await standing(s.account), back);
    await t.webhook(deleted(s));
    assert.deepEqual(await standing(s.account), back);
  });

  it('nothing revives an ended subscription: a late active update, failed invoice or paid renewal', async () => {
    const s = await subscribeStarter(t, `${++n}`, 'end');
    await t.webhook(updated(s, 'canceled'));
    const active = subscription({ id: s.sub, account: s.account, pkg: 'plan_pro', start: s.start });
    assert.equal((await t.webhook(stripeEvent('customer.subscription.updated', active))).json().status, 'applied');
    const renewal = paidInvoice({
      id: `in_${s.id}_late`,
      sub: s.sub,
      pi: `pi_${s.id}_late`,
      reason: 'subscription_cycle',
      start: s.start + 30 * DAY_S,
    });
    await t.webhook(stripeEvent('invoice.payment_failed', { ...renewal, status: 'open', paid: false }));
    const late = await t.webhook(stripeEvent('invoice.paid', renewal));
    assert.equal(late.json().status, 'unmatched');
    await t.webhook(deleted(s));
    assert.deepEqual(await standing(s.account), { plan: 'free', subscriptionDriven: false, allocation: 100, ends: 1 });
    const [row] = await t.ledger.store.service.subscriptionsOf(s.account);
    assert.equal(row?.status, 'canceled');
  });

  it("a late deleted event for an ended subscription leaves the account's next subscription alone", async () => {
    const s = await subscribeStarter(t, `${++n}`, 'end');
    await t.webhook(updated(s, 'canceled'));
    // The buyer subscribes again; the first subscription's deleted event arrives after that.
    const next = { reference: `cs_${s.sub}_next`, sub: `${s.sub}_next` };
    await t.ledger.payments.startPayment({
      provider: 'stripe',
      reference: next.reference,
      account: s.account,
      package: t.ledger.payments.findPackage('plan_starter'),
    });
    const session = subscriptionCheckout({
      id: next.reference,
      sub: next.sub,
      account: s.account,
      packageId: 'plan_starter',
    });
    await t.webhook(stripeEvent('checkout.session.completed', session));
    const first = paidInvoice({
      id: `in_${next.sub}`,
      sub: next.sub,
      pi: null,
      reason: 'subscription_create',
      start: s.start,
    });
    await t.webhook(stripeEvent('invoice.paid', first));
    await t.webhook(deleted(s));
    assert.deepEqual(await standing(s.account), {
      plan: 'starter',
      subscriptionDriven: true,
      allocation: 1100,
      ends: 1,
    });
  });
});
