import { requireAccountId } from '../../core/account-id.ts';
import { availableOf, balanceOf } from '../../core/account-state.ts';
import { MAX_ADJUSTMENT, requireInt } from '../../core/amounts.ts';
import { decideCredit } from '../../core/credit.ts';
import type { BatchJob } from '../batch/group-committer.ts';
import type { LedgerContext } from '../context.ts';
import { requireText } from '../inputs.ts';
import { currentShare } from '../pool/member-pool.ts';
import { logProvisioned, ProvisioningLog, type WithProvisioning } from '../provisioning-log.ts';
import type { Credited, CreditInput, CreditResult } from '../types.ts';
import { WorkingAccount } from '../working-account.ts';

/** A credit once its input is checked: all its write needs, as data. */
export interface CreditScope {
  account: string;
  tokens: number;
  source: string;
  reference: string;
  kind: 'credit' | 'purchase';
  reason: string | null;
  actor: string | null;
}

/**
 * Adds purchased tokens once per (source, reference): the ledger's UNIQUE index makes a
 * second credit of the same reference impossible, and a repeat replays the first.
 */
export async function credit(ctx: LedgerContext, input: CreditInput): Promise<CreditResult> {
  const account = requireAccountId(input.account);
  const tokens = requireInt('tokens', input.tokens, 1, MAX_ADJUSTMENT);
  const source = requireText('source', input.source, 64);
  const reference = requireText('reference', input.reference, 255);
  const kind = input.kind ?? 'credit';
  const reason = input.reason === undefined ? null : requireText('reason', input.reason, 500);
  const actor = input.actor === undefined ? null : requireText('actor', input.actor, 200);

  const { result: outcome, provisioned } = await ctx.commit(
    creditJob(ctx, { account, tokens, source, reference, kind, reason, actor }),
  );
  logProvisioned(ctx.logger, provisioned);
  if (outcome.ok && !outcome.replayed) {
    ctx.logger.info({ account, tokens, source, reference }, `Credited ${tokens} tokens to user ${account} (${source})`);
  }
  return outcome;
}

/** A credit's write, as a group-commit job; its `remote` form is the scope alone (see deductJob). */
export function creditJob(ctx: LedgerContext, scope: CreditScope): BatchJob<WithProvisioning<CreditResult>> {
  const { account, tokens, source, reference, kind, reason, actor } = scope;
  return {
    account,
    key: null,
    remote: { op: 'credit', scope },
    run: async (tx): Promise<WithProvisioning<CreditResult>> => {
      const provisioning = new ProvisioningLog();
      const answer = (result: CreditResult) => ({ result, provisioned: provisioning.record() });
      const now = ctx.clock.now();
      const working = await WorkingAccount.load(tx, account, ctx.catalog, now);
      ctx.poolHints.note(account, working.state.poolId);
      // A pool member's available counts its share of the pool, which a credit does not change.
      const share = await currentShare(tx, working, ctx.catalog, now);
      const prior = await tx.findEntryByReference(kind, source, reference);
      if (prior) {
        if (prior.account !== account || prior.amount !== tokens) {
          return answer({
            ok: false,
            code: 'idempotency_conflict',
            message: `${source} reference "${reference}" was already credited with different parameters`,
            account,
            balance: balanceOf(working.state),
            available: availableOf(working.state) + share,
          });
        }
        return answer({
          ok: true,
          account,
          tokens,
          balance: balanceOf(working.state),
          available: availableOf(working.state) + share,
          entryId: prior.id,
          replayed: true,
        });
      }
      working.apply(decideCredit(working.state, tokens, kind, { source, reference, reason, actor }, now));
      const ids = await working.flush(tx, 'no_overdraft');
      provisioning.note(working);
      return answer({
        ok: true,
        account,
        tokens,
        balance: balanceOf(working.state),
        available: availableOf(working.state) + share,
        entryId: ids.at(-1) ?? 0,
        replayed: false,
      } satisfies Credited);
    },
  };
}
