import type { Membership, MembershipMove } from '../core/pool.ts';

/**
 * Pool memberships inside a write transaction. A membership row is written only under its
 * pool's account lock (every writer of it locks the pool: the member's draws, the pool's hold
 * expiries, joining and limit changes), so a row read after that lock cannot change before the
 * transaction ends; the guards in the writes are the database's own check of that.
 */
export interface PoolTx {
  /** The (pool, member) membership row, current or past. */
  membership(pool: string, member: string): Promise<Membership | undefined>;
  /** The memberships among `pairs` that exist, in one statement (a batch's members). */
  memberships(pairs: readonly { pool: string; member: string }[]): Promise<Membership[]>;
  /** Creates a membership row, or sets an existing one's limit and joining time (its usage stays). */
  saveMembership(m: Membership): Promise<void>;
  /**
   * Moves memberships' usage by deltas, each guarded in the write (`MembershipMove`): throws, so
   * the transaction rolls back, if any row was not in the cycle read or would pass its limit.
   */
  moveMemberships(moves: readonly MembershipMove[]): Promise<void>;
  /** Whether any account names `account` as its pool (then it cannot become a member). */
  hasMembers(account: string): Promise<boolean>;
  /** Points `member` at its pool (null: leaves); the database holds pools to one level. */
  setPool(member: string, pool: string | null): Promise<void>;
}
