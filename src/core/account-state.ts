/** Who renews an account's allocation: the engine lazily, or a payment provider's subscription. */
export type CycleDriver = 'lazy' | 'subscription';

/**
 * An account as stored. Balance is never stored on its own: it is the sum of
 * the two buckets, so the two can never disagree.
 */
export interface AccountState {
  id: string;
  plan: string;
  /** Tokens granted by the plan for this cycle; spent first; never negative. */
  allocation: number;
  /** Tokens bought or granted by credit; never expire; negative only after an adjustment or refund. */
  purchased: number;
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
}

export function balanceOf(state: AccountState): number {
  return state.allocation + state.purchased;
}

export function availableOf(state: AccountState): number {
  return state.allocation + state.purchased - state.held;
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
