import { type AccountState, availableOf } from './account-state.ts';
import { type InsufficientTokens, refuse } from './deduct.ts';
import { chargeMoves } from './grant-draws.ts';
import { type Hold, type HoldClosure, ownPart } from './hold.ts';
import { type Posted, post } from './posting.ts';

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

/**
 * Frees the holds that expired by the engine's clock (the caller passes only expired, active
 * ones): what each reserved on this account (a member's pool part is the pool's own hold).
 */
export function expireHolds(
  state: AccountState,
  expired: readonly Hold[],
  now: number,
): { state: AccountState; closures: HoldClosure[] } {
  if (expired.length === 0) return { state, closures: [] };
  const freed = expired.reduce((sum, h) => sum + ownPart(h), 0);
  return {
    state: { ...state, held: state.held - freed, updatedAt: now },
    closures: expired.map((h) => ({ id: h.id, from: 'active', status: 'expired', charged: 0, closedAt: now })),
  };
}

export interface CommitDecision extends Posted {
  charged: number;
  /** What `actual` asked for beyond what the rule lets the account pay. */
  shortfall: number;
  closure: HoldClosure;
}

/**
 * The most a commit of `hold` may charge `state` (its account, expired holds already freed).
 * A live hold's reservation was set aside for the work, so it is payable even when an exempt
 * take-back (a refund, an operator correction) has since pushed available below zero: the
 * take-back made that debt, not the work. Beyond the reservation, and for an expired hold whose
 * tokens went back to the balance, only what is available now, never below zero.
 *
 * This is exactly what the store's overdraft guard admits (available after >= min(0, available
 * before)), so the database refuses any write charging more.
 */
export function commitLimit(state: AccountState, hold: Hold): number {
  const available = Math.max(0, availableOf(state));
  return hold.status === 'active' ? ownPart(hold) + available : available;
}

/**
 * Charges the actual cost of work done under a hold (live or expired; the caller checked it is
 * committable) up to `commitLimit`, frees a live hold's reservation, and reports the rest as
 * shortfall.
 */
export function decideCommit(state: AccountState, hold: Hold, actual: number, now: number): CommitDecision {
  const charged = Math.min(actual, commitLimit(state, hold));
  const live = hold.status === 'active';
  const released: AccountState = { ...state, held: live ? state.held - ownPart(hold) : state.held, updatedAt: now };
  const closure: HoldClosure = {
    id: hold.id,
    from: live ? 'active' : 'expired',
    status: 'committed',
    charged,
    closedAt: now,
  };
  if (charged === 0) return { state: released, entries: [], charged, shortfall: actual, closure };
  // Drawn in burn order as at commit time; a grant that expired while the hold was live leaves
  // the reservation to the next grants in order, or to a debt: a reservation is a promise.
  const posted = post(
    released,
    {
      kind: 'hold_commit',
      ...chargeMoves(released, charged, now),
      feature: hold.feature,
      source: 'hold',
      reference: String(hold.id),
    },
    now,
  );
  posted.state.usedThisCycle += charged;
  return { ...posted, charged, shortfall: actual - charged, closure };
}

/** Gives a live hold's reservation back to the available balance. */
export function decideRelease(
  state: AccountState,
  hold: Hold,
  now: number,
): { state: AccountState; closure: HoldClosure } {
  return {
    state: { ...state, held: state.held - ownPart(hold), updatedAt: now },
    closure: { id: hold.id, from: 'active', status: 'released', charged: 0, closedAt: now },
  };
}
