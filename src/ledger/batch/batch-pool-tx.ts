import { type Membership, type MembershipMove, raisesUsage } from '../../core/pool.ts';
import type { PoolTx } from '../../store/pool-tx.ts';
import { WriteConflictError } from '../../store/write-conflict.ts';

const keyOf = (pool: string, member: string) => `${pool}\u0000${member}`;

/**
 * A batch's view of pool memberships: each row read once, moved in memory under the checks the
 * database applies (the cycle read, the limit), and written by the batch's flush as one merged
 * move per membership, guarded again there.
 */
export class BatchPoolTx implements PoolTx {
  private readonly tx: PoolTx;
  /** Rows as this batch sees them (null: none stored). */
  private readonly rows = new Map<string, Membership | null>();
  private readonly moves = new Map<string, MembershipMove>();

  constructor(tx: PoolTx) {
    this.tx = tx;
  }

  async membership(pool: string, member: string): Promise<Membership | undefined> {
    const k = keyOf(pool, member);
    if (!this.rows.has(k)) this.rows.set(k, (await this.tx.membership(pool, member)) ?? null);
    return this.rows.get(k) ?? undefined;
  }

  /** Reads the batch's expected memberships at once (each later read of one is then served here). */
  async prefetch(pairs: readonly { pool: string; member: string }[]): Promise<void> {
    const wanted = pairs.filter((p) => !this.rows.has(keyOf(p.pool, p.member)));
    if (wanted.length === 0) return;
    for (const p of wanted) this.rows.set(keyOf(p.pool, p.member), null);
    for (const m of await this.tx.memberships(wanted)) this.rows.set(keyOf(m.pool, m.member), m);
  }

  memberships(pairs: readonly { pool: string; member: string }[]): Promise<Membership[]> {
    return this.tx.memberships(pairs);
  }

  async moveMemberships(moves: readonly MembershipMove[]): Promise<void> {
    for (const move of moves) {
      const k = keyOf(move.pool, move.member);
      const row = await this.membership(move.pool, move.member);
      if (!row || row.cycleStart !== move.cycleStartBefore) {
        throw new WriteConflictError(`membership of ${move.member} in ${move.pool} changed`);
      }
      const after: Membership = {
        ...row,
        usedThisCycle: row.usedThisCycle + move.usedDelta,
        held: row.held + move.heldDelta,
        cycleStart: move.cycleStart,
        updatedAt: move.updatedAt,
      };
      const over = after.limitPerCycle !== null && after.usedThisCycle + after.held > after.limitPerCycle;
      if (after.usedThisCycle < 0 || after.held < 0 || (raisesUsage(move) && over)) {
        throw new WriteConflictError(`membership of ${move.member} in ${move.pool} would pass its limit`);
      }
      this.rows.set(k, after);
      const earlier = this.moves.get(k);
      this.moves.set(
        k,
        earlier
          ? {
              ...move,
              usedDelta: earlier.usedDelta + move.usedDelta,
              heldDelta: earlier.heldDelta + move.heldDelta,
              cycleStartBefore: earlier.cycleStartBefore,
            }
          : move,
      );
    }
  }

  /** The batch's moves, one per membership, for its flush. */
  pending(): MembershipMove[] {
    return [...this.moves.values()];
  }

  saveMembership(): Promise<void> {
    throw new Error('joining a pool is not available inside a batch');
  }

  hasMembers(account: string): Promise<boolean> {
    return this.tx.hasMembers(account);
  }

  setPool(): Promise<void> {
    throw new Error('joining a pool is not available inside a batch');
  }
}
