import type { AccountState } from './account-state.ts';
import type { Plan } from './catalog.ts';
import { nextBoundaryAfter } from './cycles.ts';
import { BY_ID_REFERENCE, grantMoveParts } from './grant-create.ts';
import { splitIncluded } from './included-renewal.ts';
import { type Move, type Posted, postAll } from './posting.ts';

/**
 * The `source` of a restart's entries: it marks the restart's `plan_change` as the opening of a
 * cycle (see `grantedInCycle`). No reference: nothing makes a restart unique but the account.
 */
export const CYCLE_RESTART_SOURCE = 'cycle_restart';

/**
 * Starts a new cycle now on `plan`, as a renewal would: unused allocation rolls over up to the
 * plan's cap, the rest expires (a `cycle_expiry` entry), and one `plan_change` entry ends the
 * open included grants and opens the new cycle's with the plan's allocation plus the rollover,
 * so that entry's allocation move is the plan's allocation, as a renewal's `cycle_grant` is.
 * Only for an account leaving a provider's subscription, whose paid period has just ended: an
 * operator's or a portal's plan change never starts a cycle (see `decidePlanChange`), since
 * restarting on every change would mint an allocation each time.
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
  const { expire, carry } = splitIncluded(open, unused - rolledOver);
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
  const record = { source: CYCLE_RESTART_SOURCE, reason, actor };
  const moves: Move[] = expire.length > 0 ? [{ kind: 'cycle_expiry', grantMoves: expire, ...record }] : [];
  moves.push({
    kind: 'plan_change',
    newGrants: fresh.newGrants,
    grantMoves: [...carry, ...fresh.grantMoves],
    statuses: open.map((g) => ({ grant: g.id, status: 'expired' as const })),
    ...record,
  });
  const posted = postAll(state, moves, now);
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
