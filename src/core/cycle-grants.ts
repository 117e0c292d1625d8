import type { EntryDraft, EntryKind } from './entry.ts';

/** Entry kinds that open a cycle with its plan's allocation: an account's opening, a renewal. */
const CYCLE_OPENING_KINDS: readonly EntryKind[] = ['opening_balance', 'cycle_grant'];

/**
 * Entry kinds that grant plan allocation: a cycle's opening or renewal grant, and an upgrade's
 * difference. Rollover carried from the previous cycle is no grant (it is not an entry at all).
 * A cycle restarted by a `plan_change` (a subscription that ended) counts that entry's positive
 * move, rollover included: that errs on the side of granting less.
 */
export const ALLOCATION_GRANT_KINDS: readonly EntryKind[] = [...CYCLE_OPENING_KINDS, 'plan_change'];

type GrantFacts = Pick<EntryDraft, 'kind' | 'allocationDelta' | 'at'>;

/**
 * Allocation granted in the cycle that started at `cycleStart`, from the account's entries of
 * `ALLOCATION_GRANT_KINDS` oldest first (those already written, then those decided in this
 * transaction): the cycle's latest opening grant plus every positive allocation move after it.
 * The opening grant resets the count, because a provider's period may start before its
 * invoice's grant is written, so entries of the cycle before its own opening belong to the last.
 */
export function grantedInCycle(entries: readonly GrantFacts[], cycleStart: number): number {
  let granted = 0;
  for (const e of entries) {
    if (e.at < cycleStart || !ALLOCATION_GRANT_KINDS.includes(e.kind)) continue;
    const grant = Math.max(0, e.allocationDelta);
    granted = CYCLE_OPENING_KINDS.includes(e.kind) ? grant : granted + grant;
  }
  return granted;
}
