import { findPlan } from '../../core/catalog.ts';
import type { PaymentCommand } from '../../core/payment-command.ts';
import { memberPlan } from '../../core/pool.ts';
import { decideSubscriptionEnd, decideSubscriptionGrant, subscriptionEnded } from '../../core/subscription-cycle.ts';
import { invoiceGrantsPeriod, periodGrantReference } from '../../core/subscription-period.ts';
import type { SubscriptionRow } from '../../store/payment-tx.ts';
import { applied, type EffectResult, unmatchedBecause, waitingFor } from './effect-result.ts';
import type { PaymentSession } from './payment-session.ts';

type InvoicePaid = Extract<PaymentCommand, { type: 'invoice_paid' }>;
type InvoiceFailed = Extract<PaymentCommand, { type: 'invoice_failed' }>;
type SubscriptionDeleted = Extract<PaymentCommand, { type: 'subscription_deleted' }>;

/** The linked subscription, re-read under its account's lock; null until its checkout arrives. */
export async function linked(s: PaymentSession, subscriptionId: string): Promise<SubscriptionRow | null> {
  const first = await s.tx.payments.findSubscription(s.provider, subscriptionId);
  if (!first) return null;
  await s.account(first.account);
  return (await s.tx.payments.findSubscription(s.provider, subscriptionId)) ?? null;
}

/**
 * A paid invoice grants its period's allocation once per (subscription, period start), whatever
 * invoice ids arrive for it; only a subscription's first invoice and its renewals grant. An
 * invoice paid after the subscription ended grants nothing and changes no plan. The
 * invoice's charge is recorded as a payment (its tokens: what it granted) so its refunds and
 * disputes find the grant and take it back in proportion. A plan switch for the period that
 * arrived before it waited for it (`switchAwaitsPeriod`), and is applied right after it.
 */
export async function invoicePaid(s: PaymentSession, c: InvoicePaid): Promise<EffectResult> {
  const sub = await linked(s, c.subscriptionId);
  if (!sub) return waitingFor(c.subscriptionId);
  if (subscriptionEnded(sub.status)) return unmatchedBecause('subscription_canceled', sub.account);
  const working = await s.account(sub.account);
  // A pool's member gets no allocation of its own, a subscription's included: the pool's plan grants.
  const subscribed = findPlan(s.catalog, sub.plan);
  const plan = working.state.poolId ? memberPlan(subscribed) : subscribed;
  const reference = periodGrantReference(c.subscriptionId, c.periodStart);
  const grants = invoiceGrantsPeriod(c.billingReason) && !(await s.hasEntry('cycle_grant', reference));
  await s.tx.payments.upsertSubscription(
    { ...sub, status: 'active', periodEnd: grants ? c.periodEnd : sub.periodEnd },
    s.now,
  );
  if (grants) {
    working.apply(
      decideSubscriptionGrant(working.state, plan, { source: s.provider, reference }, c.periodStart, s.now),
    );
  }
  const released = await recordInvoicePayment(s, c, sub, grants ? plan.monthlyAllocation : 0);
  // The period is paid for: a plan switch that arrived first and waited for it applies now.
  const period = invoiceGrantsPeriod(c.billingReason) ? [c.subscriptionId] : [];
  return applied(sub.account, [...released, ...period]);
}

/**
 * The invoice's charge as a payment (reference = the invoice id, tokens = what it granted), so
 * that its refunds and disputes find it; an invoice without a charge has nothing to refund.
 * Returns the payment intent it made known, whose pending events apply next.
 */
async function recordInvoicePayment(
  s: PaymentSession,
  c: InvoicePaid,
  sub: SubscriptionRow,
  tokens: number,
): Promise<string[]> {
  const intent = c.paymentIntent;
  if (intent === null || (await s.tx.payments.findPayment(s.provider, c.invoiceId))) return [];
  // A payment intent already recorded for another payment stays with it (the UNIQUE index).
  if (await s.tx.payments.findPaymentByIntent(s.provider, intent)) return [];
  const pkg = [...s.catalog.packages.values()].find((p) => p.kind === 'plan' && p.plan === sub.plan);
  await s.tx.payments.insertPayment({
    provider: s.provider,
    reference: c.invoiceId,
    account: sub.account,
    packageId: pkg?.id ?? sub.plan,
    kind: 'plan',
    tokens,
    amount: c.amount ?? pkg?.priceCents ?? 0,
    currency: (c.currency ?? pkg?.currency ?? 'usd').toLowerCase(),
    status: 'paid',
    paymentIntent: intent,
    subscriptionId: c.subscriptionId,
    receiptUrl: null,
    createdAt: s.now,
  });
  return [intent];
}

/**
 * A failed renewal payment marks the subscription past due and grants nothing; an ended
 * subscription stays ended (`upsertSubscription` leaves it).
 */
export async function invoiceFailed(s: PaymentSession, c: InvoiceFailed): Promise<EffectResult> {
  const sub = await linked(s, c.subscriptionId);
  if (!sub) return waitingFor(c.subscriptionId);
  await s.tx.payments.upsertSubscription({ ...sub, status: 'past_due' }, s.now);
  return applied(sub.account);
}

/**
 * The subscription ended (Stripe sends this at the end of the paid period): back to the default
 * plan, unless an update with an ended status ended it first.
 */
export async function subscriptionDeleted(s: PaymentSession, c: SubscriptionDeleted): Promise<EffectResult> {
  const sub = await linked(s, c.subscriptionId);
  if (!sub) return waitingFor(c.subscriptionId);
  await endSubscription(s, sub, 'canceled');
  return applied(sub.account);
}

/**
 * Ends a linked subscription once: only the event whose write moves it from live to `status`
 * returns its account to the default plan, renewed lazily again (if the subscription still
 * drives it). Whichever of `deleted` and an `updated` with an ended status comes first ends it;
 * the other, and every later event about it, finds it ended.
 */
export async function endSubscription(s: PaymentSession, sub: SubscriptionRow, status: string): Promise<void> {
  if (!(await s.tx.payments.endSubscription(s.provider, sub.subscriptionId, status, s.now))) return;
  const working = await s.account(sub.account);
  if (working.state.cycleDriver !== 'subscription') return;
  const plan = findPlan(s.catalog, s.catalog.defaultPlan);
  working.apply(decideSubscriptionEnd(working.state, plan, `Subscription ${sub.subscriptionId} ended`, s.now));
}
