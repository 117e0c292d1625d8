import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { stripeEventToPaymentEvent } from '../../src/payments/stripe-events.ts';
import { type PaymentApp, paymentApp, stripeEvent } from './payment-helpers.ts';
import { DAY_S, paidInvoice, subscribeStarter, subscription } from './subscription-fixtures.ts';

const invoice = (over: { id: string; sub: string; reason: string; start: number; amount?: number }) =>
  paidInvoice({ pi: `pi_${over.id}`, ...over });

describe('customer.subscription.updated normalization', () => {
  it('carries the period start, from the item (newer API versions) or the subscription (older ones)', () => {
    const start = 1_773_144_000;
    const newer = subscription({ id: 'sub_n', account: 'a', pkg: 'plan_pro', start });
    const older = { ...newer, items: { object: 'list', data: [] }, current_period_start: start + 1 };
    for (const [object, expected] of [
      [newer, start * 1000],
      [older, (start + 1) * 1000],
    ] as const) {
      const { command } = stripeEventToPaymentEvent({
        id: 'evt',
        type: 'customer.subscription.updated',
        data: { object },
      });
      assert.equal(command.type, 'subscription_updated');
      if (command.type === 'subscription_updated') assert.equal(command.periodStart, expected);
    }
  });
});

describe('plan switches in the Stripe customer portal (issue 13, item 3)', () => {
  let t: PaymentApp;
  let n = 0;

  /** An account on `plan_starter` through a subscription checkout, its first period paid. */
  const subscribed = () => subscribeStarter(t, `${++n}`, 'ps');

  before(async () => {
    t = await paymentApp({ testProvider: false });
  });
  after(() => t.close());

  it('regression: toggling plans in the portal grants the upgrade difference once, and invoices grant none', async () => {
    const s = await subscribed();
    const up = subscription({ id: s.sub, account: s.account, pkg: 'plan_pro', start: s.start });
    const down = subscription({ id: s.sub, account: s.account, pkg: 'plan_starter', start: s.start });
    t.clock.advance(3 * DAY_S * 1000);
    assert.equal((await t.webhook(stripeEvent('customer.subscription.updated', up))).statusCode, 200);
    // Stripe bills the upgrade's proration at once: that invoice grants nothing.
    const proration = invoice({
      id: `in_${s.id}_p`,
      sub: s.sub,
      reason: 'subscription_update',
      start: s.start,
      amount: 3000,
    });
    await t.webhook(stripeEvent('invoice.paid', proration));
    let view = await t.ledger.getBalance(s.account);
    assert.equal(view.plan, 'pro');
    assert.equal(view.allocation, 1100 + 4000);
    assert.equal(view.cycleStart, s.start * 1000);
    for (let i = 0; i < 5; i++) {
      await t.webhook(stripeEvent('customer.subscription.updated', i % 2 === 0 ? down : up));
      await t.webhook(stripeEvent('customer.subscription.updated', i % 2 === 0 ? down : up)); // another event id, same switch
    }
    view = await t.ledger.getBalance(s.account);
    assert.equal(view.plan, 'starter');
    assert.equal(view.allocation, 5100);
    const switches = (await t.ledger.history(s.account, { limit: 100 })).entries.filter(
      (e) => e.kind === 'plan_change',
    );
    assert.equal(switches.filter((e) => e.amount > 0).length, 1);
    assert.equal(switches.find((e) => e.amount > 0)?.reference, `${s.sub}:${s.start * 1000}:pro`);
    assert.deepEqual((await t.ledger.reconcile()).drift, []);
  });

  it('the next period renews on the plan held then, with its rollover cap', async () => {
    const s = await subscribed();
    await t.webhook(
      stripeEvent(
        'customer.subscription.updated',
        subscription({ id: s.sub, account: s.account, pkg: 'plan_pro', start: s.start }),
      ),
    );
    assert.equal((await t.ledger.getBalance(s.account)).allocation, 5100);
    const next = s.start + 30 * DAY_S;
    t.clock.set(new Date(next * 1000 + 60_000).toISOString());
    await t.webhook(
      stripeEvent(
        'invoice.paid',
        invoice({ id: `in_${s.id}_b`, sub: s.sub, reason: 'subscription_cycle', start: next, amount: 9900 }),
      ),
    );
    const view = await t.ledger.getBalance(s.account);
    assert.equal(view.plan, 'pro');
    assert.equal(view.rolledOver, 2500); // pro's cap
    assert.equal(view.allocation, 2500 + 5000);
  });
});
