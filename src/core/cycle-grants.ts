import { CYCLE_RESTART_SOURCE } from './cycle-restart.ts';
import type { EntryDraft, EntryKind } from './entry.ts';

/** Entry kinds that open a cycle with its plan's allocation: an account's opening, a renewal. */
const CYCLE_OPENING_KINDS: readonly EntryKind[] = ['opening_balance', 'cycle_grant'];

/**
 * Entry kinds that grant plan allocation: a cycle's opening or renewal grant, a restart's (a
 * `plan_change` with source `CYCLE_RESTART_SOURCE`: a subscription that ended), and an upgrade's
 * difference. Rollover carried from the previous cycle is no grant.
 */
export const ALLOCATION_GRANT_KINDS: readonly EntryKind[] = [...CYCLE_OPENING_KINDS, 'plan_change'];

type GrantFacts = Pick<EntryDraft, 'kind' | 'allocationDelta' | 'at' | 'source' | 'grantMoves'>;

/** The `plan_change` that opened a cycle on a subscription's end (`restartCycleOnPlan`). */
function isRestart(e: GrantFacts): boolean {
  return e.kind === 'plan_change' && e.source === CYCLE_RESTART_SOURCE;
}

/**
 * Allocation one entry granted. A renewal's or a restart's negative moves carry the rollover
 * into its new grant, so its allocation move is what it granted. On any other entry a negative
 * move gives back allocation the entry itself put in: an import's month, less what the legacy
 * app had already used of it (the account held that month, used or not). A `plan_change` that
 * ended a cycle before restarts were marked took the old grants in the same entry: counting
 * only its moves into grants errs on the side of granting less.
 */
function grantOf(e: GrantFacts): number {
  if (e.kind === 'cycle_grant' || isRestart(e)) return Math.max(0, e.allocationDelta);
  const givenBack = e.grantMoves.reduce((sum, m) => sum + Math.max(0, -m.delta), 0);
  return Math.max(0, e.allocationDelta + givenBack);
}

/**
 * Allocation granted in the cycle that started at `cycleStart`, from the account's entries of
 * `ALLOCATION_GRANT_KINDS` oldest first (those already written, then those decided in this
 * transaction): the cycle's latest opening grant plus every upgrade's grant after it. The
 * opening grant resets the count, because a provider's period may start before its invoice's
 * grant is written, so entries of the cycle before its own opening belong to the last.
 */
export function grantedInCycle(entries: readonly GrantFacts[], cycleStart: number): number {
  let granted = 0;
  for (const e of entries) {
    if (e.at < cycleStart || !ALLOCATION_GRANT_KINDS.includes(e.kind)) continue;
    const opens = CYCLE_OPENING_KINDS.includes(e.kind) || isRestart(e);
    granted = opens ? grantOf(e) : granted + grantOf(e);
  }
  return granted;
}
