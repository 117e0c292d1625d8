import type { FastifyInstance } from 'fastify';
import { type AccountState, availableOf, balanceOf } from '../../core/account-state.ts';
import { invalid } from '../../core/errors.ts';
import type { Hold } from '../../core/hold.ts';
import { adjustJson, balanceJson, entryJson, type JsonObject, planJson, reconcileJson } from '../../ledger/wire.ts';
import { packageJson } from '../../payments/payment-json.ts';
import { csvLine } from '../csv.ts';
import type { AppContext } from '../options.ts';
import { actorOf } from '../principal.ts';
import * as s from '../schemas.ts';
import { currentSubscription, nextResetJson } from './admin-next-reset.ts';
import { adminPaymentRoutes } from './admin-payments.ts';
import { operatorSessionRoutes } from './operator-session.ts';
import { idempotencyKeyOf, sendRefusal } from './tokens.ts';

const ADMIN = ['admin'] as const;
const idParams = { type: 'object', properties: { id: s.accountId }, required: ['id'] } as const;
const time = { type: 'string', minLength: 1, maxLength: 40, description: 'ISO 8601 time' } as const;

function parseTime(field: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms)) throw invalid(field, `is not a valid ISO 8601 time: "${text}"`);
  return ms;
}

const days = { type: 'integer', minimum: 1, maximum: 400 } as const;
const DAY_MS = 86_400_000;

/** A query's window: `from`/`to`, or the last `days` days up to `to`; by default the last `defaultDays`. */
function windowOf(q: { from?: string; to?: string; days?: number }, now: number, defaultDays: number) {
  if (q.days !== undefined && q.from !== undefined) throw invalid('days', 'give days or from, not both');
  const to = parseTime('to', q.to) ?? now;
  const from = parseTime('from', q.from) ?? to - (q.days ?? defaultDays) * DAY_MS;
  return { from, to };
}

function accountRow(a: AccountState): JsonObject {
  const available = availableOf(a);
  return {
    account: a.id,
    plan: a.plan,
    balance: balanceOf(a),
    available,
    held: a.held,
    used_this_cycle: a.usedThisCycle,
    features_disabled: available <= 0,
    created_at: new Date(a.createdAt).toISOString(),
    updated_at: new Date(a.updatedAt).toISOString(),
    pool: a.poolId ?? null,
  };
}

const ACCOUNT_CSV_HEADER = [
  'account',
  'plan',
  'balance',
  'available',
  'held',
  'used_this_cycle',
  'features_disabled',
  'created_at',
  'updated_at',
];

interface AccountListQuerystring {
  query?: string;
  limit?: number;
  cursor?: string;
  sort?: string;
  order?: string;
  features_disabled?: boolean;
  negative_balance?: boolean;
  auto_topup?: boolean;
  pool?: boolean;
}

const accountListQuerystring = s.closed({
  query: { type: 'string', maxLength: 128 },
  limit: { type: 'integer', minimum: 1, maximum: 500 },
  cursor: { type: 'string', minLength: 1, maxLength: 1024 },
  sort: { type: 'string', enum: ['account', 'balance', 'available', 'last_activity'] },
  order: { type: 'string', enum: ['asc', 'desc'] },
  features_disabled: { type: 'boolean' },
  negative_balance: { type: 'boolean' },
  auto_topup: { type: 'boolean' },
  pool: { type: 'boolean' },
});

function accountListOptions(q: AccountListQuerystring) {
  return {
    ...(q.query === undefined ? {} : { query: q.query }),
    ...(q.sort === undefined ? {} : { sort: q.sort }),
    ...(q.order === undefined ? {} : { order: q.order }),
    filters: {
      ...(q.features_disabled ? { featuresDisabled: true } : {}),
      ...(q.negative_balance ? { negativeBalance: true } : {}),
      ...(q.auto_topup ? { autoTopup: true } : {}),
      ...(q.pool ? { pool: true } : {}),
    },
  };
}

function holdRow(h: Hold): JsonObject {
  return {
    hold_id: h.id,
    amount: h.amount,
    feature: h.feature,
    created_at: new Date(h.createdAt).toISOString(),
    expires_at: new Date(h.expiresAt).toISOString(),
  };
}

