import type { AccountState } from './account-state.ts';
import type { EntryDraft, EntryKind } from './entry.ts';

/** What a posting moves and why; the amounts are signed token deltas per bucket. */
export interface Move {
  kind: EntryKind;
  allocationDelta: number;
  purchasedDelta: number;
  feature?: string | null;
  quantity?: number | null;
  idempotencyKey?: string | null;
  source?: string | null;
  reference?: string | null;
  reason?: string | null;
  actor?: string | null;
}

/** A state with the entries that explain how it was reached. */
export interface Posted {
  state: AccountState;
  entries: EntryDraft[];
}

/**
 * Applies one move to an account and writes the entry that records it, so a
 * bucket can only change together with the entry explaining the change.
 */
export function post(state: AccountState, move: Move, at: number): Posted {
  const next: AccountState = {
    ...state,
    allocation: state.allocation + move.allocationDelta,
    purchased: state.purchased + move.purchasedDelta,
    updatedAt: at,
  };
  const entry: EntryDraft = {
    account: state.id,
    kind: move.kind,
    amount: move.allocationDelta + move.purchasedDelta,
    allocationDelta: move.allocationDelta,
    purchasedDelta: move.purchasedDelta,
    balanceAfter: next.allocation + next.purchased,
    feature: move.feature ?? null,
    quantity: move.quantity ?? null,
    idempotencyKey: move.idempotencyKey ?? null,
    source: move.source ?? null,
    reference: move.reference ?? null,
    reason: move.reason ?? null,
    actor: move.actor ?? null,
    at,
    heldAfter: next.held,
  };
  return { state: next, entries: [entry] };
}

/** Chains postings: the entries of each step follow those of the one before. */
export function postAll(start: AccountState, moves: readonly Move[], at: number): Posted {
  let state = start;
  const entries: EntryDraft[] = [];
  for (const move of moves) {
    const step = post(state, move, at);
    state = step.state;
    entries.push(...step.entries);
  }
  return { state, entries };
}

/** Splits a charge between the buckets: allocation first, then purchased. */
export function splitCharge(state: AccountState, tokens: number): { fromAllocation: number; fromPurchased: number } {
  const fromAllocation = Math.min(Math.max(state.allocation, 0), tokens);
  return { fromAllocation, fromPurchased: tokens - fromAllocation };
}
