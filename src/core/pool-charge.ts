import { type AccountState, availableOf, balanceOf } from './account-state.ts';
import type { InsufficientTokens } from './deduct.ts';
import { chargeMoves } from './grant-draws.ts';
import { refusalMessage } from './messages.ts';
import { type Membership, poolShare, splitCost } from './pool.ts';
import { type Posted, post } from './posting.ts';

/** A member and its pool, as a write sees them (both locked, both up to date). */
export interface PooledParties {
  member: AccountState;
  pool: AccountState;
  /** The membership in the pool's current cycle. */
  membership: Membership;
}

/** What a member may spend now: its own available and its share of the pool. */
export function memberAvailable(p: PooledParties): number {
  return availableOf(p.member) + poolShare(availableOf(p.pool), p.membership);
}

/** The refusal for a member spending `cost` now (quoting the combined figure), or null. */
export function refusePooled(p: PooledParties, cost: number): InsufficientTokens | null {
  const available = memberAvailable(p);
  const message = refusalMessage(cost, available);
  if (message === null) return null;
  return { ok: false, code: 'insufficient_tokens', message, cost, balance: balanceOf(p.member), available };
}

/** What a member's use of a feature does to both accounts. */
export interface PooledUse {
  /** The member's own part, and the pool's. */
  own: number;
  pooled: number;
  member: Posted;
  pool: Posted;
  membership: Membership;
}

/**
 * A member's deduction of `cost` (the caller has checked it is affordable): its own tokens
 * first, the rest from the pool in the pool's burn order. The member's debit records the whole
 * use (its key, feature and quantity, and `pooled`, the pool's part); the pool's debit records its
 * part and names the member. Nothing is posted on the pool when it pays nothing.
 */
export function chargePooled(
  p: PooledParties,
  cost: number,
  use: { feature: string; quantity: number; idempotencyKey: string | null },
  now: number,
): PooledUse {
  const split = splitCost(cost, availableOf(p.member), poolShare(availableOf(p.pool), p.membership));
  const member = post(
    p.member,
    {
      kind: 'debit',
      ...chargeMoves(p.member, split.own, now),
      feature: use.feature,
      quantity: use.quantity,
      idempotencyKey: use.idempotencyKey,
      poolId: p.pool.id,
      pooled: split.pool,
    },
    now,
  );
  member.state.usedThisCycle += cost;
  const pool: Posted =
    split.pool === 0
      ? { state: p.pool, entries: [] }
      : post(
          p.pool,
          { kind: 'debit', ...chargeMoves(p.pool, split.pool, now), feature: use.feature, memberId: p.member.id },
          now,
        );
  if (split.pool > 0) pool.state.usedThisCycle += split.pool;
  return {
    own: split.own,
    pooled: split.pool,
    member,
    pool,
    membership: { ...p.membership, usedThisCycle: p.membership.usedThisCycle + split.pool, updatedAt: now },
  };
}

/** What a member's reservation of `amount` does: its own available first, the rest reserved in the pool. */
export interface PooledReservation {
  own: number;
  pooled: number;
  member: AccountState;
  pool: AccountState;
  membership: Membership;
}

/** Reserves `amount` for a member (the caller has checked it is affordable), split as a deduction would be. */
export function reservePooled(p: PooledParties, amount: number, now: number): PooledReservation {
  const split = splitCost(amount, availableOf(p.member), poolShare(availableOf(p.pool), p.membership));
  return {
    own: split.own,
    pooled: split.pool,
    member: { ...p.member, held: p.member.held + split.own, updatedAt: now },
    pool: split.pool === 0 ? p.pool : { ...p.pool, held: p.pool.held + split.pool, updatedAt: now },
    membership: { ...p.membership, held: p.membership.held + split.pool, updatedAt: now },
  };
}
