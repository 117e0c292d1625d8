import type { AccountState } from './account-state.ts';
import { type Catalog, findPlan, type Plan } from './catalog.ts';

/**
 * One account's membership of a pool, for the pool's cycle starting `cycleStart`. Kept after the
 * member leaves (see m011-pools.ts); `active` says whether it is the member's current pool.
 */
export interface Membership {
  pool: string;
  member: string;
  /** Tokens the member may take from the pool per pool cycle; null: no limit. */
  limitPerCycle: number | null;
  /** Tokens the member drew from the pool in the pool's cycle starting `cycleStart`. */
  usedThisCycle: number;
  /** Tokens the member's live holds reserve from the pool. */
  held: number;
  cycleStart: number;
  joinedAt: number;
  updatedAt: number;
}

/**
 * A membership's usage moved by deltas, guarded in the write: the row must still be in
 * `cycleStartBefore`'s cycle, and a move that raises `used + held` may not take it above the limit.
 */
export interface MembershipMove {
  pool: string;
  member: string;
  usedDelta: number;
  heldDelta: number;
  cycleStartBefore: number;
  cycleStart: number;
  updatedAt: number;
}

/** The membership as of the pool's current cycle: what an earlier cycle used counts for nothing. */
export function inCycle(m: Membership, poolCycleStart: number): Membership {
  return m.cycleStart === poolCycleStart ? m : { ...m, usedThisCycle: 0, cycleStart: poolCycleStart };
}

/** What the member may still take from the pool this cycle (null: no limit). */
export function remainingThisCycle(m: Membership): number | null {
  return m.limitPerCycle === null ? null : Math.max(0, m.limitPerCycle - m.usedThisCycle - m.held);
}

/** What the member may spend from the pool now: the pool's available, within the member's limit. */
export function poolShare(poolAvailable: number, m: Membership): number {
  const remaining = remainingThisCycle(m);
  return Math.max(0, remaining === null ? poolAvailable : Math.min(poolAvailable, remaining));
}

/** Whether the member's limit is used up this cycle (never, without a limit). */
export function limitReached(m: Membership): boolean {
  return m.limitPerCycle !== null && m.usedThisCycle + m.held >= m.limitPerCycle;
}

/**
 * How a member pays `cost`: its own tokens first (whatever their priority or expiry), the rest
 * from the pool. The caller has checked `cost <= ownAvailable + share`, so the pool's part never
 * exceeds the share; an own available below zero pays nothing.
 */
export function splitCost(cost: number, ownAvailable: number, share: number): { own: number; pool: number } {
  const own = Math.max(0, Math.min(cost, ownAvailable));
  const pool = cost - own;
  if (pool > share) throw new Error(`a pool part of ${pool} exceeds the share ${share}`);
  return { own, pool };
}

/** The move that takes a membership (as read, `stored`) to `after`, in the pool's current cycle. */
export function membershipMove(stored: Membership, after: Membership, now: number): MembershipMove {
  return {
    pool: stored.pool,
    member: stored.member,
    usedDelta: after.usedThisCycle - stored.usedThisCycle,
    heldDelta: after.held - stored.held,
    cycleStartBefore: stored.cycleStart,
    cycleStart: after.cycleStart,
    updatedAt: now,
  };
}

/** Whether a move raises the membership's usage (only such a move is held to the limit). */
export function raisesUsage(move: MembershipMove): boolean {
  return move.usedDelta + move.heldDelta > 0;
}

/**
 * The plan as it applies to a pool's member: no included grant of its own (the pool's plan
 * grants the tokens), no rollover, no sign-up bonus. Its cycle still turns, so an included grant
 * from before it joined ends where it would have.
 */
export function memberPlan(plan: Plan): Plan {
  return { ...plan, monthlyAllocation: 0, rolloverCap: 0, signupBonus: null };
}

/** The dedupe key of `member.limit_reached`: once per membership per pool cycle. */
export function limitReachedKey(m: Membership): string {
  return `member.limit_reached:${m.pool}:${m.member}:${m.cycleStart}`;
}

/** The plan an account is renewed on: its own, or, while it is a pool's member, `memberPlan` of it. */
export function planOf(catalog: Catalog, state: Pick<AccountState, 'plan' | 'poolId'>): Plan {
  const plan = findPlan(catalog, state.plan);
  return state.poolId ? memberPlan(plan) : plan;
}
