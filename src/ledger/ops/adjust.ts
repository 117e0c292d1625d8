import { requireAccountId } from '../../core/account-id.ts';
import { availableOf, balanceOf } from '../../core/account-state.ts';
import { adjustFingerprint, decideAdjust } from '../../core/adjust.ts';
import { MAX_ADJUSTMENT, requireInt } from '../../core/amounts.ts';
import { invalid } from '../../core/errors.ts';
import type { LedgerContext } from '../context.ts';
import { findPrior, remember } from '../idempotency.ts';
import { optionalKey, requireText } from '../inputs.ts';
import { currentShare } from '../pool/member-pool.ts';
import { ProvisioningLog } from '../provisioning-log.ts';
import type { Adjusted, AdjustInput, AdjustResult } from '../types.ts';
import { WorkingAccount } from '../working-account.ts';

/** An operator's correction, by an amount or to a balance, with its reason and actor on record. */
export async function adjust(ctx: LedgerContext, input: AdjustInput): Promise<AdjustResult> {
  const account = requireAccountId(input.account);
  const reason = requireText('reason', input.reason, 500);
  const actor = requireText('actor', input.actor, 200);
  const hasAmount = input.amount !== undefined;
  const hasTarget = input.setBalance !== undefined;
  if (hasAmount === hasTarget) throw invalid('amount', 'give exactly one of amount or setBalance');
  const amount = hasAmount ? requireInt('amount', input.amount, -MAX_ADJUSTMENT, MAX_ADJUSTMENT) : null;
  if (amount === 0) throw invalid('amount', 'must not be zero');
  const target = hasTarget ? requireInt('setBalance', input.setBalance, 0, MAX_ADJUSTMENT) : null;
  const expected =
    input.expectedBalance === undefined
      ? null
      : requireInt('expectedBalance', input.expectedBalance, -Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  const hasLink = input.source !== undefined || input.reference !== undefined;
  const link = hasLink
    ? { source: requireText('source', input.source, 64), reference: requireText('reference', input.reference, 255) }
    : { source: null, reference: null };
  const key = optionalKey(input.idempotencyKey);
  // Scoped like a deduction's: (account, 'adjust', key), so one account's key never replays
  // another's, and the primary key refuses a second use in the transaction that writes the entry.
  const scope = {
    account,
    operation: 'adjust',
    key,
    fingerprint: adjustFingerprint({ amount, setBalance: target, expectedBalance: expected, reason }),
  };

  const provisioning = new ProvisioningLog();

  const outcome = await ctx.store.write(async (tx): Promise<AdjustResult> => {
    const now = ctx.clock.now();
    const working = await WorkingAccount.load(tx, account, ctx.catalog, now);
    // A pool member's available counts its share of the pool, which a correction does not change.
    const share = await currentShare(tx, working, ctx.catalog, now);
    const before = balanceOf(working.state);
    const figures = { account, balance: before, available: availableOf(working.state) + share };
    const prior = await findPrior<Adjusted>(tx, scope, figures);
    if (prior) return prior.kind === 'replay' ? prior.result : prior.refusal;
    if (link.source !== null && link.reference !== null) {
      const linked = await tx.findEntryByReference('adjustment', link.source, link.reference);
      if (linked) {
        return {
          ok: true,
          ...figures,
          delta: linked.amount,
          balanceBefore: before,
          entryId: linked.id,
          replayed: true,
        };
      }
    }
    if (expected !== null && expected !== before) {
      return {
        ok: false,
        code: 'balance_changed',
        message: `The balance is ${before}, not the expected ${expected}; nothing was changed`,
        ...figures,
      };
    }
    const delta = amount ?? (target ?? before) - before;
    let result: Adjusted;
    if (delta === 0 && !working.provisioned) {
      result = { ok: true, ...figures, delta: 0, balanceBefore: before, entryId: null, replayed: false };
    } else {
      if (delta !== 0) working.apply(decideAdjust(working.state, delta, reason, actor, now, link));
      const ids = await working.flush(tx, 'exempt');
      provisioning.note(working);
      result = {
        ok: true,
        account,
        delta,
        balanceBefore: before,
        balance: balanceOf(working.state),
        available: availableOf(working.state) + share,
        entryId: delta === 0 ? null : (ids.at(-1) ?? null),
        replayed: false,
      };
    }
    // Recorded even when nothing changed, so a retried "set to N" cannot apply later.
    await remember(tx, scope, result, now);
    return result;
  });
  provisioning.flush(ctx.logger);
  if (outcome.ok && outcome.entryId !== null && !outcome.replayed) {
    ctx.logger.info(
      { account, delta: outcome.delta, reason, actor },
      `Adjusted user ${account} by ${outcome.delta}. Balance: ${outcome.balanceBefore} → ${outcome.balance}`,
    );
  }
  return outcome;
}
