import type { AccountState } from './account-state.ts';
import type { Plan } from './catalog.ts';
import { restartCycleOnPlan } from './cycle-restart.ts';
import { renewIncluded } from './included-renewal.ts';
import type { Posted } from './posting.ts';

/**
 * A plan bought through a provider's subscription: the account moves to the plan and its
 * renewals are driven by the subscription's invoices from now on. Nothing is granted here;
 * the first paid invoice grants the first allocation.
 */
export function linkSubscription(state: AccountState, plan: Plan): AccountState {
  return { ...state, plan: plan.id, cycleDriver: 'subscription' };
}

/**
 * A paid subscription invoice renews the account like a lazy renewal does (`renewIncluded`):
 * the new included grant lasts until the next period's invoice. Both entries and the grant
 * carry the invoice id, so the UNIQUE reference indexes grant each invoice once.
 */
export function decideSubscriptionGrant(
  state: AccountState,
  plan: Plan,
  link: { source: string; reference: string },
  periodStart: number,
  now: number,
): Posted {
  const renewed = renewIncluded(state, plan, { ...link, expiresAt: null }, now);
  return {
    state: {
      ...renewed.state,
      plan: plan.id,
      cycleDriver: 'subscription',
      cycleStart: periodStart,
      usedThisCycle: 0,
      rolledOver: renewed.rollover,
      lastReset: now,
    },
    entries: renewed.entries,
  };
}

/**
 * A provider's final subscription statuses (Stripe's names): a subscription in one never bills
 * or comes back, so the first event that brings it there ends it.
 */
export const ENDED_SUBSCRIPTION_STATUSES: readonly string[] = ['canceled', 'incomplete_expired'];

export function subscriptionEnded(status: string): boolean {
  return ENDED_SUBSCRIPTION_STATUSES.includes(status);
}

/** A subscription that ended: back to the default plan, renewed lazily again from now. */
export function decideSubscriptionEnd(state: AccountState, plan: Plan, reason: string, now: number): Posted {
  const changed = restartCycleOnPlan(state, plan, reason, 'payments', now);
  return { state: { ...changed.state, cycleDriver: 'lazy' }, entries: changed.entries };
}
