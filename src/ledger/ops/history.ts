import { requireAccountId } from '../../core/account-id.ts';
import { requireInt } from '../../core/amounts.ts';
import { invalid } from '../../core/errors.ts';
import type { LedgerContext } from '../context.ts';
import type { History, HistoryOptions } from '../types.ts';

export const MAX_HISTORY_PAGE = 1000;

/** An account's ledger, newest first, a page at a time. */
export async function history(ctx: LedgerContext, accountId: string, options: HistoryOptions = {}): Promise<History> {
  const account = requireAccountId(accountId);
  const limit = requireInt('limit', options.limit ?? 50, 1, MAX_HISTORY_PAGE);
  const cursor = options.cursor ?? null;
  if (cursor !== null && (typeof cursor !== 'string' || cursor.length > 64)) throw invalid('cursor', 'is not valid');
  const page = await ctx.store.history(account, { limit, cursor });
  return { account, entries: page.entries, nextCursor: page.nextCursor };
}

/** The balance an account had at `time`: the sum of its entries up to then. */
export async function balanceAt(ctx: LedgerContext, accountId: string, time: number | Date): Promise<number> {
  const account = requireAccountId(accountId);
  const ms = time instanceof Date ? time.getTime() : time;
  if (!Number.isFinite(ms)) throw invalid('time', 'must be a valid time');
  return ctx.store.balanceAt(account, ms);
}
