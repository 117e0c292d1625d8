export type HoldStatus = 'active' | 'committed' | 'released' | 'expired';

/** A reservation of tokens for work of unknown cost. */
export interface Hold {
  id: number;
  account: string;
  amount: number;
  feature: string | null;
  status: HoldStatus;
  /** Tokens charged when committed (0 otherwise). */
  charged: number;
  createdAt: number;
  expiresAt: number;
  closedAt: number | null;
  idempotencyKey: string | null;
  /**
   * On a pool member's hold: the pool's hold that reserves `poolAmount` of `amount` there (the
   * member's own `held` carries the rest). Null: nothing reserved from a pool.
   */
  poolHold: number | null;
  poolAmount: number;
  /** On a pool's hold: the member it reserves for (a member's hold names it as `poolHold`). */
  member: string | null;
}

/** What of a hold the holding account itself reserves (a member's pool part is the pool's hold). */
export function ownPart(hold: Hold): number {
  return hold.amount - hold.poolAmount;
}

export type NewHold = Omit<Hold, 'id' | 'status' | 'charged' | 'closedAt'>;

/**
 * Moving a hold out of `from`; the store refuses (a conditional update) when the hold is no
 * longer in `from`, so two settlements of one hold cannot both apply. Only an expired hold's
 * completed work moves it on again (`expired` to `committed`).
 */
export interface HoldClosure {
  id: number;
  from: 'active' | 'expired';
  status: Exclude<HoldStatus, 'active'>;
  charged: number;
  closedAt: number;
  /**
   * On a pool's hold committed or released with its member's: the member's hold, which the same
   * write closes first to the same status. The store commits or releases a pool's hold only so
   * (only expiry closes one alone): its tokens move with the member's hold and its membership.
   */
  memberHold?: number;
}

/** A hold counts against the available balance until it expires by the engine's clock. */
export function isLive(hold: Hold, now: number): boolean {
  return hold.status === 'active' && hold.expiresAt > now;
}

/** Work done under a hold may still be charged: while it is live, and after it expired uncharged. */
export function isCommittable(hold: Hold): boolean {
  return hold.status === 'active' || hold.status === 'expired';
}
