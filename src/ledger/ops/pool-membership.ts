import { requireAccountId } from '../../core/account-id.ts';
import { MAX_ADJUSTMENT, requireInt } from '../../core/amounts.ts';
import { invalid, TokenmeterError } from '../../core/errors.ts';
import { inCycle, type Membership, planOf, remainingThisCycle } from '../../core/pool.ts';
import { endIncludedOnJoin } from '../../core/pool-membership.ts';
import { currentView } from '../../core/renewal.ts';
import type { LedgerContext } from '../context.ts';
import type { JoinPoolInput, MembershipView } from '../types.ts';
import { WorkingAccount } from '../working-account.ts';

/** A membership as reads show it: its usage as of the pool's current cycle. */
export function membershipView(m: Membership, poolCycleStart: number): MembershipView {
  const current = inCycle(m, poolCycleStart);
  return {
    pool: current.pool,
    member: current.member,
    limitPerCycle: current.limitPerCycle,
    usedThisCycle: current.usedThisCycle,
    held: current.held,
    remainingThisCycle: remainingThisCycle(current),
    cycleStart: current.cycleStart,
    joinedAt: current.joinedAt,
  };
}

/**
 * Makes `member` a member of `pool` with a limit per pool cycle (null: none), or changes the
 * limit of a membership it has. The pool must exist; a new member is opened as a member (no
 * allocation, no bonus) and an existing one's included grants end (`endIncludedOnJoin`). Usage in
 * the pool's current cycle is kept: leaving and rejoining does not reset it. The member's lock
 * is taken before the pool's, as every writer of both does; the database holds pools to one level.
 */
export async function joinPool(ctx: LedgerContext, input: JoinPoolInput): Promise<MembershipView> {
  const member = requireAccountId(input.member, 'member');
  const pool = requireAccountId(input.pool, 'pool');
  const limit =
    input.limitPerCycle === null || input.limitPerCycle === undefined
      ? null
      : requireInt('limit_per_cycle', input.limitPerCycle, 0, MAX_ADJUSTMENT);
  if (member === pool) throw invalid('pool', 'an account cannot join itself');

  const view = await ctx.store.write(async (tx): Promise<MembershipView> => {
    const now = ctx.clock.now();
    const working = await WorkingAccount.load(tx, member, ctx.catalog, now, ctx.catalog.defaultPlan, true);
    if (await tx.pools.hasMembers(member)) {
      throw invalid('member', `${member} is a pool (it has members), and a pool cannot be a member`);
    }
    const owner = await WorkingAccount.load(tx, pool, ctx.catalog, now);
    if (owner.provisioned) throw new TokenmeterError('not_found', `Pool account ${pool} does not exist`, 'pool');
    if (owner.state.poolId) {
      throw invalid('pool', `${pool} is a member of ${owner.state.poolId}, and a member cannot be a pool`);
    }
    // What fell due on the pool first (its expired holds free their memberships), so the
    // membership read next is as of now.
    if (owner.changed) await owner.flush(tx, 'no_overdraft');
    const stored = await tx.pools.membership(pool, member);
    const current = stored ? inCycle(stored, owner.state.cycleStart) : null;
    const joining = working.state.poolId !== pool;
    const membership: Membership = {
      pool,
      member,
      limitPerCycle: limit,
      usedThisCycle: stored?.usedThisCycle ?? 0,
      held: stored?.held ?? 0,
      cycleStart: stored?.cycleStart ?? owner.state.cycleStart,
      joinedAt: joining || !stored ? now : stored.joinedAt,
      updatedAt: now,
    };
    if (joining && !working.provisioned) working.apply(endIncludedOnJoin(working.state, pool, now));
    if (working.changed) await working.flush(tx, 'exempt');
    await tx.pools.saveMembership(membership);
    if (joining) await tx.pools.setPool(member, pool);
    return membershipView({ ...membership, usedThisCycle: current?.usedThisCycle ?? 0 }, owner.state.cycleStart);
  });
  ctx.logger.info(
    { member, pool, limitPerCycle: limit },
    `Account ${member} is a member of pool ${pool} (limit per cycle: ${limit ?? 'none'})`,
  );
  return view;
}

/**
 * Takes `member` out of its pool: from its next operation it spends only its own tokens, and
 * its plan renews it again from its next cycle. Nothing already charged moves; a hold reserved
 * in the pool still commits there.
 */
export async function leavePool(ctx: LedgerContext, memberInput: string): Promise<{ pool: string; member: string }> {
  const member = requireAccountId(memberInput, 'member');
  const pool = await ctx.store.write(async (tx) => {
    const now = ctx.clock.now();
    const working = await WorkingAccount.load(tx, member, ctx.catalog, now);
    const poolId = working.state.poolId;
    if (working.provisioned || !poolId) {
      throw new TokenmeterError('not_found', `Account ${member} is not a member of a pool`, 'member');
    }
    // What fell due while it was a member is recorded as a member's (no allocation of its own)
    // before it leaves: its own plan renews it only from its next boundary.
    if (working.changed) await working.flush(tx, 'no_overdraft');
    await tx.pools.setPool(member, null);
    return poolId;
  });
  ctx.logger.info({ member, pool }, `Account ${member} left pool ${pool}`);
  return { pool, member };
}

/**
 * The current members of `pool`, each with its usage in the pool's current cycle and what its
 * live holds reserve there (a hold that expired by the clock no longer counts, as in a balance).
 */
export async function poolMembers(ctx: LedgerContext, poolInput: string): Promise<MembershipView[]> {
  const pool = requireAccountId(poolInput, 'pool');
  const now = ctx.clock.now();
  const snapshot = await ctx.store.getAccountWithHolds(pool);
  if (!snapshot) throw new TokenmeterError('not_found', `Pool account ${pool} does not exist`, 'pool');
  const cycleStart = currentView(snapshot.account, planOf(ctx.catalog, snapshot.account), now).cycleStart;
  // Usage and live holds from one snapshot (two reads could count a hold being committed twice).
  return (await ctx.store.service.poolMembers(pool, now)).map((m) => membershipView(m, cycleStart));
}
