import type { FastifyInstance, FastifyReply } from 'fastify';
import { ERROR_STATUS, TokenmeterError } from '../../core/errors.ts';
import type { Refusal } from '../../ledger/types.ts';
import { balanceJson, checkJson, historyJson, holdJson, refusalJson, reserveJson } from '../../ledger/wire.ts';
import { deductAnswer } from '../deduct-answer.ts';
import type { AppContext } from '../options.ts';
import { actingAccount, requireAccess } from '../principal.ts';
import * as s from '../schemas.ts';

const ANY = ['user', 'app', 'admin'] as const;
const BACKEND = ['app', 'admin'] as const;

/** Sends a refusal with its status (402 insufficient tokens, 409 conflicts). */
export function sendRefusal(reply: FastifyReply, r: Refusal) {
  return reply.status(ERROR_STATUS[r.code]).send(refusalJson(r));
}

/** The idempotency key from the body or the Idempotency-Key header; both given and different is a 400. */
export function idempotencyKeyOf(body: string | undefined, header: string | string[] | undefined): string | undefined {
  const fromHeader = Array.isArray(header) ? header[0] : header;
  if (body !== undefined && fromHeader !== undefined && body !== fromHeader) {
    throw new TokenmeterError(
      'invalid_request',
      'idempotency_key: body and Idempotency-Key header differ',
      'idempotency_key',
    );
  }
  return body ?? fromHeader;
}

/** Balance, check, deduct, holds and history. */
export async function tokenRoutes(app: FastifyInstance, deps: AppContext): Promise<void> {
  const { ledger } = deps;

  app.get<{ Querystring: { account?: string } }>(
    '/api/tokens/balance',
    {
      config: { access: ANY },
      schema: {
        tags: ['tokens'],
        summary: 'An account’s balance and features_disabled',
        querystring: s.closed({ account: s.accountId }),
        response: { 200: s.balanceAnswer },
      },
    },
    async (request) => balanceJson(await ledger.getBalance(actingAccount(request, request.query.account))),
  );

  app.post<{ Body: { account?: string; feature: string; quantity?: number } }>(
    '/api/tokens/check',
    {
      config: { access: ANY },
      schema: {
        tags: ['tokens'],
        summary: 'Whether a feature use would be allowed now; writes nothing',
        body: s.closed({ account: s.accountId, feature: s.featureId, quantity: s.quantity }, ['feature']),
      },
    },
    async (request) => {
      const { feature, quantity } = request.body;
      const account = actingAccount(request, request.body.account);
      return checkJson(await ledger.check({ account, feature, ...(quantity === undefined ? {} : { quantity }) }));
    },
  );

  app.post<{ Body: { account: string; feature: string; quantity?: number; idempotency_key?: string } }>(
    '/api/tokens/deduct',
    {
      config: { access: BACKEND },
      schema: {
        tags: ['tokens'],
        summary: 'Charge a feature use (402 when refused)',
        headers: s.idempotencyHeaders,
        body: s.deduction,
      },
    },
    async (request, reply) => {
      const { feature, quantity } = request.body;
      const key = idempotencyKeyOf(request.body.idempotency_key, request.headers['idempotency-key']);
      const r = await ledger.deduct({
        account: actingAccount(request, request.body.account),
        feature,
        ...(quantity === undefined ? {} : { quantity }),
        ...(key === undefined ? {} : { idempotencyKey: key }),
      });
      const answer = deductAnswer(deps.metrics, feature, r);
      return reply.status(answer.status).send(answer.body);
    },
  );

  app.post<{
    Body: {
      account: string;
      feature?: string;
      quantity?: number;
      amount?: number;
      ttl_seconds?: number;
      idempotency_key?: string;
    };
  }>(
    '/api/tokens/reserve',
    {
      config: { access: BACKEND },
      schema: {
        tags: ['tokens'],
        summary: 'Reserve tokens for work of unknown cost',
        headers: s.idempotencyHeaders,
        body: s.closed(
          {
            account: s.accountId,
            feature: s.featureId,
            quantity: s.quantity,
            amount: s.tokenAmount,
            ttl_seconds: { type: 'integer', minimum: 1, maximum: 604_800 },
            idempotency_key: s.idempotencyKey,
          },
          ['account'],
        ),
      },
    },
    async (request, reply) => {
      const b = request.body;
      const key = idempotencyKeyOf(b.idempotency_key, request.headers['idempotency-key']);
      const r = await ledger.reserve({
        account: actingAccount(request, b.account),
        ...(b.feature === undefined ? {} : { feature: b.feature }),
        ...(b.quantity === undefined ? {} : { quantity: b.quantity }),
        ...(b.amount === undefined ? {} : { amount: b.amount }),
        ...(b.ttl_seconds === undefined ? {} : { ttlSeconds: b.ttl_seconds }),
        ...(key === undefined ? {} : { idempotencyKey: key }),
      });
      return r.ok ? reserveJson(r) : sendRefusal(reply, r);
    },
  );

  const holdParams = { type: 'object', properties: { id: { type: 'integer', minimum: 1 } }, required: ['id'] } as const;

  app.post<{ Params: { id: number }; Body: { amount: number } }>(
    '/api/tokens/holds/:id/commit',
    {
      config: { access: BACKEND },
      schema: {
        tags: ['tokens'],
        summary: 'Charge the actual cost of a hold; frees the rest',
        params: holdParams,
        body: s.closed({ amount: { type: 'integer', minimum: 0, maximum: 1_000_000_000 } }, ['amount']),
      },
    },
    async (request, reply) => {
      await ownHold(deps, request, request.params.id);
      const r = await ledger.commitHold(request.params.id, request.body.amount);
      return r.ok ? holdJson(r) : sendRefusal(reply, r);
    },
  );

  app.post<{ Params: { id: number } }>(
    '/api/tokens/holds/:id/release',
    {
      config: { access: BACKEND },
      schema: { tags: ['tokens'], summary: 'Give a hold’s reservation back', params: holdParams },
    },
    async (request, reply) => {
      await ownHold(deps, request, request.params.id);
      const r = await ledger.releaseHold(request.params.id);
      return r.ok ? holdJson(r) : sendRefusal(reply, r);
    },
  );

  app.get<{ Querystring: { account?: string; limit?: number; cursor?: string } }>(
    '/api/tokens/history',
    {
      config: { access: ANY },
      schema: {
        tags: ['tokens'],
        summary: 'Ledger entries, newest first',
        querystring: s.closed({ account: s.accountId, limit: s.limit, cursor: s.cursor }),
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const account = actingAccount(request, request.query.account);
      const page = await ledger.history(account, { ...(limit ? { limit } : {}), cursor: cursor ?? null });
      // A user sees an adjustment as an adjustment; the operator's reason and key name stay internal.
      return historyJson(page, request.principal?.kind === 'user' ? 'user' : 'operator');
    },
  );
}

/** A hold id in a path must belong to an account the caller may act on. */
async function ownHold(deps: AppContext, request: Parameters<typeof requireAccess>[0], id: number): Promise<void> {
  const hold = await deps.ledger.getHold(id);
  if (!hold) throw new TokenmeterError('not_found', `Hold ${id} does not exist`);
  requireAccess(request, hold.account);
}
