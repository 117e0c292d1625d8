import { requireAccountId } from '../../core/account-id.ts';
import { availableOf, balanceOf } from '../../core/account-state.ts';
import { findPlan } from '../../core/catalog.ts';
import type { LedgerContext } from '../context.ts';
import { requireText } from '../inputs.ts';
import { ProvisioningLog } from '../provisioning-log.ts';
import { switchPlan } from '../switch-plan.ts';
import type { PlanChanged, SetPlanInput } from '../types.ts';
import { WorkingAccount } from '../working-account.ts';

/**
 * Moves an account to another plan at once, within its current cycle: an upgrade adds the
 * difference of the allocations (never beyond the highest allocation held in the cycle), a
 * downgrade adds and removes nothing; the plan held at the next boundary renews.
 */
export async function setPlan(ctx: LedgerContext, input: SetPlanInput): Promise<PlanChanged> {
  const account = requireAccountId(input.account);
  const plan = findPlan(ctx.catalog, typeof input.plan === 'string' ? input.plan : String(input.plan));
  const reason = requireText('reason', input.reason, 500);
  const actor = requireText('actor', input.actor, 200);

  const provisioning = new ProvisioningLog();

  const outcome = await ctx.store.write(async (tx): Promise<PlanChanged> => {
    const now = ctx.clock.now();
    // A new account opens straight on the plan asked for, with that plan's allocation.
    const working = await WorkingAccount.load(tx, account, ctx.catalog, now, plan.id);
    const previousPlan = working.provisioned ? null : working.state.plan;
    if (working.provisioned || previousPlan === plan.id) {
      // A new account's change is its opening on the plan; an unchanged plan writes nothing.
      const ids = working.provisioned ? await working.flush(tx, 'no_overdraft') : [];
      provisioning.note(working);
      return {
        ok: true,
        account,
        previousPlan,
        plan: plan.id,
        balance: balanceOf(working.state),
        available: availableOf(working.state),
        rolledOver: working.state.rolledOver,
        entryId: ids.at(-1) ?? null,
      };
    }
    await switchPlan(tx, working, ctx.catalog, plan, { reason, actor }, now);
    const ids = await working.flush(tx, 'exempt');
    provisioning.note(working);
    return {
      ok: true,
      account,
      previousPlan,
      plan: plan.id,
      balance: balanceOf(working.state),
      available: availableOf(working.state),
      rolledOver: working.state.rolledOver,
      entryId: ids.at(-1) ?? null,
    };
  });
  provisioning.flush(ctx.logger);
  if (outcome.entryId !== null) {
    ctx.logger.info({ account, plan: plan.id, reason, actor }, `Plan of user ${account} set to ${plan.id}`);
  }
  return outcome;
}
