import { requireAccountId } from '../../core/account-id.ts';
import { availableOf, balanceOf } from '../../core/account-state.ts';
import { MAX_ADJUSTMENT, MAX_HOLD_TTL_SECONDS, requireInt, requireQuantity } from '../../core/amounts.ts';
import { findFeature } from '../../core/catalog.ts';
import { costOf } from '../../core/deduct.ts';
import { invalid } from '../../core/errors.ts';
import { decideReserve } from '../../core/holds.ts';
import type { LedgerContext } from '../context.ts';
import { findPrior, remember } from '../idempotency.ts';
import { optionalKey } from '../inputs.ts';
import { MemberPool } from '../pool/member-pool.ts';
import { reservePooledHold } from '../pool/pooled-reserve.ts';
import { ProvisioningLog } from '../provisioning-log.ts';
import type { Reserved, ReserveInput, ReserveResult } from '../types.ts';
import { WorkingAccount } from '../working-account.ts';

export const DEFAULT_HOLD_TTL_SECONDS = 300;

/** Reserves tokens for work of unknown cost; refused like a deduction when they are not available. */
export async function reserve(ctx: LedgerContext, input: ReserveInput): Promise<ReserveResult> {
  const account = requireAccountId(input.account);
  if ((input.feature === undefined) === (input.amount === undefined)) {
    throw invalid('amount', 'give exactly one of feature or amount');
  }
  const feature = input.feature === undefined ? null : findFeature(ctx.catalog, input.feature);
  const amount = feature
    ? costOf(feature, requireQuantity(input.quantity))
    : requireInt('amount', input.amount, 1, MAX_ADJUSTMENT);
  const ttl = requireInt('ttlSeconds', input.ttlSeconds ?? DEFAULT_HOLD_TTL_SECONDS, 1, MAX_HOLD_TTL_SECONDS);
  const key = optionalKey(input.idempotencyKey);
  const operation = input.keyScope === 'run_hold' ? 'run_hold' : 'reserve';
  const scope = { account, operation, key, fingerprint: `${feature?.id ?? ''}:${amount}:${ttl}` };

  const provisioning = new ProvisioningLog();

  const outcome = await ctx.commit({
    account,
    key: key === null ? null : { account, operation: scope.operation, key },
    run: async (tx): Promise<ReserveResult> => {
      const now = ctx.clock.now();
      const working = await WorkingAccount.load(tx, account, ctx.catalog, now);
      ctx.poolHints.note(account, working.state.poolId);
      const pool = await MemberPool.load(tx, working, ctx.catalog, now);
      const available = pool ? pool.available(working) : availableOf(working.state);
      const figures = { balance: balanceOf(working.state), available };
      const prior = await findPrior<Reserved>(tx, scope, figures);
      if (prior) return prior.kind === 'replay' ? prior.result : prior.refusal;
      if (pool) {
        const hold = { amount, feature: feature?.id ?? null, ttlMs: ttl * 1000, key };
        const pooled = await reservePooledHold(tx, working, pool, hold, now);
        if (pooled.ok) await remember(tx, scope, pooled, now);
        provisioning.note(working);
        return pooled;
      }

      const decision = decideReserve(working.state, amount, now);
      if (!decision.ok) return { ...decision, account };
      working.state = decision.state;
      await working.flush(tx, 'no_overdraft');
      provisioning.note(working);
      const expiresAt = now + ttl * 1000;
      const holdId = await tx.insertHold({
        account,
        amount,
        feature: feature?.id ?? null,
        createdAt: now,
        expiresAt,
        idempotencyKey: key,
        poolHold: null,
        poolAmount: 0,
        member: null,
      });
      const result: Reserved = {
        ok: true,
        account,
        holdId,
        amount,
        expiresAt,
        balance: balanceOf(working.state),
        available: availableOf(working.state),
        replayed: false,
      };
      await remember(tx, scope, result, now);
      return result;
    },
  });
  provisioning.flush(ctx.logger);
  return outcome;
}
