import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccountState } from '../../core/account-state.ts';
import { invalid } from '../../core/errors.ts';
import type { Hold } from '../../core/hold.ts';
import { adjustJson, balanceJson, entryJson, type JsonObject, planJson, reconcileJson } from '../../ledger/wire.ts';
import type { AppContext } from '../options.ts';
import * as s from '../schemas.ts';
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

function actorOf(request: FastifyRequest): string {
  const p = request.principal;
  return p && p.kind !== 'user' ? `admin:${p.keyName}` : 'admin';
}

function accountRow(a: AccountState): JsonObject {
  return {
    account: a.id,
    plan: a.plan,
    balance: a.allocation + a.purchased,
    available: a.allocation + a.purchased - a.held,
    held: a.held,
    updated_at: new Date(a.updatedAt).toISOString(),
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

  app.get<{ Querystring: { query?: string; limit?: number; cursor?: string } }>(
    '/api/admin/accounts',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'Search accounts by id',
        querystring: s.closed({
          query: { type: 'string', maxLength: 128 },
          limit: { type: 'integer', minimum: 1, maximum: 500 },
          cursor: s.cursor,
        }),
      },
    },
    async (request) => {
      const { query, limit, cursor } = request.query;
      const page = await ledger.operator.listAccounts({
        ...(query === undefined ? {} : { query }),
        ...(limit === undefined ? {} : { limit }),
        cursor: cursor ?? null,
      });
      return { success: true, accounts: page.accounts.map(accountRow), next_cursor: page.nextCursor };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/admin/accounts/:id',
    {
      config,
      schema: { tags: ['admin'], summary: 'An account: figures, plan, cycle, active holds', params: idParams },
    },
    async (request) => {
      const view = await ledger.getBalance(request.params.id);
      const holds = await ledger.activeHolds(request.params.id);
      return {
        ...balanceJson(view),
        exists: view.exists,
        next_token_reset: view.nextReset === null ? null : new Date(view.nextReset).toISOString(),
        holds: holds.map(holdRow),
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

  app.get<{ Params: { id: string }; Querystring: { from?: string; to?: string } }>(
    '/api/admin/accounts/:id/balance-series',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'Balance over time, for charts',
        params: idParams,
        querystring: s.closed({ from: time, to: time }),
      },
    },
    async (request) => {
      const from = parseTime('from', request.query.from);
      const to = parseTime('to', request.query.to);
      const series = await ledger.operator.balanceSeries(request.params.id, {
        ...(from === undefined ? {} : { from }),
        ...(to === undefined ? {} : { to }),
      });
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

  app.get<{ Querystring: { from?: string; to?: string } }>(
    '/api/admin/stats',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'Tokens used per feature per day',
        querystring: s.closed({ from: time, to: time }),
      },
    },
    async (request) => {
      const from = parseTime('from', request.query.from);
      const to = parseTime('to', request.query.to);
      const usage = await ledger.operator.usageByDay({
        ...(from === undefined ? {} : { from }),
        ...(to === undefined ? {} : { to }),
      });
      return {
        success: true,
        usage: usage.map((u) => ({ day: u.day, feature: u.feature, tokens: u.tokens, uses: u.uses })),
      };
    },
  );
}
