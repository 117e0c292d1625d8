import type { AccountState } from './account-state.ts';
import type { Plan } from './catalog.ts';
import { nextBoundaryAfter } from './cycles.ts';
import { BY_ID_REFERENCE, grantMoveParts } from './grant-create.ts';
import { type Posted, post } from './posting.ts';

/**
 * Starts a new cycle now on `plan`: its allocation is granted and unused allocation rolls over
 * up to its cap; the rest expires. One `plan_change` entry ends the open included grants and opens
 * the new cycle's. Only for an account leaving a provider's subscription, whose paid period
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
  const open = state.grants.filter((g) => g.category === 'included' && g.status === 'active');
  const unused = open.reduce((sum, g) => sum + g.remaining, 0);
  const rolledOver = Math.min(unused, plan.rolloverCap);
  const allocation = plan.monthlyAllocation + rolledOver;
  const fresh =
    allocation > 0
      ? grantMoveParts(
          state,
          {
            category: 'included',
            tokens: allocation,
            expiresAt: nextBoundaryAfter(now, now),
            source: 'plan_change',
            reference: BY_ID_REFERENCE,
          },
          now,
          { paysDebt: false },
        )
      : { newGrants: [], grantMoves: [] };
  const posted = post(
    state,
    {
      kind: 'plan_change',
      newGrants: fresh.newGrants ?? [],
      grantMoves: [
        ...open.filter((g) => g.remaining > 0).map((g) => ({ grant: g.id, delta: -g.remaining })),
        ...(fresh.grantMoves ?? []),
      ],
      statuses: open.map((g) => ({ grant: g.id, status: 'expired' as const })),
      reason,
      actor,
    },
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
