import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { fixture, type PaymentApp, paymentApp, stripeEvent } from './payment-helpers.ts';
import { DAY_S, paidInvoice, subscribeStarter, subscription, subscriptionCheckout } from './subscription-fixtures.ts';

// A plan switch made in Stripe's customer portal (`customer.subscription.updated` naming another
// plan in the first period) delivered before the period's `invoice.paid` ends the same as
// delivered after it, as Stripe sends them: the invoice grants the plan it paid for, the switch
// its difference, and the period's grants stay within the highest allocation held.

type Step = 'checkout' | 'invoice' | 'switch';
const STRIPE_ORDER: Step[] = ['checkout', 'invoice', 'switch'];
const ORDERS: Step[][] = [
  STRIPE_ORDER,
  ['checkout', 'switch', 'invoice'],
  ['switch', 'checkout', 'invoice'],
  ['switch', 'invoice', 'checkout'],
  ['invoice', 'switch', 'checkout'],
  ['invoice', 'checkout', 'switch'],
];

describe('a portal plan switch delivered before or after the first invoice.paid', () => {
  let t: PaymentApp;
  let n = 0;
  before(async () => {
    t = await paymentApp({ testProvider: false });
  });
  after(() => t.close());

  /** Buys `from` through a Stripe checkout and switches to `to` in the first period, delivering in `order`. */
  async function subscribeAndSwitch(from: string, to: string, order: Step[]) {
    const id = `${++n}`;
    const account = `sw_${id}`;
    const sub = `sub_sw_${id}`;
    const start = Math.floor(t.clock.now() / 1000);
    await t.ledger.payments.startPayment({
      provider: 'stripe',
      reference: `cs_sw_${id}`,
      account,
      package: t.ledger.payments.findPackage(from),
    });
    const price = t.ledger.payments.findPackage(from).priceCents;
    const bodies: Record<Step, string> = {
      checkout: stripeEvent(
        'checkout.session.completed',
        subscriptionCheckout({ id: `cs_sw_${id}`, sub, account, packageId: from, amount: price }),
      ),
      invoice: stripeEvent(
        'invoice.paid',
        paidInvoice({ id: `in_sw_${id}`, sub, pi: `pi_sw_${id}`, reason: 'subscription_create', start, amount: price }),
      ),
      switch: stripeEvent('customer.subscription.updated', subscription({ id: sub, account, pkg: to, start })),
    };
    for (const step of order) assert.equal((await t.webhook(bodies[step])).statusCode, 200);
    // Redeliveries change nothing.
    for (const step of order) assert.equal((await t.webhook(bodies[step])).statusCode, 200);
    const view = await t.ledger.getBalance(account);
    const entries = (await t.ledger.history(account, { limit: 100 })).entries;
    const inPeriod = entries.filter((e) => e.at >= start * 1000);
    return {
      plan: view.plan,
      subscriptionDriven: view.nextReset === null,
      cycleStart: view.cycleStart,
      allocation: view.allocation,
      balance: view.balance,
      grants: view.grants
        .map((g) => ({ category: g.category, remaining: g.remaining, expiresAt: g.expiresAt }))
        .sort((a, b) => a.remaining - b.remaining),
      // What the period granted: its invoice's grant (less the rollover it carried) and each switch's.
      periodGrant: inPeriod.filter((e) => e.kind === 'cycle_grant').reduce((sum, e) => sum + e.allocationDelta, 0),
      switchGrants: inPeriod
        .filter((e) => e.kind === 'plan_change' && e.amount > 0)
        .map((e) => ({ amount: e.amount, reference: e.reference })),
      invoiceTokens: (await t.ledger.payments.history(account)).find((p) => p.kind === 'plan')?.tokens ?? null,
      sub,
      start,
    };
  }

  it('starter → pro: 1,000 by the invoice and 4,000 by the switch in every order (never 4,000 + 5,000)', async () => {
    for (const order of ORDERS) {
      const got = await subscribeAndSwitch('plan_starter', 'plan_pro', order);
      const { sub, start, ...standing } = got;
      assert.deepEqual(
        standing,
        {
          plan: 'pro',
          subscriptionDriven: true,
          cycleStart: start * 1000,
          // The free plan's 100 rolled over into the period's grant.
          allocation: 1100 + 4000,
          balance: 5100,
          grants: [
            { category: 'included', remaining: 1100, expiresAt: null },
            { category: 'included', remaining: 4000, expiresAt: null },
          ],
          periodGrant: 1000,
          switchGrants: [{ amount: 4000, reference: `${sub}:${start * 1000}:pro` }],
          invoiceTokens: 1000,
        },
        `order ${order.join(', ')}`,
      );
      // Within the highest allocation held in the cycle (pro's 5,000).
      assert.ok(standing.periodGrant + standing.switchGrants.reduce((s, g) => s + g.amount, 0) <= 5000);
    }
    assert.deepEqual((await t.ledger.reconcile()).drift, []);
  });

  it('pro → starter: the invoice grants pro, the downgrade nothing, in every order', async () => {
    for (const order of ORDERS) {
      const { sub: _sub, start, ...standing } = await subscribeAndSwitch('plan_pro', 'plan_starter', order);
      assert.deepEqual(
        standing,
        {
          plan: 'starter',
          subscriptionDriven: true,
          cycleStart: start * 1000,
          allocation: 5100,
          balance: 5100,
          grants: [{ category: 'included', remaining: 5100, expiresAt: null }],
          periodGrant: 5000,
          switchGrants: [],
          invoiceTokens: 5000,
        },
        `order ${order.join(', ')}`,
      );
    }
    assert.deepEqual((await t.ledger.reconcile()).drift, []);
  });

  it('a switch before any invoice is paid grants nothing until the period is paid for', async () => {
    const id = `${++n}`;
    const account = `sw_${id}`;
    const sub = `sub_sw_${id}`;
    const start = Math.floor(t.clock.now() / 1000) + DAY_S;
    await t.ledger.payments.startPayment({
      provider: 'stripe',
      reference: `cs_sw_${id}`,
      account,
      package: t.ledger.payments.findPackage('plan_starter'),
    });
    const checkout = subscriptionCheckout({ id: `cs_sw_${id}`, sub, account, packageId: 'plan_starter' });
    await t.webhook(stripeEvent('checkout.session.completed', checkout));
    await t.webhook(
      stripeEvent('customer.subscription.updated', subscription({ id: sub, account, pkg: 'plan_pro', start })),
    );
    let view = await t.ledger.getBalance(account);
    assert.deepEqual({ plan: view.plan, allocation: view.allocation }, { plan: 'starter', allocation: 100 });
    await t.webhook(
      stripeEvent(
        'invoice.paid',
        paidInvoice({ id: `in_sw_${id}`, sub, pi: `pi_sw_${id}`, reason: 'subscription_create', start }),
      ),
    );
    view = await t.ledger.getBalance(account);
    assert.deepEqual({ plan: view.plan, allocation: view.allocation }, { plan: 'pro', allocation: 5100 });
  });

  it('a switch in a renewed period, before or after its renewal invoice: 1,000 + rollover, then 4,000', async () => {
    const got = [];
    for (const switchFirst of [false, true]) {
      const s = await subscribeStarter(t, `${++n}`, 'swr');
      const next = s.start + 30 * DAY_S;
      t.clock.set(new Date(next * 1000 + 60_000).toISOString());
      const renewal = stripeEvent(
        'invoice.paid',
        paidInvoice({ id: `in_${s.id}_b`, sub: s.sub, pi: `pi_${s.id}_b`, reason: 'subscription_cycle', start: next }),
      );
      const up = stripeEvent(
        'customer.subscription.updated',
        subscription({ id: s.sub, account: s.account, pkg: 'plan_pro', start: next }),
      );
      for (const body of switchFirst ? [up, renewal, up] : [renewal, up, renewal]) await t.webhook(body);
      const view = await t.ledger.getBalance(s.account);
      const entries = (await t.ledger.history(s.account, { limit: 100 })).entries.filter((e) => e.at >= next * 1000);
      got.push({
        plan: view.plan,
        cycleStart: view.cycleStart - next * 1000,
        rolledOver: view.rolledOver,
        allocation: view.allocation,
        periodGrant: entries.filter((e) => e.kind === 'cycle_grant').reduce((sum, e) => sum + e.allocationDelta, 0),
        switchGrants: entries.filter((e) => e.kind === 'plan_change' && e.amount > 0).map((e) => e.amount),
      });
      t.clock.set('2026-03-10T12:00:00Z');
    }
    // Starter's 1,000 with 500 rolled over (starter's cap), then pro's difference: never pro's 5,000 as well.
    const expected = {
      plan: 'pro',
      cycleStart: 0,
      rolledOver: 500,
      allocation: 5500,
      periodGrant: 1000,
      switchGrants: [4000],
    };
    assert.deepEqual(got, [expected, expected]);
  });
});
