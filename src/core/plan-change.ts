import type { AccountState } from './account-state.ts';
import type { Plan } from './catalog.ts';
import { type Posted, post } from './posting.ts';

/**
 * Switches plan at once: a new cycle starts now with the new plan's allocation, and unused
 * allocation of the old plan rolls over up to the new plan's cap; the rest expires. One
 * `plan_change` entry records the net change of the allocation bucket.
 */
export function decidePlanChange(state: AccountState, plan: Plan, reason: string, actor: string, now: number): Posted {
  const unused = Math.max(state.allocation, 0);
  const rolledOver = Math.min(unused, plan.rolloverCap);
  const allocation = plan.monthlyAllocation + rolledOver;
  const posted = post(
    state,
    { kind: 'plan_change', allocationDelta: allocation - state.allocation, purchasedDelta: 0, reason, actor },
    now,
  );
  posted.state = {
    ...posted.state,
    plan: plan.id,
    cycleAnchor: now,
    cycleStart: now,
    usedThisCycle: 0,
    rolledOver,
    lastReset: now,
  };
  return posted;
}
