import { requireAccountId } from '../../core/account-id.ts';
import { availableOf, balanceOf } from '../../core/account-state.ts';
import { MAX_ADJUSTMENT, MAX_HOLD_TTL_SECONDS, requireInt, requireQuantity } from '../../core/amounts.ts';
import { findFeature } from '../../core/catalog.ts';
import { costOf } from '../../core/deduct.ts';
import { invalid } from '../../core/errors.ts';
import { decideReserve } from '../../core/holds.ts';
import type { BatchJob } from '../batch/group-committer.ts';
import type { LedgerContext } from '../context.ts';
import { findPrior, remember } from '../idempotency.ts';
import { optionalKey } from '../inputs.ts';
import { MemberPool } from '../pool/member-pool.ts';
import { reservePooledHold } from '../pool/pooled-reserve.ts';
import { logProvisioned, ProvisioningLog, type WithProvisioning } from '../provisioning-log.ts';
import type { Reserved, ReserveInput, ReserveResult } from '../types.ts';
import { WorkingAccount } from '../working-account.ts';

export const DEFAULT_HOLD_TTL_SECONDS = 300;

/** A reservation once its input is checked: all its write needs, as data. */
export interface ReserveScope {
  account: string;
  operation: 'reserve' | 'run_hold';
  key: string | null;
  /** The catalog's feature id, or null for a plain amount. */
  feature: string | null;
  amount: number;
  ttlSeconds: number;
}

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
  const ttlSeconds = requireInt('ttlSeconds', input.ttlSeconds ?? DEFAULT_HOLD_TTL_SECONDS, 1, MAX_HOLD_TTL_SECONDS);
  const key = optionalKey(input.idempotencyKey);
  const operation = input.keyScope === 'run_hold' ? 'run_hold' : 'reserve';

  const { result, provisioned } = await ctx.commit(
    reserveJob(ctx, { account, operation, key, feature: feature?.id ?? null, amount, ttlSeconds }),
  );
  logProvisioned(ctx.logger, provisioned);
  return result;
}

/** A reservation's write, as a group-commit job; its `remote` form is the scope alone (see deductJob). */
export function reserveJob(ctx: LedgerContext, reservation: ReserveScope): BatchJob<WithProvisioning<ReserveResult>> {
  const { account, operation, key, feature, amount, ttlSeconds } = reservation;
  const scope = { account, operation, key, fingerprint: `${feature ?? ''}:${amount}:${ttlSeconds}` };
  return {
    account,
    key: key === null ? null : { account, operation, key },
    remote: { op: 'reserve', scope: reservation },
    run: async (tx): Promise<WithProvisioning<ReserveResult>> => {
      const provisioning = new ProvisioningLog();
      const answer = (result: ReserveResult) => ({ result, provisioned: provisioning.record() });
      const now = ctx.clock.now();
      const working = await WorkingAccount.load(tx, account, ctx.catalog, now);
      ctx.poolHints.note(account, working.state.poolId);
      const pool = await MemberPool.load(tx, working, ctx.catalog, now);
      const available = pool ? pool.available(working) : availableOf(working.state);
      const figures = { balance: balanceOf(working.state), available };
      const prior = await findPrior<Reserved>(tx, scope, figures);
      if (prior) return answer(prior.kind === 'replay' ? prior.result : prior.refusal);
      if (pool) {
        const hold = { amount, feature, ttlMs: ttlSeconds * 1000, key };
        const pooled = await reservePooledHold(tx, working, pool, hold, now);
        if (pooled.ok) await remember(tx, scope, pooled, now);
        provisioning.note(working);
        return answer(pooled);
      }

      const decision = decideReserve(working.state, amount, now);
      if (!decision.ok) return answer({ ...decision, account });
      working.state = decision.state;
      await working.flush(tx, 'no_overdraft');
      provisioning.note(working);
      const expiresAt = now + ttlSeconds * 1000;
      const holdId = await tx.insertHold({
        account,
        amount,
        feature,
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
      return answer(result);
    },
  };
}
