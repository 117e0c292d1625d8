import { findPlan } from '../../core/catalog.ts';
import type { PaymentCommand } from '../../core/payment-command.ts';
import { decideSubscriptionEnd, decideSubscriptionGrant, linkSubscription } from '../../core/subscription-cycle.ts';
import type { SubscriptionRow } from '../../store/payment-tx.ts';
import { applied, type EffectResult, waitingFor } from './effect-result.ts';
import type { PaymentSession } from './payment-session.ts';

type InvoicePaid = Extract<PaymentCommand, { type: 'invoice_paid' }>;
type InvoiceFailed = Extract<PaymentCommand, { type: 'invoice_failed' }>;
type SubscriptionUpdated = Extract<PaymentCommand, { type: 'subscription_updated' }>;
type SubscriptionDeleted = Extract<PaymentCommand, { type: 'subscription_deleted' }>;

/** The linked subscription, re-read under its account's lock; null until its checkout arrives. */
async function linked(s: PaymentSession, subscriptionId: string): Promise<SubscriptionRow | null> {
  const first = await s.tx.payments.findSubscription(s.provider, subscriptionId);
  if (!first) return null;
  await s.account(first.account);
  return (await s.tx.payments.findSubscription(s.provider, subscriptionId)) ?? null;
}

/** A paid invoice grants its period's allocation once (reference = the invoice id). */
export async function invoicePaid(s: PaymentSession, c: InvoicePaid): Promise<EffectResult> {
  const sub = await linked(s, c.subscriptionId);
  if (!sub) return waitingFor(c.subscriptionId);
  await s.tx.payments.upsertSubscription({ ...sub, status: 'active', periodEnd: c.periodEnd }, s.now);
  if (await s.tx.findEntryByReference('cycle_grant', s.provider, c.invoiceId)) return applied(sub.account);
  const working = await s.account(sub.account);
  const plan = findPlan(s.catalog, sub.plan);
  const link = { source: s.provider, reference: c.invoiceId };
  working.apply(decideSubscriptionGrant(working.state, plan, link, c.periodStart, s.now));
  return applied(sub.account);
}

/** A failed renewal payment marks the subscription past due and grants nothing. */
export async function invoiceFailed(s: PaymentSession, c: InvoiceFailed): Promise<EffectResult> {
  const sub = await linked(s, c.subscriptionId);
  if (!sub) return waitingFor(c.subscriptionId);
  await s.tx.payments.upsertSubscription({ ...sub, status: 'past_due' }, s.now);
  return applied(sub.account);
}

/** A change made in the provider's portal: status, period, and the plan when its metadata names another. */
export async function subscriptionUpdated(s: PaymentSession, c: SubscriptionUpdated): Promise<EffectResult> {
  const sub = await linked(s, c.subscriptionId);
  if (!sub) return waitingFor(c.subscriptionId);
  const pkg = c.packageId === null ? undefined : s.catalog.packages.get(c.packageId);
  const plan = pkg?.kind === 'plan' && pkg.plan !== null ? findPlan(s.catalog, pkg.plan) : null;
  const working = await s.account(sub.account);
  if (plan && plan.id !== working.state.plan && working.state.cycleDriver === 'subscription') {
    // The new plan's allocation comes with the next paid invoice, as for a new subscription.
    working.state = linkSubscription(working.state, plan);
  }
  const status = c.status === 'canceled' ? 'canceled' : c.status;
  await s.tx.payments.upsertSubscription(
    { ...sub, plan: plan?.id ?? sub.plan, status, periodEnd: c.periodEnd ?? sub.periodEnd },
    s.now,
  );
  return applied(sub.account);
}

/** The subscription ended (Stripe sends this at the end of the paid period): back to the default plan. */
export async function subscriptionDeleted(s: PaymentSession, c: SubscriptionDeleted): Promise<EffectResult> {
  const sub = await linked(s, c.subscriptionId);
  if (!sub) return waitingFor(c.subscriptionId);
  if (sub.status === 'canceled') return applied(sub.account);
  await s.tx.payments.upsertSubscription({ ...sub, status: 'canceled' }, s.now);
  const working = await s.account(sub.account);
  if (working.state.cycleDriver === 'subscription') {
    const plan = findPlan(s.catalog, s.catalog.defaultPlan);
    working.apply(decideSubscriptionEnd(working.state, plan, `Subscription ${c.subscriptionId} ended`, s.now));
  }
  return applied(sub.account);
}
