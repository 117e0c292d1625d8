import type { AccountState } from './account-state.ts';
import type { EntryDraft } from './entry.ts';
import { type Hold, type HoldClosure, ownPart } from './hold.ts';
import { decideCommit, decideRelease } from './holds.ts';
import { type Membership, remainingThisCycle } from './pool.ts';
import { post } from './posting.ts';

/** A pooled hold's settlement on both accounts: each one's state, entries and hold closure. */
export interface PooledSettlement {
  member: { state: AccountState; entries: EntryDraft[]; closure: HoldClosure };
  /** Null when the pool's hold is not settled here (a release after it expired; one already closed). */
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
  const pool = p.poolHold.status === 'active' ? decideRelease(p.pool, p.poolHold, now) : null;
  return {
    member: { state: member.state, entries: [], closure: member.closure },
    pool: pool && { state: pool.state, entries: [], closure: withMember(pool.closure, p.hold) },
    membership: freed(p, now),
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
  const status = p.poolHold.status;
  // Live: its reservation pays. Expired: only what the pool has and the limit leaves. Already
  // closed (see `freed`): the pool pays nothing more, and its part is shortfall.
  const room =
    status === 'active'
      ? poolWanted
      : status === 'expired'
        ? Math.min(poolWanted, remainingThisCycle(p.membership) ?? poolWanted)
        : 0;
  const pool = status === 'active' || status === 'expired' ? decideCommit(p.pool, p.poolHold, room, now) : null;
  const poolCharged = pool?.charged ?? 0;
  const poolEntries = (pool?.entries ?? []).map((e) => ({ ...e, memberId: p.member.id }));
  const member = decideCommit(p.member, p.hold, actual - poolWanted, now);
  const link = { poolId: p.pool.id, pooled: poolCharged };
  let memberEntries = member.entries.map((e) => (e.kind === 'hold_commit' ? { ...e, ...link } : e));
  let memberState = member.state;
  if (member.charged === 0 && poolCharged > 0) {
    // The member's history shows every use it made, the pool's part too.
    const marker = post(
      member.state,
      { kind: 'hold_commit', feature: p.hold.feature, source: 'hold', reference: String(p.hold.id), ...link },
      now,
    );
    memberState = marker.state;
    memberEntries = [...memberEntries, ...marker.entries];
  }
  memberState = { ...memberState, usedThisCycle: memberState.usedThisCycle + poolCharged };
  const held = freed(p, now);
  return {
    member: { state: memberState, entries: memberEntries, closure: member.closure },
    pool: pool && { state: pool.state, entries: poolEntries, closure: withMember(pool.closure, p.hold) },
    membership: { ...held, usedThisCycle: held.usedThisCycle + poolCharged, updatedAt: now },
    charged: member.charged + poolCharged,
    shortfall: member.shortfall + (poolWanted - poolCharged),
  };
}

/** The pool's hold closes with its member's (the store refuses to commit or release it alone). */
function withMember(closure: HoldClosure, memberHold: Hold): HoldClosure {
  return { ...closure, memberHold: memberHold.id };
}

/**
 * The membership once the member's hold is settled: no longer holding the pool's part. An active
 * pool hold's amount leaves `held` now; an expired one's left when it expired. A pool hold
 * committed or released by its own id (accepted before that was refused; now the store refuses
 * it) left its amount in `held` with the member's hold still live: it leaves now too, so the
 * membership again holds exactly what its live pool holds reserve.
 */
function freed(p: PooledHoldParties, now: number): Membership {
  if (p.poolHold.status === 'expired') return p.membership;
  return { ...p.membership, held: p.membership.held - p.poolHold.amount, updatedAt: now };
}
