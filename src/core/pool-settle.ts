import type { AccountState } from './account-state.ts';
import type { EntryDraft } from './entry.ts';
import { type Hold, type HoldClosure, ownPart } from './hold.ts';
import { decideCommit, decideRelease } from './holds.ts';
import { type Membership, remainingThisCycle } from './pool.ts';
import { post } from './posting.ts';

/** A pooled hold's settlement on both accounts: each one's state, entries and hold closure. */
export interface PooledSettlement {
  member: { state: AccountState; entries: EntryDraft[]; closure: HoldClosure };
  /** Null when the pool's hold is no longer settleable (a release after it expired). */
  pool: { state: AccountState; entries: EntryDraft[]; closure: HoldClosure } | null;
  membership: Membership;
  charged: number;
  shortfall: number;
}

/** The two accounts of a pooled hold: the member's hold (whose id the caller has) and the pool's. */
export interface PooledHoldParties {
  member: AccountState;
  hold: Hold;
  pool: AccountState;
  poolHold: Hold;
  membership: Membership;
}

/** Gives a pooled hold's reservation back on both accounts. */
export function releasePooled(p: PooledHoldParties, now: number): PooledSettlement {
  const member = decideRelease(p.member, p.hold, now);
  const live = p.poolHold.status === 'active';
  const pool = live ? decideRelease(p.pool, p.poolHold, now) : null;
  return {
    member: { state: member.state, entries: [], closure: member.closure },
    pool: pool && { state: pool.state, entries: [], closure: pool.closure },
    membership: live ? { ...p.membership, held: p.membership.held - p.poolHold.amount, updatedAt: now } : p.membership,
    charged: 0,
    shortfall: 0,
  };
}

/**
 * Charges `actual` for work done under a pooled hold, keeping the split decided at reserve: the
 * member's own reservation first, then the pool's, and anything beyond the reservation from the
 * member's own available only. The pool's part counts toward the membership even if the member
 * has left; a pool hold that expired uncharged is charged as far as the pool's available and the
 * member's remaining limit go. The member's entry records the whole use (`pooled`: the pool's
 * part), the pool's entry names the member.
 */
export function commitPooled(p: PooledHoldParties, actual: number, now: number): PooledSettlement {
  const poolWanted = Math.min(Math.max(0, actual - ownPart(p.hold)), p.hold.poolAmount);
  const live = p.poolHold.status === 'active';
  const room = live ? poolWanted : Math.min(poolWanted, remainingThisCycle(p.membership) ?? poolWanted);
  const pool = decideCommit(p.pool, p.poolHold, room, now);
  const poolEntries = pool.entries.map((e) => ({ ...e, memberId: p.member.id }));
  const member = decideCommit(p.member, p.hold, actual - poolWanted, now);
  const link = { poolId: p.pool.id, pooled: pool.charged };
  let memberEntries = member.entries.map((e) => (e.kind === 'hold_commit' ? { ...e, ...link } : e));
  let memberState = member.state;
  if (member.charged === 0 && pool.charged > 0) {
    // The member's history shows every use it made, the pool's part too.
    const marker = post(
      member.state,
      { kind: 'hold_commit', feature: p.hold.feature, source: 'hold', reference: String(p.hold.id), ...link },
      now,
    );
    memberState = marker.state;
    memberEntries = [...memberEntries, ...marker.entries];
  }
  memberState = { ...memberState, usedThisCycle: memberState.usedThisCycle + pool.charged };
  return {
    member: { state: memberState, entries: memberEntries, closure: member.closure },
    pool: { state: pool.state, entries: poolEntries, closure: pool.closure },
    membership: {
      ...p.membership,
      held: live ? p.membership.held - p.poolHold.amount : p.membership.held,
      usedThisCycle: p.membership.usedThisCycle + pool.charged,
      updatedAt: now,
    },
    charged: member.charged + pool.charged,
    shortfall: member.shortfall + (poolWanted - pool.charged),
  };
}
