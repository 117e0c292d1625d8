import { requireAccountId } from '../../core/account-id.ts';
import type { BalanceView } from '../../core/balance-view.ts';
import { findPlan } from '../../core/catalog.ts';
import { provision } from '../../core/provision.ts';
import type { LedgerContext } from '../context.ts';
import { assignGrantIds } from '../draft-grants.ts';
import { getBalance } from './get-balance.ts';

/** Provisions an account on a named plan (default: the config's default plan); a no-op when it exists. */
export async function createAccount(
  ctx: LedgerContext,
  input: { account: string; plan?: string },
): Promise<{ created: boolean; balance: BalanceView }> {
  const account = requireAccountId(input.account);
  const plan = findPlan(ctx.catalog, input.plan ?? ctx.catalog.defaultPlan);
  const created = await ctx.store.write(async (tx) => {
    if (await tx.lockAccount(account)) return false;
    const opened = await assignGrantIds(tx, provision(account, plan, ctx.clock.now()));
    await tx.insertAccount(opened.state, 'no_overdraft');
    await tx.insertEntries(opened.entries);
    return true;
  });
  if (created) ctx.logger.info({ account, plan: plan.id }, `Provisioned account ${account}`);
  return { created, balance: await getBalance(ctx, account) };
}
