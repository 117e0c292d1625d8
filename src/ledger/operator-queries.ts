import { requireAccountId } from '../core/account-id.ts';
import { requireInt } from '../core/amounts.ts';
import { ENTRY_KINDS, type EntryKind } from '../core/entry.ts';
import { invalid } from '../core/errors.ts';
import type { PaymentRow, SubscriptionRow } from '../store/payment-tx.ts';
import {
  ACCOUNT_SORTS,
  type AccountFilters,
  type AccountPage,
  type AccountSort,
  type AccountUsageRow,
  type DisputeRow,
  type PaymentEventRow,
  type UsageRow,
} from '../store/service-store.ts';
import type { HistoryPage } from '../store/store.ts';
import type { LedgerContext } from './context.ts';

const DAY = 24 * 3600 * 1000;
/** The widest window a stats or series query may span, so one request cannot scan the whole ledger. */
export const MAX_QUERY_SPAN_MS = 400 * DAY;

/**
 * The most points a balance series has in its window (plus its starting point): beyond this
 * many entries, one per time bucket, the last of each, so the line spans the whole window.
 */
export const BALANCE_SERIES_POINTS = 500;

export type { DisputeRow, PaymentEventRow } from '../store/service-store.ts';
export type { SubscriptionRow };

/** How many accounts the usage per account names by default; the rest are summed as others. */
export const USAGE_TOP_ACCOUNTS = 10;

/** One account's use over a window, or (for the others) the use of several together. */
export interface UsageTotal {
  tokens: number;
  uses: number;
}

/** Which accounts used the most tokens in a window, and each one's use per UTC day. */
export interface AccountUsageReport {
  from: number;
  to: number;
  /** The top accounts with their totals, most tokens first (ties: id byte-wise). */
  accounts: (UsageTotal & { account: string })[];
  /** Every other account with use in the window, summed; null when there is none. */
  others: (UsageTotal & { accounts: number }) | null;
  /** Per day: the top accounts in the order above, then the others (`account` null). */
  days: AccountUsageRow[];
}

/** The most rows one CSV export holds; narrow the filters for more. */
export const MAX_EXPORT_ROWS = 100_000;

/** Read-only queries for operators: search accounts, filter the ledger, usage and balance over time. */
export class OperatorQueries {
  private readonly ctx: LedgerContext;

  constructor(ctx: LedgerContext) {
    this.ctx = ctx;
  }

  /** Accounts whose id contains `query`, filtered, in the chosen order (default: by id), a page at a time. */
  listAccounts(options: {
    query?: string;
    limit?: number;
    cursor?: string | null;
    sort?: string;
    order?: string;
    filters?: AccountFilters;
  }): Promise<AccountPage> {
    const query = options.query === undefined || options.query === '' ? null : options.query;
    if (query !== null && query.length > 128) throw invalid('query', 'must be at most 128 characters');
    const limit = requireInt('limit', options.limit ?? 50, 1, 500);
    const sort = options.sort ?? 'account';
    if (!ACCOUNT_SORTS.includes(sort as AccountSort))
      throw invalid('sort', `must be one of ${ACCOUNT_SORTS.join(', ')}`);
    const order = options.order ?? 'asc';
    if (order !== 'asc' && order !== 'desc') throw invalid('order', 'must be asc or desc');
    return this.ctx.store.service.listAccounts({
      query,
      limit,
      cursor: options.cursor ?? null,
      sort: sort as AccountSort,
      order,
      ...(options.filters ? { filters: options.filters } : {}),
    });
  }

