/** Past this many remembered members the hints start again (they are only hints). */
const MAX_MEMBERS = 100_000;

/**
 * What this process last saw of pool memberships, so that a group-commit batch can lock a
 * member's pool in the batch's own lock step, after every member and in id order, instead of
 * on demand in the middle of the batch. Only lock order depends on it: each write still reads
 * the membership under the member's lock and locks whatever pool it finds, so a stale hint
 * costs at most a lock taken out of order (on PostgreSQL, a deadlock the store detects and
 * re-runs), never a wrong charge.
 */
export class PoolHints {
  private readonly poolOfMember = new Map<string, string>();
  private readonly pools = new Set<string>();

  /** Records what a write found: `account`'s pool, or none. */
  note(account: string, pool: string | null | undefined): void {
    if (!pool) {
      this.poolOfMember.delete(account);
      return;
    }
    if (this.poolOfMember.size >= MAX_MEMBERS) this.poolOfMember.clear();
    this.poolOfMember.set(account, pool);
    this.pools.add(pool);
  }

  /** The pool `account` was last seen in, if any. */
  poolOf(account: string): string | null {
    return this.poolOfMember.get(account) ?? null;
  }

  /** Whether `account` was seen as some member's pool (then it is locked after the members). */
  isPool(account: string): boolean {
    return this.pools.has(account);
  }
}
