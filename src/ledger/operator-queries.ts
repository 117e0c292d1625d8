import { requireAccountId } from '../core/account-id.ts';
import { requireInt } from '../core/amounts.ts';
import { ENTRY_KINDS, type EntryKind } from '../core/entry.ts';
import { invalid } from '../core/errors.ts';
import type { AccountPage, UsageRow } from '../store/service-store.ts';
import type { HistoryPage } from '../store/store.ts';
import type { LedgerContext } from './context.ts';

const DAY = 24 * 3600 * 1000;
/** The widest window a stats or series query may span, so one request cannot scan the whole ledger. */
export const MAX_QUERY_SPAN_MS = 400 * DAY;

/** Read-only queries for operators: search accounts, filter the ledger, usage and balance over time. */
export class OperatorQueries {
  private readonly ctx: LedgerContext;

  constructor(ctx: LedgerContext) {
    this.ctx = ctx;
  }

  /** Accounts whose id contains `query`, in id order, a page at a time. */
  listAccounts(options: { query?: string; limit?: number; cursor?: string | null }): Promise<AccountPage> {
    const query = options.query === undefined || options.query === '' ? null : options.query;
    if (query !== null && query.length > 128) throw invalid('query', 'must be at most 128 characters');
    const limit = requireInt('limit', options.limit ?? 50, 1, 500);
    return this.ctx.store.service.listAccounts({ query, limit, cursor: options.cursor ?? null });
  }

  /** Ledger entries across accounts, newest first, filtered by account, kind and time. */
  ledger(filters: {
    account?: string;
    kind?: string;
    from?: number;
    to?: number;
    limit?: number;
    cursor?: string | null;
  }): Promise<HistoryPage> {
    if (filters.kind !== undefined && !ENTRY_KINDS.includes(filters.kind as EntryKind)) {
      throw invalid('kind', `must be one of ${ENTRY_KINDS.join(', ')}`);
    }
    return this.ctx.store.service.queryLedger({
      ...(filters.account === undefined ? {} : { account: requireAccountId(filters.account) }),
      ...(filters.kind === undefined ? {} : { kind: filters.kind as EntryKind }),
      ...(filters.from === undefined ? {} : { from: filters.from }),
      ...(filters.to === undefined ? {} : { to: filters.to }),
      limit: requireInt('limit', filters.limit ?? 100, 1, 1000),
      cursor: filters.cursor ?? null,
    });
  }

  /** Tokens used per feature per UTC day in [from, to] (default: the last 30 days). */
  usageByDay(range: { from?: number; to?: number }): Promise<UsageRow[]> {
    const { from, to } = this.window(range, 30 * DAY);
    return this.ctx.store.service.usageByDay(from, to);
  }

  /** An account's balance over time in [from, to]: a starting point, then one point per entry. */
  async balanceSeries(accountId: string, range: { from?: number; to?: number }) {
    const account = requireAccountId(accountId);
    const { from, to } = this.window(range, 90 * DAY);
    const start = await this.ctx.store.balanceAt(account, from - 1);
    const points = await this.ctx.store.service.balanceSeries(account, from, to, 5000);
    return { account, from, to, points: [{ at: from, balance: start }, ...points] };
  }

  private window(range: { from?: number; to?: number }, defaultSpan: number): { from: number; to: number } {
    const to = range.to ?? this.ctx.clock.now();
    const from = range.from ?? to - defaultSpan;
    if (!Number.isFinite(from) || !Number.isFinite(to) || from > to)
      throw invalid('from', 'must be a time before `to`');
    if (to - from > MAX_QUERY_SPAN_MS) throw invalid('from', 'the window may span at most 400 days');
    return { from, to };
  }
}
