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
}

export type NewHold = Omit<Hold, 'id' | 'status' | 'charged' | 'closedAt'>;

/** Closing an active hold; the store refuses to close one that is no longer active. */
export interface HoldClosure {
  id: number;
  status: Exclude<HoldStatus, 'active'>;
  charged: number;
  closedAt: number;
}

/** A hold counts against the available balance until it expires by the engine's clock. */
export function isLive(hold: Hold, now: number): boolean {
  return hold.status === 'active' && hold.expiresAt > now;
}
