import type { AccountState } from './account-state.ts';
import type { Plan } from './catalog.ts';
import { restartCycleOnPlan } from './cycle-restart.ts';
import { type Posted, post } from './posting.ts';

/**
 * A plan bought through a provider's subscription: the account moves to the plan and its
 * renewals are driven by the subscription's invoices from now on. Nothing is granted here;
 * the first paid invoice grants the first allocation.
 */
export function linkSubscription(state: AccountState, plan: Plan): AccountState {
  return { ...state, plan: plan.id, cycleDriver: 'subscription' };
}

/**
 * A paid subscription invoice renews the account like a lazy renewal does: unused allocation
 * beyond the plan's rollover cap expires, then the plan's allocation is granted. Both entries
 * carry the invoice id, so the UNIQUE reference index grants each invoice once.
 */
export function decideSubscriptionGrant(
  state: AccountState,
  plan: Plan,
  link: { source: string; reference: string },
  periodStart: number,
  now: number,
): Posted {
  const unused = Math.max(state.allocation, 0);
  const rollover = Math.min(unused, plan.rolloverCap);
  const expired = unused - rollover;
  const entries = [];
  let current = state;
  if (expired > 0) {
    const expiry = post(current, { kind: 'cycle_expiry', allocationDelta: -expired, purchasedDelta: 0, ...link }, now);
    current = expiry.state;
    entries.push(...expiry.entries);
  }
  const grant = post(
    current,
    { kind: 'cycle_grant', allocationDelta: plan.monthlyAllocation, purchasedDelta: 0, ...link },
    now,
  );
  entries.push(...grant.entries);
  return {
    state: {
      ...grant.state,
      plan: plan.id,
      cycleDriver: 'subscription',
      cycleStart: periodStart,
      usedThisCycle: 0,
      rolledOver: rollover,
      lastReset: now,
    },
    entries,
  };
}

/** A subscription that ended: back to the default plan, renewed lazily again from now. */
export function decideSubscriptionEnd(state: AccountState, plan: Plan, reason: string, now: number): Posted {
  const changed = restartCycleOnPlan(state, plan, reason, 'payments', now);
  return { state: { ...changed.state, cycleDriver: 'lazy' }, entries: changed.entries };
}
