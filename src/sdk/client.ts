import type {
  AccountResponse,
  AccountStatsResponse,
  AdjustRequest,
  AdjustResponse,
  BalanceSeriesResponse,
  JoinPoolRequest,
  LeavePoolResponse,
  LedgerRequest,
  LedgerResponse,
  ListAccountsRequest,
  ListAccountsResponse,
  MembershipResponse,
  MemberUsageRequest,
  MemberUsageResponse,
  PoolMembersResponse,
  ReconcileResponse,
  SetPlanRequest,
  SetPlanResponse,
  StatsResponse,
  TimeRange,
} from './admin-types.ts';
import { apiError, isObject } from './answer-error.ts';
import { type BatchingOptions, checkBatching, DeductCoalescer } from './deduct-coalescer.ts';
import { type KeyedDeduction, sendDeductions, withKeys } from './deduct-many.ts';
import { checkDeductions } from './deduction-check.ts';
import { type ApiRequest, HttpTransport, type QueryValue } from './http-transport.ts';
import { newIdempotencyKey } from './idempotency-key.ts';
import type {
  AutoTopupRequest,
  AutoTopupResponse,
  CheckoutRequest,
  CheckoutResponse,
  PackagesResponse,
  PaymentHistoryResponse,
  PortalResponse,
} from './payment-types.ts';
import type {
  BalanceResponse,
  CheckRequest,
  CheckResponse,
  DeductManyResult,
  DeductOutcome,
  DeductRequest,
  DeductResponse,
  FeatureRunReplayedResponse,
  FeatureRunResponse,
  HistoryRequest,
  HistoryResponse,
  HoldResponse,
  InsufficientTokens,
  ReserveOutcome,
  ReserveRequest,
  ReserveResponse,
  RunFeatureOutcome,
  RunFeatureRequest,
  SessionResponse,
  TimeInput,
} from './types.ts';

export interface TokenMeterClientOptions {
  /** Where tokenmeter listens, e.g. `http://127.0.0.1:3000` (a path prefix is kept). */
  baseUrl: string;
  /** A secret app or admin key, for backends. Give this or `token`, not both. */
  apiKey?: string;
  /** A user token from `POST /api/sessions`, scoped to one account. */
  token?: string;
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Extra attempts after a network error or a 503; default 3. Never after another 4xx or 5xx. */
  retries?: number;
  /** Per attempt; default 10 000 ms. A timed-out attempt counts as a network error. */
  timeoutMs?: number;
  /** First backoff delay, doubled on each retry, with jitter; default 100 ms. */
  retryDelayMs?: number;
  /**
   * Coalesce concurrent `deduct` calls into batch requests (`POST /api/tokens/deduct/batch`):
   * calls made within `maxWaitMs` of the first, up to `maxItems`, go as one request. Each call
   * keeps its own idempotency key and gets its own answer. Off by default.
   */
  batching?: BatchingOptions;
}

function time(t: TimeInput | undefined): string | undefined {
  return t instanceof Date ? t.toISOString() : t;
}

function range(r: TimeRange): Record<string, QueryValue> {
  return { from: time(r.from), to: time(r.to) };
}

/** A filter flag as the querystring carries it. */
function flag(on: boolean | undefined): string | undefined {
  return on === undefined ? undefined : String(on);
}

/**
 * A typed client for every tokenmeter endpoint, over the global `fetch`.
 *
 * Error convention: a method resolves with the service's JSON on 2xx and throws
 * TokenMeterApiError on any other status, with one exception: the expected refusal, 402
 * insufficient_tokens, is a value from `deduct`, `reserve` and `runFeature` (`ok: false`
 * with the service's body), so callers branch on `ok` instead of catching. No answer at all
 * throws TokenMeterConnectionError.
 *
 * Retries: network errors, timeouts and 503 are retried with backoff; every attempt of a
 * write carries the same idempotency key (the caller's, or one generated per call), so a
 * retried deduction charges once. The key goes in the `Idempotency-Key` header when it is
 * printable ASCII, else in the body's `idempotency_key` (a header is Latin-1 on the wire). Other
 * 4xx and 5xx are never retried, nor is a request fetch would refuse to send (a TypeError).
 *
 * @example
 * const tm = new TokenMeterClient({ baseUrl: 'http://127.0.0.1:3000', apiKey: process.env.TOKENMETER_API_KEY });
 * const r = await tm.deduct({ account: 'user-7', feature: 'outbound_call_single' });
 * if (!r.ok) return showBuyTokens(r.error, r.balance);
 */
export class TokenMeterClient {
  readonly baseUrl: string;
  readonly #transport: HttpTransport;
  readonly #coalescer: DeductCoalescer | null;

