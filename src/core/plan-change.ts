import { type AccountState, includedEndsAt } from './account-state.ts';
import type { Plan } from './catalog.ts';
import { BY_ID_REFERENCE, grantMoveParts } from './grant-create.ts';
import { type Posted, post } from './posting.ts';

/**
 * Who changes the plan and why. A provider's switch also names its grant (`source`,
 * `reference`): the ledger's UNIQUE (kind, source, reference) lets that grant happen once, and
 * `alreadyGranted` says the reference is already in the ledger, so this switch grants nothing.
 */
export interface PlanChangeRecord {
  reason: string;
  actor: string;
  source?: string | null;
  reference?: string | null;
  alreadyGranted?: boolean;
}

/** The reference of a subscription's plan-switch grant: once per (subscription, period, plan). */
export function planSwitchReference(subscriptionId: string, periodStart: number, plan: string): string {
  return `${subscriptionId}:${periodStart}:${plan}`;
}

/**
 * Allocation an upgrade from `from` to `to` adds: the difference of the two monthly
 * allocations, cut so that everything granted in the cycle stays within the highest allocation
 * held in it. `grantedInCycle` (the cycle's opening or renewal grant plus earlier upgrade
 * differences) is itself within the highest allocation held, and so is `to`, so the cut is
 * taken against the larger of the two: toggling plans can never grant more than once.
 * A downgrade adds nothing.
 */
export function upgradeGrant(from: Plan, to: Plan, grantedInCycle: number): number {
  const difference = to.monthlyAllocation - from.monthlyAllocation;
  if (difference <= 0) return 0;
  const highestHeld = Math.max(to.monthlyAllocation, from.monthlyAllocation, grantedInCycle);
  return Math.max(0, Math.min(difference, highestHeld - grantedInCycle));
}

/**
 * Switches plan at once without starting a cycle: the anchor, the cycle start, the tokens used
 * this cycle and what rolled over stay. An upgrade adds `upgradeGrant` as an included grant;
 * a downgrade adds and removes nothing (the plan held at the next boundary decides the renewal
 * and the rollover cap). One `plan_change` entry records the change, even of zero tokens, so the
 * reason and actor are on record.
 */
export function decidePlanChange(
  state: AccountState,
  from: Plan,
  to: Plan,
  grantedInCycle: number,
  record: PlanChangeRecord,
  now: number,
): Posted {
  const grant = record.alreadyGranted === true ? 0 : upgradeGrant(from, to, grantedInCycle);
  // The upgrade's difference is an included grant of its own, ending with the cycle.
  const parts =
    grant > 0
      ? grantMoveParts(
          state,
          {
            category: 'included',
            tokens: grant,
            expiresAt: includedEndsAt(state),
            source: record.source ?? 'plan_change',
            reference: record.reference ?? BY_ID_REFERENCE,
            reason: record.reason,
            actor: record.actor,
          },
          now,
          { paysDebt: false },
        )
      : null;
  const posted = post(
    state,
    {
      kind: 'plan_change',
      newGrants: parts?.newGrants ?? [],
      grantMoves: parts?.grantMoves ?? [],
      reason: record.reason,
      actor: record.actor,
      source: record.source ?? null,
      // Only a grant claims the reference: a switch granting nothing may repeat within a period.
      reference: grant > 0 ? (record.reference ?? null) : null,
    },
    now,
  );
  return { state: { ...posted.state, plan: to.id }, entries: posted.entries };
}
