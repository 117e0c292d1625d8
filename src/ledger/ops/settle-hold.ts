import { availableOf, balanceOf } from '../../core/account-state.ts';
import { MAX_ADJUSTMENT, requireInt } from '../../core/amounts.ts';
import { invalid, TokenmeterError } from '../../core/errors.ts';
import { type Hold, isCommittable } from '../../core/hold.ts';
import { decideCommit, decideRelease } from '../../core/holds.ts';
import type { WriteJob } from '../batch/group-committer.ts';
import type { LedgerContext } from '../context.ts';
import { currentShare } from '../pool/member-pool.ts';
import { settlePooled } from '../pool/pooled-settle.ts';
import type { HoldResult, HoldSettled } from '../types.ts';
import { WorkingAccount } from '../working-account.ts';

/**
 * Charges `actual` tokens for a hold's work and frees the rest of its reservation. Work that
 * outlived its hold is still charged (as far as available goes): an expired hold commits once.
 */
export async function commitHold(ctx: LedgerContext, holdId: number, actual: number): Promise<HoldResult> {
  const amount = requireInt('amount', actual, 0, MAX_ADJUSTMENT);
  return settle(ctx, holdId, { action: 'commit', actual: amount });
}

/** Gives a hold's whole reservation back. */
export async function releaseHold(ctx: LedgerContext, holdId: number): Promise<HoldResult> {
  return settle(ctx, holdId, { action: 'release' });
}

/** What settling a hold does: charge `actual` and free the rest, or free it all. */
export type SettleHow = { action: 'commit'; actual: number } | { action: 'release' };

async function settle(ctx: LedgerContext, holdIdInput: number, how: SettleHow): Promise<HoldResult> {
  const holdId = requireInt('holdId', holdIdInput, 1, Number.MAX_SAFE_INTEGER);
  const outcome = await ctx.write(settleJob(ctx, holdId, how));
  if (outcome.ok && outcome.status === 'committed') {
    ctx.logger.info(
      { account: outcome.account, holdId, charged: outcome.charged, shortfall: outcome.shortfall },
      `Committed hold ${holdId}: charged ${outcome.charged} tokens to user ${outcome.account}. Balance: ${outcome.balance}`,
    );
  }
  return outcome;
}

/** Settling a hold, as a transaction of its own; its `remote` form is the hold and what to do. */
export function settleJob(ctx: LedgerContext, holdId: number, how: SettleHow): WriteJob<HoldResult> {
  return {
    remote: { op: 'settleHold', holdId, how },
    run: async (tx): Promise<HoldResult> => {
      const now = ctx.clock.now();
      const found = await tx.getHold(holdId);
      if (!found) throw new TokenmeterError('not_found', `Hold ${holdId} does not exist`, 'holdId');
      // A pool's hold is half of a member's reservation: it settles only with the member's hold
      // (settlePooled), which also moves the membership. The store refuses it alone as well.
      if (found.member !== null) throw poolHalf(found);
      let working = await WorkingAccount.load(tx, found.account, ctx.catalog, now);
      let hold = found;
      if (working.closures.some((c) => c.id === holdId)) {
        // Loading the account expired this hold. Write the expiry first, so that the commit below
        // is checked by the database against the balance with the hold already freed, exactly as
        // if it had expired in an earlier write.
        await working.flush(tx, 'no_overdraft');
        working = await WorkingAccount.load(tx, found.account, ctx.catalog, now);
        hold = { ...found, status: 'expired', closedAt: now };
      }
      const settleable = how.action === 'commit' ? isCommittable(hold) : hold.status === 'active';
      if (hold.poolHold !== null && settleable) return settlePooled(tx, working, hold, how, ctx.catalog, now);
      // A hold that reserved nothing from a pool changes no pool; a member's available still counts its share.
      const share = await currentShare(tx, working, ctx.catalog, now);
      if (!settleable) {
        return {
          ok: false,
          code: 'hold_not_active',
          message: `Hold ${holdId} is ${hold.status}, not active`,
          account: hold.account,
          balance: balanceOf(working.state),
          available: availableOf(working.state) + share,
        };
      }
      const reserved = hold.amount;
      if (how.action === 'release') {
        const released = decideRelease(working.state, hold, now);
        working.state = released.state;
        working.closures.push(released.closure);
        await working.flush(tx, 'no_overdraft');
        return settled(hold.account, holdId, 'released', reserved, 0, 0, working, null, share);
      }
      const decision = decideCommit(working.state, hold, how.actual, now);
      working.apply(decision);
      working.closures.push(decision.closure);
      const ids = await working.flush(tx, 'no_overdraft');
      const entryId = decision.entries.length > 0 ? (ids.at(-1) ?? null) : null;
      return settled(
        hold.account,
        holdId,
        'committed',
        reserved,
        decision.charged,
        decision.shortfall,
        working,
        entryId,
        share,
      );
    },
  };
}

/** The refusal to settle a pool's hold by its own id: the caller is sent to the member's hold. */
function poolHalf(hold: Hold): TokenmeterError {
  return invalid(
    'holdId',
    `hold ${hold.id} is the part of a hold of member ${hold.member} that pool ${hold.account} reserves; ` +
      `settle the member's hold (the id its reservation answered), which settles both`,
  );
}

function settled(
  account: string,
  holdId: number,
  status: 'committed' | 'released',
  reserved: number,
  charged: number,
  shortfall: number,
  working: WorkingAccount,
  entryId: number | null,
  share: number,
): HoldSettled {
  return {
    ok: true,
    account,
    holdId,
    status,
    reserved,
    charged,
    shortfall,
    balance: balanceOf(working.state),
    available: availableOf(working.state) + share,
    entryId,
  };
}
