import { type AccountState, availableOf } from './account-state.ts';
import { type InsufficientTokens, refuse } from './deduct.ts';
import type { Hold, HoldClosure } from './hold.ts';
import { type Posted, post, splitCharge } from './posting.ts';

/** Reserves `amount` when the available balance covers it, refused exactly like a deduction. */
export function decideReserve(
  state: AccountState,
  amount: number,
  now: number,
): { ok: true; state: AccountState } | InsufficientTokens {
  const refusal = refuse(state, amount);
  if (refusal) return refusal;
  return { ok: true, state: { ...state, held: state.held + amount, updatedAt: now } };
}

/** Frees the holds that expired by the engine's clock (the caller passes only expired, active ones). */
export function expireHolds(
  state: AccountState,
  expired: readonly Hold[],
  now: number,
): { state: AccountState; closures: HoldClosure[] } {
  if (expired.length === 0) return { state, closures: [] };
  const freed = expired.reduce((sum, h) => sum + h.amount, 0);
  return {
    state: { ...state, held: state.held - freed, updatedAt: now },
    closures: expired.map((h) => ({ id: h.id, status: 'expired', charged: 0, closedAt: now })),
  };
}

export interface CommitDecision extends Posted {
  charged: number;
  /** What `actual` asked for beyond what the account could pay. */
  shortfall: number;
  closure: HoldClosure;
}

/**
 * Charges the actual cost of held work. The reservation covers it up to its amount; any
 * excess is charged only as far as the available balance goes, never below zero.
 */
export function decideCommit(state: AccountState, hold: Hold, actual: number, now: number): CommitDecision {
  const released: AccountState = { ...state, held: state.held - hold.amount, updatedAt: now };
  const payable = Math.max(0, availableOf(released));
  const charged = Math.min(actual, payable);
  const closure: HoldClosure = { id: hold.id, status: 'committed', charged, closedAt: now };
  if (charged === 0) return { state: released, entries: [], charged, shortfall: actual, closure };
  const { fromAllocation, fromPurchased } = splitCharge(released, charged);
  const posted = post(
    released,
    {
      kind: 'hold_commit',
      allocationDelta: -fromAllocation,
      purchasedDelta: -fromPurchased,
      feature: hold.feature,
      source: 'hold',
      reference: String(hold.id),
    },
    now,
  );
  posted.state.usedThisCycle += charged;
  return { ...posted, charged, shortfall: actual - charged, closure };
}

/** Gives a hold's reservation back to the available balance. */
export function decideRelease(
  state: AccountState,
  hold: Hold,
  now: number,
): { state: AccountState; closure: HoldClosure } {
  return {
    state: { ...state, held: state.held - hold.amount, updatedAt: now },
    closure: { id: hold.id, status: 'released', charged: 0, closedAt: now },
  };
}