  constructor(options: TokenMeterClientOptions) {
    if (typeof options.baseUrl !== 'string' || !URL.canParse(options.baseUrl)) {
      throw new TypeError(`TokenMeterClient: baseUrl must be an absolute URL, got ${String(options.baseUrl)}`);
    }
    if (options.apiKey !== undefined && options.token !== undefined) {
      throw new TypeError('TokenMeterClient: give apiKey or token, not both');
    }
    const retries = options.retries ?? 3;
    if (!Number.isInteger(retries) || retries < 0)
      throw new TypeError('TokenMeterClient: retries must be an integer >= 0');
    this.baseUrl = options.baseUrl;
    this.#transport = new HttpTransport({
      baseUrl: options.baseUrl,
      credential: options.apiKey ?? options.token,
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      retries,
      timeoutMs: options.timeoutMs ?? 10_000,
      retryDelayMs: options.retryDelayMs ?? 100,
    });
    this.#coalescer = options.batching
      ? new DeductCoalescer(
          (items) => sendDeductions(this.#transport, items, { throwUncertain: true }),
          checkBatching(options.batching),
        )
      : null;
  }

  // ---- token API ----------------------------------------------------------------------

  /** An account's balance, features and whether they are disabled. `account` is required with an API key. */
  getBalance(account?: string): Promise<BalanceResponse> {
    return this.#call({ method: 'GET', path: '/api/tokens/balance', query: { account }, retry: 'safe' });
  }

  /** Whether a feature use would be allowed now; writes nothing. */
  check(request: CheckRequest): Promise<CheckResponse> {
    return this.#call({ method: 'POST', path: '/api/tokens/check', body: request, retry: 'safe' });
  }

  /** Charges a feature use; an insufficient balance is `{ ok: false, ... }`, not an exception. */
  deduct(request: DeductRequest): Promise<DeductOutcome> {
    if (this.#coalescer) {
      const [item] = withKeys([request]) as [KeyedDeduction];
      return this.#coalescer.deduct(item);
    }
    return this.#refusable<DeductResponse>(this.#keyed('/api/tokens/deduct', request));
  }

  /**
   * Charges many feature uses in as few requests as possible (`POST /api/tokens/deduct/batch`,
   * up to 1,000 items each, one request after another): one result per item, in order, each what
   * `deduct` would have answered for it, plus the `idempotency_key` it was sent with. Every item
   * gets a key before the first send (a UUID unless it has one); retries resend only the items
   * not yet answered, with the same keys, so nothing is charged twice.
   *
   * Throws only when nothing was charged: a malformed item is refused before anything is sent
   * (TokenMeterApiError 400 `invalid_request` naming `deductions[i]`, `i` its index in `items`,
   * worded as the service words it), or the first request is refused whole (401, 403, 429...)
   * or cannot reach the service at all (TokenMeterConnectionError). Whenever something may have
   * been charged it answers instead: a request that fails whole once an earlier one was
   * answered, or after an attempt whose answer was lost (or a 503), gives its items and those of
   * the requests after it (not sent) a result for the failure, `unavailable` when the outcome is
   * unknown, else the service's code; each is safe to retry with its key. An item whose feature
   * the service does not know gets `unknown_feature` as its result; the rest are charged.
   *
   * @example
   * const results = await tm.deductMany(calls.map((c) => ({ account: c.user, feature: 'outbound_call_single' })));
   * const refused = results.filter((r) => !r.ok);
   * const retry = refused.filter((r) => r.code === 'unavailable'); // later: deductMany(those items with r.idempotency_key)
   */
  async deductMany(items: readonly DeductRequest[]): Promise<DeductManyResult[]> {
    checkDeductions(items);
    return sendDeductions(this.#transport, withKeys(items), { throwUncertain: false });
  }

  /** Reserves a feature's cost (or an amount) for work in progress; settle it with commitHold or releaseHold. */
  reserve(request: ReserveRequest): Promise<ReserveOutcome> {
    return this.#refusable<ReserveResponse>(this.#keyed('/api/tokens/reserve', request));
  }

  /**
   * Charges `amount` for the work done under a hold (usually its whole amount) and frees the
   * rest. Up to the reservation it is charged even if a refund took the balance below zero
   * meanwhile; beyond it, and for a hold that expired while the work ran, only as far as the
   * available balance goes (the rest is `shortfall`). A hold commits once: a second commit, or
   * one after a release, is 409 hold_not_active.
   */
  commitHold(holdId: number, amount: number): Promise<HoldResponse> {
    return this.#call({ method: 'POST', path: `/api/tokens/holds/${holdId}/commit`, body: { amount }, retry: 'safe' });
  }

  /** Gives a hold's reservation back; nothing is charged. */
  releaseHold(holdId: number): Promise<HoldResponse> {
    return this.#call({ method: 'POST', path: `/api/tokens/holds/${holdId}/release`, retry: 'safe' });
  }

  /** Ledger entries, newest first; pass `next_cursor` back as `cursor` for the next page. */
  history(request: HistoryRequest = {}): Promise<HistoryResponse> {
    return this.#call({ method: 'GET', path: '/api/tokens/history', query: { ...request }, retry: 'safe' });
  }

  /** Runs a feature behind the service's token gate; charged only when its handler succeeds. */
  runFeature(feature: string, request: RunFeatureRequest = {}): Promise<RunFeatureOutcome> {
    return this.#refusable<FeatureRunResponse | FeatureRunReplayedResponse>(
      this.#keyed(`/api/features/${encodeURIComponent(feature)}/run`, request),
    );
  }

  /** A short-lived user token for one account, for that user's browser (app key only). */
  createSession(account: string): Promise<SessionResponse> {
    return this.#call({ method: 'POST', path: '/api/sessions', body: { account }, retry: 'safe' });
  }

  // ---- admin API (admin key) ----------------------------------------------------------

  /** Accounts a page at a time, searched, sorted and filtered (e.g. `{ pool: true }`: only pool members). */
  listAccounts(request: ListAccountsRequest = {}): Promise<ListAccountsResponse> {
    const { features_disabled, negative_balance, auto_topup, pool, ...rest } = request;
    const flags = {
      features_disabled: flag(features_disabled),
      negative_balance: flag(negative_balance),
      auto_topup: flag(auto_topup),
      pool: flag(pool),
    };
    return this.#call({ method: 'GET', path: '/api/admin/accounts', query: { ...rest, ...flags }, retry: 'safe' });
  }

  /** Figures, plan, cycle and active holds of one account. */
  getAccount(account: string): Promise<AccountResponse> {
    return this.#call({ method: 'GET', path: `/api/admin/accounts/${encodeURIComponent(account)}`, retry: 'safe' });
  }

  /**
   * Corrects a balance by `amount` or to `balance`, with a reason. Not retried once sent (it has
   * no idempotency key); pass `expected_balance` to make a repeat safe (409 balance_changed).
   */
  adjust(account: string, request: AdjustRequest): Promise<AdjustResponse> {
    const path = `/api/admin/accounts/${encodeURIComponent(account)}/adjust`;
    return this.#call({ method: 'POST', path, body: request, retry: 'unsent-only' });
  }

  /** Changes the plan now, within the cycle (an upgrade adds the difference once). Not retried once sent. */
  setPlan(account: string, request: SetPlanRequest): Promise<SetPlanResponse> {
    const path = `/api/admin/accounts/${encodeURIComponent(account)}/plan`;
    return this.#call({ method: 'PUT', path, body: request, retry: 'unsent-only' });
  }

  balanceSeries(account: string, request: TimeRange = {}): Promise<BalanceSeriesResponse> {
    const path = `/api/admin/accounts/${encodeURIComponent(account)}/balance-series`;
    return this.#call({ method: 'GET', path, query: range(request), retry: 'safe' });
  }

  /** Ledger entries across accounts, newest first. */
  ledger(request: LedgerRequest = {}): Promise<LedgerResponse> {
    const { from, to, ...rest } = request;
    return this.#call({
      method: 'GET',
      path: '/api/admin/ledger',
      query: { ...rest, ...range({ from, to }) },
      retry: 'safe',
    });
  }

  /** Checks every account against its ledger; an empty `drift` means consistent. */
  reconcile(): Promise<ReconcileResponse> {
    return this.#call({ method: 'GET', path: '/api/admin/reconcile', retry: 'safe' });
  }

  /** Tokens used per feature per day. */
  stats(request: TimeRange = {}): Promise<StatsResponse> {
    return this.#call({ method: 'GET', path: '/api/admin/stats', query: range(request), retry: 'safe' });
  }

  /** The accounts that used the most tokens in the window (`top`, default 10), per day, and the rest as `others`. */
  statsByAccount(request: TimeRange & { top?: number } = {}): Promise<AccountStatsResponse> {
    const query = { ...range(request), by: 'account', top: request.top };
    return this.#call({ method: 'GET', path: '/api/admin/stats', query, retry: 'safe' });
  }

  // ---- shared pools (admin key) --------------------------------------------------------

  /**
   * Makes `member` a member of `request.pool` with a limit per pool cycle (null: none), or changes
   * its limit: from its next operation it spends its own tokens first, then the pool's. The pool
   * must exist (404 not_found); one level only (400 invalid_request naming `pool` or `member`).
   * Retried like a read: saving the same membership again changes nothing.
   *
   * @example
   * await tm.joinPool('client-7', { pool: 'agency-1', limit_per_cycle: 500 });
   */
  joinPool(member: string, request: JoinPoolRequest): Promise<MembershipResponse> {
    const path = `/api/admin/accounts/${encodeURIComponent(member)}/pool`;
    return this.#call({ method: 'PUT', path, body: request, retry: 'safe' });
  }

  /**
   * Takes `member` out of its pool, from its next operation (404 not_found when it is in none).
   * Not retried once sent: a repeat after a lost answer would be a 404 for a leave that happened.
   */
  leavePool(member: string): Promise<LeavePoolResponse> {
    const path = `/api/admin/accounts/${encodeURIComponent(member)}/pool`;
    return this.#call({ method: 'DELETE', path, retry: 'unsent-only' });
  }

  /** The current members of `pool` with their limits and usage this pool cycle (404 when no such account). */
  poolMembers(pool: string): Promise<PoolMembersResponse> {
    const path = `/api/admin/accounts/${encodeURIComponent(pool)}/members`;
    return this.#call({ method: 'GET', path, retry: 'safe' });
  }

  /** Tokens `member` drew from `pool` per UTC day over the last `days` (default 30), days with use only. */
  memberUsage(pool: string, member: string, request: MemberUsageRequest = {}): Promise<MemberUsageResponse> {
    const path = `/api/admin/accounts/${encodeURIComponent(pool)}/members/${encodeURIComponent(member)}/usage`;
    return this.#call({ method: 'GET', path, query: { days: request.days }, retry: 'safe' });
  }

  // ---- payments ---------------------------------------------------------------------

  listPackages(): Promise<PackagesResponse> {
    return this.#call({ method: 'GET', path: '/api/payment/packages', retry: 'safe' });
  }

  /** Starts a checkout; send the buyer's browser to `url`. A retry may open a second, unpaid checkout. */
  checkout(request: CheckoutRequest): Promise<CheckoutResponse> {
    return this.#call({ method: 'POST', path: '/api/payment/checkout', body: request, retry: 'safe' });
  }

  paymentHistory(account?: string): Promise<PaymentHistoryResponse> {
    return this.#call({ method: 'GET', path: '/api/payment/history', query: { account }, retry: 'safe' });
  }

  /** The provider's customer portal (payment methods, invoices). */
  paymentPortal(account?: string): Promise<PortalResponse> {
    return this.#call({
      method: 'POST',
      path: '/api/payment/portal',
      body: account === undefined ? {} : { account },
      retry: 'safe',
    });
  }

  /** Automatic top-up: settings, status, saved card and last error. `account` is required with an API key. */
  getAutoTopup(account?: string): Promise<AutoTopupResponse> {
    return this.#call({ method: 'GET', path: '/api/payment/auto-topup', query: { account }, retry: 'safe' });
  }

  /**
   * Saves automatic top-up settings. Enabling without a saved card (a top-up checkout with
   * `save_card: true`) throws TokenMeterApiError 409 payment_method_required. Retried like a
   * read: saving the same settings again changes nothing.
   *
   * @example
   * await tm.setAutoTopup({ account: 'user-7', enabled: true, threshold: 50, package: 'tokens_500', monthly_limit: 5 });
   */
  setAutoTopup(request: AutoTopupRequest): Promise<AutoTopupResponse> {
    return this.#call({ method: 'PUT', path: '/api/payment/auto-topup', body: request, retry: 'safe' });
  }

  // ---- plumbing -----------------------------------------------------------------------

  /** A write with an idempotency key: the caller's, or a fresh one reused by every retry. */
  #keyed(path: string, request: { idempotency_key?: string | undefined }): ApiRequest {
    const { idempotency_key, ...body } = request;
    return { method: 'POST', path, body, idempotencyKey: idempotency_key ?? newIdempotencyKey(), retry: 'safe' };
  }

  async #call<T>(request: ApiRequest): Promise<T> {
    const answer = await this.#transport.send(request);
    if (
      answer.status >= 200 &&
      answer.status < 300 &&
      answer.json &&
      isObject(answer.body) &&
      answer.body.success === true
    ) {
      return answer.body as T;
    }
    throw apiError(answer);
  }

  async #refusable<T extends { success: true }>(request: ApiRequest): Promise<({ ok: true } & T) | InsufficientTokens> {
    const answer = await this.#transport.send(request);
    if (answer.status === 402 && isObject(answer.body) && answer.body.code === 'insufficient_tokens') {
      return { ...(answer.body as unknown as Omit<InsufficientTokens, 'ok'>), ok: false };
    }
    if (
      answer.status >= 200 &&
      answer.status < 300 &&
      answer.json &&
      isObject(answer.body) &&
      answer.body.success === true
    ) {
      return { ...(answer.body as T), ok: true };
    }
    throw apiError(answer);
  }
}
