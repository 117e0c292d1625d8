import { requireAccountId } from '../../core/account-id.ts';
import { type AccountState, availableOf } from '../../core/account-state.ts';
import { type BalanceView, balanceView, type PoolReading } from '../../core/balance-view.ts';
import { findPlan } from '../../core/catalog.ts';
import { type Hold, isLive, ownPart } from '../../core/hold.ts';
import { inCycle, planOf } from '../../core/pool.ts';
import { provision } from '../../core/provision.ts';
import { currentView } from '../../core/renewal.ts';
import type { AccountSnapshot } from '../../store/store.ts';
import type { LedgerContext } from '../context.ts';

/**
 * The account as of now. A due renewal or an expired hold shows in the answer although
 * nothing is written until the account's next write; an unknown account shows the figures
 * it would open with. A pool's member's figures count its share of the pool.
 */
export async function getBalance(ctx: LedgerContext, accountId: string): Promise<BalanceView> {
  const account = requireAccountId(accountId);
  const now = ctx.clock.now();
  // The row and its holds from one snapshot: read apart, a credit and a reservation landing
  // between the two reads would show a state that never existed (found by the bank workload).
  const snapshot = await ctx.store.getAccountWithHolds(account);
  if (!snapshot) {
    const plan = findPlan(ctx.catalog, ctx.catalog.defaultPlan);
    return balanceView(provision(account, plan, now).state, plan, ctx.catalog, false, now);
  }
  const plan = planOf(ctx.catalog, snapshot.account);
  const state = liveState(ctx, snapshot.account, snapshot.holds, now);
  return balanceView(state, plan, ctx.catalog, true, now, poolReading(ctx, snapshot, now));
}

/** An account as of `now`: what is due applied, and only live holds held. */
function liveState(ctx: LedgerContext, stored: AccountState, holds: readonly Hold[], now: number): AccountState {
  const held = holds.filter((h) => isLive(h, now)).reduce((sum, h) => sum + ownPart(h), 0);
  return { ...currentView(stored, planOf(ctx.catalog, stored), now), held };
}

/**
 * A member's pool as of now, from the member's own snapshot (a usage and holds read apart could
 * count a hold committed in between as neither): the pool's available, and the membership in the
 * pool's current cycle with what the member's live holds reserve there (an expired one no longer counts).
 */
function poolReading(ctx: LedgerContext, snapshot: AccountSnapshot, now: number): PoolReading | null {
  if (!snapshot.pool) return null;
  const { membership, account, holds } = snapshot.pool;
  const pool = liveState(ctx, account, holds, now);
  const member = snapshot.account.id;
  const held = holds.filter((h) => h.member === member && isLive(h, now)).reduce((sum, h) => sum + h.amount, 0);
  return {
    id: account.id,
    available: availableOf(pool),
    membership: { ...inCycle(membership, pool.cycleStart), held },
  };
}
