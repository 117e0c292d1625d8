import { availableOf } from '../../core/account-state.ts';
import type { Catalog } from '../../core/catalog.ts';
import { inCycle, limitReached, limitReachedKey, type Membership, membershipMove, poolShare } from '../../core/pool.ts';
import { memberAvailable, type PooledParties, type PooledReservation, type PooledUse } from '../../core/pool-charge.ts';
import type { WriteTx } from '../../store/store.ts';
import { WorkingAccount } from '../working-account.ts';

/**
 * A member's pool inside a write: the pool's account, locked after the member's (every writer
 * takes a member before its pool), brought up to date, and the membership as of the pool's
 * current cycle. Changed in memory with the member, written by `flush`.
 */
export class MemberPool {
  readonly account: WorkingAccount;
  /** The membership row as read. */
  private readonly stored: Membership;
  /** As of the pool's current cycle, with what this write changed. */
  membership: Membership;
  private readonly reachedBefore: boolean;
  private readonly now: number;

  private constructor(account: WorkingAccount, stored: Membership, current: Membership, now: number) {
    this.account = account;
    this.stored = stored;
    this.membership = current;
    this.reachedBefore = limitReached(current);
    this.now = now;
  }

  /** The pool of `member` (null when it is in none), locked and loaded. */
  static async load(tx: WriteTx, member: WorkingAccount, catalog: Catalog, now: number): Promise<MemberPool | null> {
    const poolId = member.state.poolId;
    return poolId ? MemberPool.of(tx, poolId, member.state.id, catalog, now) : null;
  }

  /** The membership of `member` in `poolId` (current or past: a hold outlives leaving), locked and loaded. */
  static async of(tx: WriteTx, poolId: string, member: string, catalog: Catalog, now: number): Promise<MemberPool> {
    const pool = await WorkingAccount.load(tx, poolId, catalog, now);
    if (pool.provisioned) throw new Error(`pool ${poolId} of ${member} does not exist`);
    const stored = await tx.pools.membership(poolId, member);
    if (!stored) throw new Error(`${member} has no membership of pool ${poolId}`);
    // The pool's holds for this member that expired on load leave the membership with this write.
    const freed = pool.takeExpired(member);
    return new MemberPool(pool, stored, inCycle({ ...stored, held: stored.held - freed }, pool.state.cycleStart), now);
  }

  parties(member: WorkingAccount): PooledParties {
    return { member: member.state, pool: this.account.state, membership: this.membership };
  }

  /** What the member may take from the pool now. */
  share(): number {
    return poolShare(availableOf(this.account.state), this.membership);
  }

  /** The member's available with its share of the pool. */
  available(member: WorkingAccount): number {
    return memberAvailable(this.parties(member));
  }

  /** Applies a reservation to the member, the pool and the membership. */
  reserve(member: WorkingAccount, r: PooledReservation): void {
    member.state = r.member;
    this.account.state = r.pool;
    this.membership = r.membership;
  }

  /** Applies a pooled use to the member and the pool. */
  apply(member: WorkingAccount, use: PooledUse): void {
    member.apply(use.member);
    this.account.apply(use.pool);
    this.membership = use.membership;
  }

  /**
   * Writes the pool (guarded: never overdrawn) and the membership (guarded: never past its
   * limit), and announces `member.limit_reached` on the pool once per cycle.
   */
  async flush(tx: WriteTx): Promise<void> {
    const m = this.membership;
    if (!this.reachedBefore && limitReached(m) && m.limitPerCycle !== null) {
      this.account.emit(
        'member.limit_reached',
        { account: m.pool, pool: m.pool, member: m.member, limit: m.limitPerCycle },
        limitReachedKey(m),
      );
    }
    if (this.account.changed) await this.account.flush(tx, 'no_overdraft');
    const move = membershipMove(this.stored, m, this.now);
    if (move.usedDelta !== 0 || move.heldDelta !== 0 || move.cycleStart !== move.cycleStartBefore) {
      await tx.pools.moveMemberships([move]);
    }
  }
}

/**
 * What `member` may take from its current pool now (0 in none), for the answer of a write that
 * draws nothing from the pool (a credit, a correction, a hold of its own): its `available`
 * counts the share, as its balance does. Locks the pool after the member, as every writer does.
 */
export async function currentShare(
  tx: WriteTx,
  member: WorkingAccount,
  catalog: Catalog,
  now: number,
  loaded: MemberPool | null = null,
): Promise<number> {
  const poolId = member.state.poolId;
  if (!poolId) return 0;
  if (loaded && loaded.account.state.id === poolId) return loaded.share();
  return (await MemberPool.of(tx, poolId, member.state.id, catalog, now)).share();
}
