import { requireAccountId } from '../../core/account-id.ts';
import { availableOf, balanceOf } from '../../core/account-state.ts';
import { requireQuantity } from '../../core/amounts.ts';
import { findFeature } from '../../core/catalog.ts';
import { decideDeduct } from '../../core/deduct.ts';
import type { BatchJob } from '../batch/group-committer.ts';
import type { LedgerContext } from '../context.ts';
import { findPriorDeduction } from '../idempotency.ts';
import { namedItemError, optionalKey } from '../inputs.ts';
import { MemberPool } from '../pool/member-pool.ts';
import { deductPooled } from '../pool/pooled-deduct.ts';
import { logProvisioned, ProvisioningLog, type WithProvisioning } from '../provisioning-log.ts';
import type { Deducted, DeductInput, DeductResult } from '../types.ts';
import { WorkingAccount } from '../working-account.ts';

/** A deduction once its input is checked: all its write needs, as data. */
export interface DeductScope {
  account: string;
  key: string | null;
  /** The catalog's feature id. */
  feature: string;
  quantity: number;
}

/** Charges a feature use in one guarded write, or refuses with a value (nothing written). */
export async function deduct(ctx: LedgerContext, input: DeductInput): Promise<DeductResult> {
  const scope = deductScope(ctx, input);
  const { result, provisioned } = await ctx.commit(deductJob(ctx, scope));
  logProvisioned(ctx.logger, provisioned);
  return logged(ctx, scope, result);
}

/**
 * Many deductions sent together, for apps that meter many uses at once: every input is checked
 * first (the first bad one throws, naming it as `deductions[i]`, and nothing is charged); then
 * each is charged or refused exactly as `deduct` would answer it had all been called in the same
 * turn, in order (a repeated key replays the first). Each item settles alone: one that could not
 * be queued (`unavailable`) is a rejected item beside the others' answers.
 */
export async function deductMany(
  ctx: LedgerContext,
  inputs: readonly DeductInput[],
): Promise<PromiseSettledResult<DeductResult>[]> {
  const scopes = inputs.map((input, i) => {
    try {
      return deductScope(ctx, input);
    } catch (err) {
      throw namedItemError(err, i);
    }
  });
  const settled = await ctx.commitAll(scopes.map((scope) => deductJob(ctx, scope)));
  return settled.map((s, i) => {
    if (s.status === 'rejected') return s;
    logProvisioned(ctx.logger, s.value.provisioned);
    return { status: 'fulfilled', value: logged(ctx, scopes[i] as DeductScope, s.value.result) };
  });
}

/** The input checked against the catalog: what the write needs, as data. */
function deductScope(ctx: LedgerContext, input: DeductInput): DeductScope {
  return {
    account: requireAccountId(input.account),
    feature: findFeature(ctx.catalog, input.feature).id,
    quantity: requireQuantity(input.quantity),
    key: optionalKey(input.idempotencyKey),
  };
}

/** The line a charge or a refusal leaves in the log; returns the outcome. */
function logged(ctx: LedgerContext, scope: DeductScope, outcome: DeductResult): DeductResult {
  const { account, feature, quantity } = scope;
  if (outcome.ok && !outcome.replayed) {
    ctx.logger.info(
      { account, feature, quantity, cost: outcome.cost, entryId: outcome.entryId },
      `Deducted ${outcome.cost} tokens from user ${account} (${feature}). Balance: ${outcome.balanceBefore} → ${outcome.balance}`,
    );
  } else if (!outcome.ok && outcome.code === 'insufficient_tokens') {
    const log = outcome.available <= 0 ? ctx.logger.warn.bind(ctx.logger) : ctx.logger.info.bind(ctx.logger);
    log({ account, feature, cost: outcome.cost, available: outcome.available }, outcome.message);
  }
  return outcome;
}

/**
 * A deduction's write, as a group-commit job. Its `remote` form is the scope alone, so the
 * thread that holds the writer (SQLite's worker) can make the same job there and run it
 * beside the writer.
 */
export function deductJob(ctx: LedgerContext, scope: DeductScope): BatchJob<WithProvisioning<DeductResult>> {
  const { account, key, quantity } = scope;
  const feature = findFeature(ctx.catalog, scope.feature);
  return {
    account,
    key: null,
    deduction: key === null ? null : { account, key },
    remote: { op: 'deduct', scope },
    run: async (tx): Promise<WithProvisioning<DeductResult>> => {
      const provisioning = new ProvisioningLog();
      const now = ctx.clock.now();
      const working = await WorkingAccount.load(tx, account, ctx.catalog, now);
      ctx.poolHints.note(account, working.state.poolId);
      const pool = working.state.poolId ? await MemberPool.load(tx, working, ctx.catalog, now) : null;
      const available = pool ? pool.available(working) : availableOf(working.state);
      const figures = { balance: balanceOf(working.state), available };
      const answer = (result: DeductResult): WithProvisioning<DeductResult> => ({
        result,
        provisioned: provisioning.record(),
      });
      const prior = await findPriorDeduction(tx, scope, figures);
      if (prior) return answer(prior.kind === 'replay' ? prior.result : prior.refusal);
      if (pool) return answer(await deductPooled(tx, working, pool, { feature, quantity, key }, now));

      // The debit carries the key (unique per account in the database) and held after it: it
      // is the deduction's only row, and its replay is rebuilt from it.
      const decision = decideDeduct(working.state, feature, quantity, key, now);
      if (!decision.ok) return answer({ ...decision, account } satisfies DeductResult);
      working.apply(decision);
      const ids = await working.flush(tx, 'no_overdraft');
      provisioning.note(working);
      return answer({
        ok: true,
        account,
        feature: feature.id,
        quantity,
        cost: decision.cost,
        balanceBefore: decision.balanceBefore,
        balance: balanceOf(working.state),
        available: availableOf(working.state),
        entryId: ids.at(-1) ?? 0,
        replayed: false,
      } satisfies Deducted);
    },
  };
}
