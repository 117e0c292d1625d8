import { cycleEndAfter } from './cycles.ts';
import type { Grant } from './grant.ts';

/** Who renews an account's allocation: the engine lazily, or a payment provider's subscription. */
export type CycleDriver = 'lazy' | 'subscription';

/**
 * An account as stored. Tokens live in grants; the account keeps the sum of each category's
 * remaining tokens and its debt, which the store's overdraft guard reads. Balance is never
 * stored on its own: it is `allocation + purchased + promotional - debt`.
 */
export interface AccountState {
  id: string;
  plan: string;
  /** Remaining tokens of the included grants (the plan's allocation); never negative. */
  allocation: number;
  /** Remaining tokens of the paid grants (bought, credited, positive corrections); never negative. */
  purchased: number;
  /** Remaining tokens of the promotional grants; never negative. */
  promotional: number;
  /** What exempt operations (refunds, negative corrections, commits of live holds) took beyond the grants. */
  debt: number;
  /**
   * The grants a write may change: scheduled ones, active ones with something remaining, and
   * the current cycle's included ones. Used-up paid and promotional grants are loaded only when
   * a reversal returns tokens to them.
   */
  grants: Grant[];
  /** Tokens reserved by active holds. */
  held: number;
  usedThisCycle: number;
  /** Tokens of the previous cycle's allocation that rolled into this one. */
  rolledOver: number;
  /** Cycles start on anchor + n calendar months (UTC), clamped to month end. */
  cycleAnchor: number;
  cycleStart: number;
  lastReset: number | null;
  cycleDriver: CycleDriver;
  createdAt: number;
  updatedAt: number;
  /** Bumped by every write; a write names the version it was decided against. */
  version: number;
  /** The account's own low-balance threshold (`PUT /api/admin/accounts/:id/alerts`); absent or null: its plan's. */
  lowBalanceThreshold?: number | null;
  /**
   * Auto top-up's armed threshold (null or absent: off or suspended). Kept by the database from the
   * account's settings; a write that takes available from at or above it to below records an intent there.
   */
  topupThreshold?: number | null;
  /** The pool this account is a member of (null or absent: none); written only by joining and leaving. */
  poolId?: string | null;
}

export function balanceOf(state: AccountState): number {
  return state.allocation + state.purchased + state.promotional - state.debt;
}

export function availableOf(state: AccountState): number {
  return balanceOf(state) - state.held;
}

/** When the account's included grants end: its next cycle boundary, or null for a subscription's period. */
export function includedEndsAt(state: AccountState): number | null {
  return state.cycleDriver === 'lazy' ? cycleEndAfter(state.cycleAnchor, state.cycleStart) : null;
}

/** The front end greys features out when nothing is available. */
export function featuresDisabled(state: AccountState): boolean {
  return availableOf(state) <= 0;
}

/** A never-seen account before provisioning writes its opening balance. */
export function blankAccount(id: string, plan: string, now: number): AccountState {
  return {
    id,
    plan,
    allocation: 0,
    purchased: 0,
    promotional: 0,
    debt: 0,
    grants: [],
    held: 0,
    usedThisCycle: 0,
    rolledOver: 0,
    cycleAnchor: now,
    cycleStart: now,
    lastReset: null,
    cycleDriver: 'lazy',
    createdAt: now,
    updatedAt: now,
    version: 0,
  };
}
