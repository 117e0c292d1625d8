import type { AccountState } from './account-state.ts';
import type { Plan } from './catalog.ts';
import { type Posted, post } from './posting.ts';

/**
 * Starts a new cycle now on `plan`: its allocation is granted and unused allocation rolls over
 * up to its cap; the rest expires. One `plan_change` entry records the net change of the
 * allocation bucket. Only for an account leaving a provider's subscription, whose paid period
 * has just ended: an operator's or a portal's plan change never starts a cycle (see
 * `decidePlanChange`), since restarting on every change would mint an allocation each time.
 */
export function restartCycleOnPlan(
  state: AccountState,
  plan: Plan,
  reason: string,
  actor: string,
  now: number,
): Posted {
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
