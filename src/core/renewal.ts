import type { AccountState } from './account-state.ts';
import type { Plan } from './catalog.ts';
import { dueBoundaries, isoUtc } from './cycles.ts';
import type { EntryDraft } from './entry.ts';
import { type Posted, post } from './posting.ts';

/** Renews each cycle boundary a lazily renewed account has passed: expiry beyond the rollover cap, then the grant. */
export function renewDue(state: AccountState, plan: Plan, now: number): Posted {
  // A payment provider's subscription webhook renews these; renewing here too would grant twice.
  if (state.cycleDriver === 'subscription') return { state, entries: [] };
  let current = state;
  const entries: EntryDraft[] = [];
  for (const boundary of dueBoundaries(state.cycleAnchor, state.cycleStart, now)) {
    // The boundary instant, not now, names the cycle, so a renewal computed at any later
    // read or write carries the same reference and the store's UNIQUE constraint dedupes it.
    const reference = `${state.id}@${isoUtc(boundary)}`;
    const unused = Math.max(current.allocation, 0);
    const rollover = Math.min(unused, plan.rolloverCap);
    const expired = unused - rollover;
    if (expired > 0) {
      const expiry = post(
        current,
        { kind: 'cycle_expiry', allocationDelta: -expired, purchasedDelta: 0, source: 'cycle', reference },
        boundary,
      );
      current = expiry.state;
      entries.push(...expiry.entries);
    }
    // Posted even for a zero allocation: the grant's reference is what marks the cycle as renewed.
    const grant = post(
      current,
      { kind: 'cycle_grant', allocationDelta: plan.monthlyAllocation, purchasedDelta: 0, source: 'cycle', reference },
      boundary,
    );
    current = {
      ...grant.state,
      cycleStart: boundary,
      usedThisCycle: 0,
      rolledOver: rollover,
      lastReset: boundary,
      updatedAt: now,
    };
    entries.push(...grant.entries);
  }
  return { state: current, entries };
}

/** The account as a read should show it: due renewals applied in memory, nothing written. */
export function currentView(state: AccountState, plan: Plan, now: number): AccountState {
  return renewDue(state, plan, now).state;
}
