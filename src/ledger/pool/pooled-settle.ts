import { availableOf, balanceOf } from '../../core/account-state.ts';
import type { Catalog } from '../../core/catalog.ts';
import type { Hold } from '../../core/hold.ts';
import { commitPooled, type PooledHoldParties, releasePooled } from '../../core/pool-settle.ts';
import type { WriteTx } from '../../store/store.ts';
import type { HoldSettled } from '../types.ts';
import type { WorkingAccount } from '../working-account.ts';
import { currentShare, MemberPool } from './member-pool.ts';

/**
 * Settles a member's hold that reserved part of its amount in a pool (`hold.poolHold`), on both
 * accounts in the write that loaded the member (its lock first, then the pool's). The caller has
 * checked the member's hold is settleable.
 */
export async function settlePooled(
  tx: WriteTx,
  working: WorkingAccount,
  hold: Hold,
  how: { action: 'commit'; actual: number } | { action: 'release' },
  catalog: Catalog,
  now: number,
): Promise<HoldSettled> {
  const poolHoldId = hold.poolHold;
  const found = poolHoldId === null ? undefined : await tx.getHold(poolHoldId);
  if (!found) throw new Error(`hold ${hold.id} names pool hold ${poolHoldId}, which does not exist`);
  const member = working.state.id;
  let pool = await MemberPool.of(tx, found.account, member, catalog, now);
  let poolHold = found;
  if (pool.account.closures.some((c) => c.id === found.id)) {
    // As for the member's own hold: record the expiry first, then settle against the freed pool.
    await pool.flush(tx);
    pool = await MemberPool.of(tx, found.account, member, catalog, now);
    poolHold = { ...found, status: 'expired', closedAt: now };
  }
  const parties: PooledHoldParties = {
    member: working.state,
    hold,
    pool: pool.account.state,
    poolHold,
    membership: pool.membership,
  };
  const settled = how.action === 'commit' ? commitPooled(parties, how.actual, now) : releasePooled(parties, now);
  working.apply({ state: settled.member.state, entries: settled.member.entries });
  working.closures.push(settled.member.closure);
  if (settled.pool) {
    pool.account.apply({ state: settled.pool.state, entries: settled.pool.entries });
    pool.account.closures.push(settled.pool.closure);
  }
  pool.membership = settled.membership;
  const ids = await working.flush(tx, 'no_overdraft');
  await pool.flush(tx);
  const committed = how.action === 'commit';
  return {
    ok: true,
    account: member,
    holdId: hold.id,
    status: committed ? 'committed' : 'released',
    reserved: hold.amount,
    charged: settled.charged,
    shortfall: settled.shortfall,
    balance: balanceOf(working.state),
    // Its current pool's share: none if it has left, another's if it has moved.
    available: availableOf(working.state) + (await currentShare(tx, working, catalog, now, pool)),
    entryId: committed && settled.member.entries.length > 0 ? (ids.at(-1) ?? null) : null,
  };
}