  /** Every account the list would show, page by page, up to `max` (an export must end). */
  async *allAccounts(
    options: { query?: string; sort?: string; order?: string; filters?: AccountFilters },
    max = MAX_EXPORT_ROWS,
  ): AsyncGenerator<AccountPage['accounts'][number]> {
    let cursor: string | null = null;
    let seen = 0;
    do {
      const page: AccountPage = await this.listAccounts({ ...options, limit: 500, cursor });
      for (const a of page.accounts) {
        if (seen >= max) return;
        seen += 1;
        yield a;
      }
      cursor = page.nextCursor;
    } while (cursor !== null);
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
  usageByDay(range: { from?: number; to?: number; account?: string }): Promise<UsageRow[]> {
    const { from, to } = this.window(range, 30 * DAY);
    if (range.account === undefined) return this.ctx.store.service.usageByDay(from, to);
    return this.ctx.store.service.usageByDay(from, to, requireAccountId(range.account));
  }

  /**
   * The `top` accounts (default 10) that used the most tokens in [from, to] (default: the last 30
   * days), per UTC day, the rest summed as others; "used" as in `usageByDay`.
   */
  async usageByAccount(range: { from?: number; to?: number; top?: number }): Promise<AccountUsageReport> {
    const { from, to } = this.window(range, 30 * DAY);
    const top = requireInt('top', range.top ?? USAGE_TOP_ACCOUNTS, 1, 50);
    const usage = await this.ctx.store.service.usageByAccount(from, to, top);
    // The store lists the top accounts in their order, so the map's insertion order is the ranking.
    const totals = new Map<string, UsageTotal & { account: string }>();
    const rest: UsageTotal = { tokens: 0, uses: 0 };
    for (const row of usage.rows) {
      const sum = row.account === null ? rest : totals.get(row.account);
      if (sum) {
        sum.tokens += row.tokens;
        sum.uses += row.uses;
      } else if (row.account !== null) {
        totals.set(row.account, { account: row.account, tokens: row.tokens, uses: row.uses });
      }
    }
    const accounts = [...totals.values()];
    const others = usage.accounts > accounts.length ? { accounts: usage.accounts - accounts.length, ...rest } : null;
    return { from, to, accounts, others, days: usage.rows };
  }

  /**
   * An account's balance over time in [from, to]: a starting point, then one point per entry, or
   * per time bucket past `BALANCE_SERIES_POINTS` entries; the last point is the last entry's
   * balance. It never starts before the account's first entry: before it there was no account.
   */
  async balanceSeries(accountId: string, range: { from?: number; to?: number }) {
    const account = requireAccountId(accountId);
    const window = this.window(range, 90 * DAY);
    const first = await this.ctx.store.service.firstEntryAt(account);
    if (first === null || first > window.to) return { account, from: window.from, to: window.to, points: [] };
    const from = Math.max(window.from, first);
    const points = await this.ctx.store.service.balanceSeries(account, from, window.to, BALANCE_SERIES_POINTS);
    if (from === first) return { account, from, to: window.to, points };
    const start = await this.ctx.store.balanceAt(account, from - 1);
    return { account, from, to: window.to, points: [{ at: from, balance: start }, ...points] };
  }

  /** Recent payments (all accounts, or one), newest first; `refundedOnly` for refunds. */
  payments(options: { account?: string; refundedOnly?: boolean; limit?: number }): Promise<PaymentRow[]> {
    return this.ctx.store.service.listPayments({
      ...(options.account === undefined ? {} : { account: requireAccountId(options.account) }),
      ...(options.refundedOnly ? { refundedOnly: true } : {}),
      limit: requireInt('limit', options.limit ?? 50, 1, 500),
    });
  }

  /** Provider events waiting for their payment or subscription, newest first. */
  pendingPaymentEvents(limit = 100): Promise<PaymentEventRow[]> {
    return this.ctx.store.service.pendingPaymentEvents(requireInt('limit', limit, 1, 500));
  }

  disputes(limit = 100): Promise<DisputeRow[]> {
    return this.ctx.store.service.listDisputes(requireInt('limit', limit, 1, 500));
  }

  /** The account's subscriptions, most recently updated first. */
  subscriptions(accountId: string): Promise<SubscriptionRow[]> {
    return this.ctx.store.service.subscriptionsOf(requireAccountId(accountId));
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
