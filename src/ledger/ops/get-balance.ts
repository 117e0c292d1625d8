import { requireAccountId } from '../../core/account-id.ts';
import { type BalanceView, balanceView } from '../../core/balance-view.ts';
import { findPlan } from '../../core/catalog.ts';
import { isLive } from '../../core/hold.ts';
import { provision } from '../../core/provision.ts';
import { currentView } from '../../core/renewal.ts';
import type { LedgerContext } from '../context.ts';

/**
 * The account as of now. A due renewal or an expired hold shows in the answer although
 * nothing is written until the account's next write; an unknown account shows the figures
 * it would open with.
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
  const { account: stored, holds } = snapshot;
  const plan = findPlan(ctx.catalog, stored.plan);
  const held = holds.filter((h) => isLive(h, now)).reduce((sum, h) => sum + h.amount, 0);
  return balanceView({ ...currentView(stored, plan, now), held }, plan, ctx.catalog, true, now);
}
