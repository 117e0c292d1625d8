import { findPlan } from '../../core/catalog.ts';
import type { PaymentCommand } from '../../core/payment-command.ts';
import { planSwitchReference } from '../../core/plan-change.ts';
import { subscriptionEnded } from '../../core/subscription-cycle.ts';
import { periodGrantReference, switchAwaitsPeriod } from '../../core/subscription-period.ts';
import { switchPlan } from '../switch-plan.ts';
import { applied, type EffectResult, waitingFor } from './effect-result.ts';
import type { PaymentSession } from './payment-session.ts';
import { endSubscription, linked } from './subscription-effects.ts';

type SubscriptionUpdated = Extract<PaymentCommand, { type: 'subscription_updated' }>;

/**
 * A change made in the provider's portal: status, period, and the plan when its metadata names
 * another. An active subscription's switch changes the account's plan by the plan-change rule,
 * within the current cycle: an upgrade grants its difference once, under the reference
 * `subscription:periodStart:plan`; a downgrade grants nothing. Invoices never grant a
 * difference: the next period's invoice grants the plan then held. A switch delivered before
 * the invoice of the period it names waits for it (kept pending under the subscription id, which
 * that invoice releases): the invoice grants the plan it paid for, then the switch applies, as
 * when they arrive in the order Stripe sends them. An ended status (canceled,
 * incomplete_expired) ends the subscription as `deleted` does, once; an ended subscription stays
 * ended (the provider never reactivates one), so a late update changes nothing.
 */
export async function subscriptionUpdated(s: PaymentSession, c: SubscriptionUpdated): Promise<EffectResult> {
  const sub = await linked(s, c.subscriptionId);
  if (!sub) return waitingFor(c.subscriptionId);
  if (subscriptionEnded(c.status)) {
    await endSubscription(s, sub, c.status);
    return applied(sub.account);
  }
  if (subscriptionEnded(sub.status)) return applied(sub.account);
  const pkg = c.packageId === null ? undefined : s.catalog.packages.get(c.packageId);
  const plan = pkg?.kind === 'plan' && pkg.plan !== null ? findPlan(s.catalog, pkg.plan) : null;
  const working = await s.account(sub.account);
  const { state } = working;
  // A payload stored before the period start was normalized has none.
  const named = typeof c.periodStart === 'number' ? c.periodStart : null;
  const periodGranted =
    plan !== null && named !== null && (await s.hasEntry('cycle_grant', periodGrantReference(c.subscriptionId, named)));
  if (
    switchAwaitsPeriod(
      { plan: plan?.id ?? null, periodStart: named },
      { subscription: sub.plan, account: state.plan },
      periodGranted,
    )
  ) {
    // Applied right after the period's invoice, which releases it (see `invoicePaid`).
    return waitingFor(c.subscriptionId);
  }
  if (plan && c.status === 'active' && plan.id !== state.plan && state.cycleDriver === 'subscription') {
    // Without a period named, the cycle's start stands in.
    const periodStart = named ?? state.cycleStart;
    await switchPlan(
      s.tx,
      working,
      s.catalog,
      plan,
      {
        reason: `Subscription ${c.subscriptionId} switched from ${state.plan} to ${plan.id}`,
        actor: 'payments',
        source: s.provider,
        reference: planSwitchReference(c.subscriptionId, periodStart, plan.id),
      },
      s.now,
    );
  }
  await s.tx.payments.upsertSubscription(
    { ...sub, plan: plan?.id ?? sub.plan, status: c.status, periodEnd: c.periodEnd ?? sub.periodEnd },
    s.now,
  );
  return applied(sub.account);
}