/** The operator API: every route needs an admin key. */
export async function adminRoutes(app: FastifyInstance, deps: AppContext): Promise<void> {
  const { ledger } = deps;
  const config = { access: ADMIN };
  await operatorSessionRoutes(app, deps);
  await adminPaymentRoutes(app, deps);

  app.get<{ Querystring: AccountListQuerystring }>(
    '/api/admin/accounts',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'Accounts: search by id, sort, filter, a page at a time',
        description:
          'sort: account (default), balance, available or last_activity; order asc (default) or desc. ' +
          'features_disabled=true keeps accounts whose available balance is 0 or below, negative_balance=true ' +
          'those below 0 (on the stored figures), auto_topup=true those with automatic top-up enabled, pool=true ' +
          'those that are members of a shared pool. Each row names its pool (null: none). next_cursor continues ' +
          'with the same sort, order and filters.',
        querystring: accountListQuerystring,
      },
    },
    async (request) => {
      const page = await ledger.operator.listAccounts({
        ...accountListOptions(request.query),
        cursor: request.query.cursor ?? null,
        ...(request.query.limit === undefined ? {} : { limit: request.query.limit }),
      });
      return { success: true, accounts: page.accounts.map(accountRow), next_cursor: page.nextCursor };
    },
  );

  app.get<{ Querystring: AccountListQuerystring }>(
    '/api/admin/accounts.csv',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'The account list as CSV (same search, sort and filters; at most 100,000 rows)',
        querystring: accountListQuerystring,
      },
    },
    async (request, reply) => {
      const lines = [csvLine(ACCOUNT_CSV_HEADER)];
      for await (const a of ledger.operator.allAccounts(accountListOptions(request.query))) {
        const row = accountRow(a);
        lines.push(csvLine(ACCOUNT_CSV_HEADER.map((column) => row[column] ?? null)));
      }
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="tokenmeter-accounts.csv"')
        .send(lines.join(''));
    },
  );

  app.get(
    '/api/admin/plans',
    { config, schema: { tags: ['admin'], summary: 'The configured plans, with their monthly allocation' } },
    async () => ({
      success: true,
      default_plan: ledger.catalog.defaultPlan,
      plans: [...ledger.catalog.plans.values()].map((p) => ({
        id: p.id,
        name: p.name,
        monthly_allocation: p.monthlyAllocation,
        rollover_cap: p.rolloverCap,
      })),
    }),
  );

  app.get(
    '/api/admin/packages',
    { config, schema: { tags: ['admin'], summary: 'The token packages and plans for sale' } },
    async () => ({ success: true, packages: [...ledger.catalog.packages.values()].map(packageJson) }),
  );

  app.get<{ Params: { id: string } }>(
    '/api/admin/accounts/:id',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'An account: figures, plan, cycle, active holds',
        description:
          'next_token_reset: the calendar cycle’s end, or for a subscription the period end stored from its ' +
          'paid invoices (null before the first one). next_token_reset_overdue: that time has passed without a ' +
          'paid renewal invoice. next_token_reset_note: in words when the time alone does not say it ' +
          '(e.g. "at the first paid invoice"), else null.',
        params: idParams,
      },
    },
    async (request) => {
      const view = await ledger.getBalance(request.params.id);
      const holds = await ledger.activeHolds(request.params.id);
      const subscription = currentSubscription(await ledger.operator.subscriptions(request.params.id));
      const alerts = await ledger.alerts(request.params.id);
      return {
        ...balanceJson(view),
        // A subscription's cycle ends where its invoices say; a lazy cycle's where the calendar does.
        ...nextResetJson(view.nextReset, subscription, deps.clock.now()),
        // No calendar end means the account's cycle waits for invoices, recorded or not yet.
        cycle_driver: view.nextReset === null ? 'subscription' : 'calendar',
        subscription: subscription
          ? {
              provider: subscription.provider,
              subscription_id: subscription.subscriptionId,
              plan: subscription.plan,
              status: subscription.status,
              period_end: subscription.periodEnd === null ? null : new Date(subscription.periodEnd).toISOString(),
            }
          : null,
        holds: holds.map(holdRow),
        // The account's own threshold (null: its plan's) and the one `balance.low` uses.
        alerts: { low_balance_threshold: alerts.own, effective_low_balance_threshold: alerts.effective },
      };
    },
  );

  app.post<{
    Params: { id: string };
    Body: { amount?: number; balance?: number; reason: string; expected_balance?: number; idempotency_key?: string };
  }>(
    '/api/admin/accounts/:id/adjust',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'Correct a balance by an amount or to a balance, with a reason (409 balance_changed)',
        description:
          'With an Idempotency-Key (header or idempotency_key) the adjustment happens at most once per account ' +
          'and key; a repeat replays it, and the same key with other parameters is 409 idempotency_conflict.',
        params: idParams,
        headers: s.idempotencyHeaders,
        body: s.closed(
          {
            amount: { type: 'integer', minimum: -1_000_000_000, maximum: 1_000_000_000 },
            balance: { type: 'integer', minimum: 0, maximum: 1_000_000_000 },
            reason: s.reason,
            expected_balance: { type: 'integer', minimum: -9_007_199_254_740_991, maximum: 9_007_199_254_740_991 },
            idempotency_key: s.idempotencyKey,
          },
          ['reason'],
        ),
      },
    },
    async (request, reply) => {
      const b = request.body;
      if ((b.amount === undefined) === (b.balance === undefined)) {
        throw invalid('amount', 'give exactly one of amount or balance');
      }
      const key = idempotencyKeyOf(b.idempotency_key, request.headers['idempotency-key']);
      const common = {
        ...(key === undefined ? {} : { idempotencyKey: key }),
        account: request.params.id,
        reason: b.reason,
        actor: actorOf(request),
        ...(b.expected_balance === undefined ? {} : { expectedBalance: b.expected_balance }),
      };
      const r =
        b.amount !== undefined
          ? await ledger.adjust({ ...common, amount: b.amount })
          : await ledger.adjust({ ...common, setBalance: b.balance ?? 0 });
      return r.ok ? adjustJson(r) : sendRefusal(reply, r);
    },
  );

  app.put<{ Params: { id: string }; Body: { plan: string; reason: string } }>(
    '/api/admin/accounts/:id/plan',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'Change the plan now, within the cycle (an upgrade adds the difference once)',
        params: idParams,
        body: s.closed({ plan: { type: 'string', minLength: 1, maxLength: 64 }, reason: s.reason }, ['plan', 'reason']),
      },
    },
    async (request) =>
      planJson(
        await ledger.setPlan({
          account: request.params.id,
          plan: request.body.plan,
          reason: request.body.reason,
          actor: actorOf(request),
        }),
      ),
  );

  app.get<{ Params: { id: string }; Querystring: { from?: string; to?: string; days?: number } }>(
    '/api/admin/accounts/:id/balance-series',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'Balance over time, for charts: from the account’s first entry at the earliest (default: 90 days)',
        description: 'days: the last N days up to `to` (default now), instead of `from`.',
        params: idParams,
        querystring: s.closed({ from: time, to: time, days }),
      },
    },
    async (request) => {
      const { from, to } = windowOf(request.query, deps.clock.now(), 90);
      const series = await ledger.operator.balanceSeries(request.params.id, { from, to });
      return {
        success: true,
        account: series.account,
        from: new Date(series.from).toISOString(),
        to: new Date(series.to).toISOString(),
        points: series.points.map((p) => ({ at: new Date(p.at).toISOString(), balance: p.balance })),
      };
    },
  );

  app.get<{
    Querystring: { account?: string; kind?: string; from?: string; to?: string; limit?: number; cursor?: string };
  }>(
    '/api/admin/ledger',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'Ledger entries across accounts, newest first',
        querystring: s.closed({
          account: s.accountId,
          kind: { type: 'string', maxLength: 32 },
          from: time,
          to: time,
          limit: s.limit,
          cursor: s.cursor,
        }),
      },
    },
    async (request) => {
      const q = request.query;
      const from = parseTime('from', q.from);
      const to = parseTime('to', q.to);
      const page = await ledger.operator.ledger({
        ...(q.account === undefined ? {} : { account: q.account }),
        ...(q.kind === undefined ? {} : { kind: q.kind }),
        ...(from === undefined ? {} : { from }),
        ...(to === undefined ? {} : { to }),
        ...(q.limit === undefined ? {} : { limit: q.limit }),
        cursor: q.cursor ?? null,
      });
      return { success: true, entries: page.entries.map(entryJson), next_cursor: page.nextCursor };
    },
  );

  app.get(
    '/api/admin/reconcile',
    { config, schema: { tags: ['admin'], summary: 'Check every account against its ledger' } },
    async () => reconcileJson(await ledger.reconcile()),
  );

  app.get<{
    Querystring: {
      from?: string;
      to?: string;
      days?: number;
      account?: string;
      by?: 'feature' | 'account';
      top?: number;
    };
  }>(
    '/api/admin/stats',
    {
      config,
      schema: {
        tags: ['admin'],
        summary:
          'Tokens used per day: per feature, of every account or of one; or (by=account) per account, the top accounts and the others summed (default: the last 30 days)',
        description:
          'days: the last N days up to `to` (default now), instead of `from`. by=account: `accounts` lists the `top` (default 10) accounts that used the most in the window with their totals, most first; `others` sums every other account (null when none); `usage` has a row per day per top account, and `account: null` rows for the others.',
        querystring: s.closed({
          from: time,
          to: time,
          days,
          account: s.accountId,
          by: { type: 'string', enum: ['feature', 'account'] },
          top: { type: 'integer', minimum: 1, maximum: 50 },
        }),
      },
    },
    async (request) => {
      const q = request.query;
      const range = windowOf(q, deps.clock.now(), 30);
      // The window asked for, so a chart spans it and not only the days with use.
      const window = { from: new Date(range.from).toISOString(), to: new Date(range.to).toISOString() };
      if (q.by === 'account') {
        if (q.account !== undefined) throw invalid('account', 'by=account lists every account; leave account out');
        const report = await ledger.operator.usageByAccount({
          ...range,
          ...(q.top === undefined ? {} : { top: q.top }),
        });
        return {
          success: true,
          by: 'account',
          ...window,
          accounts: report.accounts.map((a) => ({ account: a.account, tokens: a.tokens, uses: a.uses })),
          others: report.others && {
            accounts: report.others.accounts,
            tokens: report.others.tokens,
            uses: report.others.uses,
          },
          usage: report.days.map((u) => ({ day: u.day, account: u.account, tokens: u.tokens, uses: u.uses })),
        };
      }
      if (q.top !== undefined) throw invalid('top', 'applies only with by=account');
      const usage = await ledger.operator.usageByDay({
        ...range,
        ...(q.account === undefined ? {} : { account: q.account }),
      });
      return {
        success: true,
        by: 'feature',
        ...window,
        usage: usage.map((u) => ({ day: u.day, feature: u.feature, tokens: u.tokens, uses: u.uses })),
      };
    },
  );
}
