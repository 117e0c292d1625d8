import type { AccountState } from './account-state.ts';
import type { Plan } from './catalog.ts';
import { dueBoundaries, isoUtc, nextBoundaryAfter } from './cycles.ts';
import type { EntryDraft } from './entry.ts';
import { settleDueGrants } from './grant-schedule.ts';
import { renewIncluded } from './included-renewal.ts';
import type { Posted } from './posting.ts';

/** Renews each cycle boundary a lazily renewed account has passed (see `renewIncluded`). */
export function renewDue(state: AccountState, plan: Plan, now: number): Posted {
  // A payment provider's subscription webhook renews these; renewing here too would grant twice.
  if (state.cycleDriver === 'subscription') return { state, entries: [] };
  let current = state;
  const entries: EntryDraft[] = [];
  for (const boundary of dueBoundaries(state.cycleAnchor, state.cycleStart, now)) {
    // The boundary instant, not now, names the cycle, so a renewal computed at any later
    // read or write carries the same reference and the store's UNIQUE constraint dedupes it.
    const reference = `${state.id}@${isoUtc(boundary)}`;
    const expiresAt = nextBoundaryAfter(state.cycleAnchor, boundary);
    const renewed = renewIncluded(current, plan, { source: 'cycle', reference, expiresAt }, boundary);
    current = {
      ...renewed.state,
      cycleStart: boundary,
      usedThisCycle: 0,
      rolledOver: renewed.rollover,
      lastReset: boundary,
      updatedAt: now,
    };
    entries.push(...renewed.entries);
  }
  return { state: current, entries };
}

/**
 * Everything that is due on an account by `now`, without anyone having asked: cycle renewals,
 * then grants taking effect or expiring (the two touch different grants, so the order between
 * them changes no figure). A write posts what this returns; a read shows it without writing.
 */
export function bringUpToDate(state: AccountState, plan: Plan, now: number): Posted {
  const renewed = renewDue(state, plan, now);
  const settled = settleDueGrants(renewed.state, now);
  if (settled.entries.length === 0) return renewed;
  return { state: settled.state, entries: [...renewed.entries, ...settled.entries] };
}

/** The account as a read should show it: what is due applied in memory, nothing written. */
export function currentView(state: AccountState, plan: Plan, now: number): AccountState {
  return bringUpToDate(state, plan, now).state;
}
