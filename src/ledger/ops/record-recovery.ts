import { balanceOf } from '../../core/account-state.ts';
import { decideAdjust } from '../../core/adjust.ts';
import { MAX_ADJUSTMENT } from '../../core/amounts.ts';
import { planRecovery, RECOVER_SOURCE, type RecoveryClaim, type RecoveryPlan } from '../../core/recovery.ts';
import type { LedgerContext } from '../context.ts';
import { requireText } from '../inputs.ts';
import { WorkingAccount } from '../working-account.ts';

export interface RecoveryInput {
  claim: RecoveryClaim;
  /** Null: a preview, decided the same way, that writes nothing. */
  apply: { reason: string; actor: string } | null;
  /** Names the adjustment after the keys it counts for the first time. */
  reference(keys: readonly string[]): string;
}

export interface RecoveryOutcome {
  plan: RecoveryPlan;
  balance: number;
  /** The balance once the correction is written (or would be, in a preview). */
  balanceAfter: number;
  reference: string | null;
  entryId: number | null;
  /** Whether this call recorded lines (and the correction, when not zero). */
  written: boolean;
}

/**
 * One account's recovery in one write transaction: lock the account, read what earlier
 * recoveries recorded, decide (core `planRecovery`), and with `apply` write the correction and
 * the lines it counted together. Reading the recorded lines under the account's lock, and the
 * primary key on them, make two runs unable to count a line twice; on PostgreSQL a lost race
 * re-runs the whole transaction, which then decides from what the winner recorded.
 */
export async function recordRecovery(ctx: LedgerContext, input: RecoveryInput): Promise<RecoveryOutcome> {
  const { claim } = input;
  const apply =
    input.apply === null
      ? null
      : { reason: requireText('reason', input.apply.reason, 500), actor: requireText('actor', input.apply.actor, 200) };
  return ctx.store.write(async (tx): Promise<RecoveryOutcome> => {
    const now = ctx.clock.now();
    const working = await WorkingAccount.load(tx, claim.account, ctx.catalog, now);
    if (working.provisioned) throw new Error(`account ${claim.account} is not in tokenmeter`);
    const plan = planRecovery(claim, await tx.recovery.recoveredLines(claim.account));
    const balance = balanceOf(working.state);
    const keys = plan.record.map((r) => r.key);
    const reference = plan.correction === 0 ? null : input.reference(keys);
    const preview = { plan, balance, balanceAfter: balance + plan.correction, reference, entryId: null };
    if (apply === null || plan.record.length === 0) return { ...preview, written: false };
    let entryId: number | null = null;
    if (plan.correction !== 0 && reference !== null) {
      if (Math.abs(plan.correction) > MAX_ADJUSTMENT) {
        throw new RangeError(`account ${claim.account}: a correction of ${plan.correction} is beyond one adjustment`);
      }
      const link = { source: RECOVER_SOURCE, reference };
      working.apply(decideAdjust(working.state, plan.correction, apply.reason, apply.actor, now, link));
      entryId = (await working.flush(tx, 'exempt')).at(-1) ?? null;
    }
    await tx.recovery.insertRecoveredLines(plan.record.map((r) => ({ ...r, entryId, recoveredAt: now })));
    return { ...preview, balanceAfter: balanceOf(working.state), entryId, written: true };
  });
}
