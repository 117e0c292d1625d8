import assert from 'node:assert/strict';
import { fixture, type PaymentApp, stripeEvent } from './payment-helpers.ts';

export const DAY_S = 86_400;

/** A completed Checkout Session that starts a subscription, as `checkout.session.completed` carries it. */
export function subscriptionCheckout(over: {
  id: string;
  sub: string;
  account: string;
  packageId: string;
  amount?: number;
}) {
  return fixture('checkout.session', {
    id: over.id,
    mode: 'subscription',
    status: 'complete',
    payment_status: 'paid',
    payment_intent: null,
    subscription: over.sub,
    amount_total: over.amount ?? 4900,
    currency: 'usd',
    metadata: { tokenmeter_account: over.account, tokenmeter_package: over.packageId },
  });
}

/** A paid Invoice as Stripe sends it in `invoice.paid`: one subscription line over a 30-day period from `start` (seconds). */
export function paidInvoice(over: {
  id: string;
  sub: string;
  pi: string | null;
  reason: string;
  start: number;
  amount?: number;
}) {
  const amount = over.amount ?? 4900;
  return fixture('invoice', {
    id: over.id,
    billing_reason: over.reason,
    status: 'paid',
    paid: true,
    amount_paid: amount,
    amount_due: amount,
    subscription: over.sub,
    payment_intent: over.pi,
    lines: {
      object: 'list',
      has_more: false,
      data: [
        {
          id: `il_${over.id}`,
          object: 'line_item',
          type: 'subscription',
          amount,
          currency: 'usd',
          period: { start: over.start, end: over.start + 30 * DAY_S },
        },
      ],
    },
  });
}

/**
 * A Subscription as Stripe sends it in `customer.subscription.*` events (the period on the item,
 * as in newer API versions). An ended one (`canceled`, `incomplete_expired`) carries when it ended.
 */
export function subscription(over: { id: string; account: string; pkg: string; status?: string; start: number }) {
  const status = over.status ?? 'active';
  const ended = status === 'canceled' || status === 'incomplete_expired' ? over.start + DAY_S : null;
  return {
    id: over.id,
    object: 'subscription',
    status,
    customer: 'cus_test',
    created: over.start,
    cancel_at_period_end: false,
    canceled_at: ended,
    ended_at: ended,
    metadata: { tokenmeter_account: over.account, tokenmeter_package: over.pkg },
    items: {
      object: 'list',
      has_more: false,
      data: [
        {
          id: `si_${over.id}`,
          object: 'subscription_item',
          current_period_start: over.start,
          current_period_end: over.start + 30 * DAY_S,
          price: { id: `price_${over.pkg}`, object: 'price', currency: 'usd' },
          quantity: 1,
        },
      ],
    },
  };
}

/** One subscriber: its account, checkout, subscription and first invoice's payment intent. */
export interface Subscriber {
  id: string;
  account: string;
  reference: string;
  sub: string;
  pi: string;
  /** The first period's start, seconds. */
  start: number;
}

/**
 * Subscribes a new account to `plan_starter` through a Stripe checkout and pays its first
 * period (`subscription_create`): the account then holds 1,000 + the free plan's 100 rolled over.
 */
export async function subscribeStarter(t: PaymentApp, id: string, prefix: string): Promise<Subscriber> {
  const s = {
    id,
    account: `${prefix}${id}`,
    reference: `cs_${prefix}_${id}`,
    sub: `sub_${prefix}_${id}`,
    pi: `pi_in_${prefix}_${id}`,
  };
  await t.ledger.payments.startPayment({
    provider: 'stripe',
    reference: s.reference,
    account: s.account,
    package: t.ledger.payments.findPackage('plan_starter'),
  });
  const session = subscriptionCheckout({ id: s.reference, sub: s.sub, account: s.account, packageId: 'plan_starter' });
  assert.equal((await t.webhook(stripeEvent('checkout.session.completed', session))).statusCode, 200);
  const start = Math.floor(t.clock.now() / 1000);
  const first = paidInvoice({ id: `in_${id}_a`, sub: s.sub, pi: s.pi, reason: 'subscription_create', start });
  await t.webhook(stripeEvent('invoice.paid', first));
  assert.equal((await t.ledger.getBalance(s.account)).allocation, 1100);
  return { ...s, start };
}
