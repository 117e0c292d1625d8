import type { FastifyInstance } from 'fastify';
import { membershipJson } from '../../ledger/wire.ts';
import type { AppContext } from '../options.ts';
import * as s from '../schemas.ts';

const ADMIN = ['admin'] as const;
const DAY_MS = 86_400_000;
const memberParams = { type: 'object', properties: { member: s.accountId }, required: ['member'] } as const;
const poolParams = { type: 'object', properties: { pool: s.accountId }, required: ['pool'] } as const;

/** Shared pools: make an account a member of a pool with a limit, take it out, list a pool's members. */
export async function adminPoolRoutes(app: FastifyInstance, deps: AppContext): Promise<void> {
  const { ledger, clock } = deps;
  const config = { access: ADMIN };

  app.put<{ Params: { member: string }; Body: { pool: string; limit_per_cycle: number | null } }>(
    '/api/admin/accounts/:member/pool',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'Make an account a member of a pool, or change its limit per pool cycle',
        description:
          'The pool is an existing account (404 not_found otherwise); limit_per_cycle is the most the member may ' +
          'take from the pool per pool cycle (null: no limit). A member spends its own tokens first, then the ' +
          'pool’s. One level: a pool cannot be a member, nor a member a pool (400 invalid_request).',
        params: memberParams,
        body: s.closed(
          {
            pool: s.accountId,
            limit_per_cycle: { type: ['integer', 'null'], minimum: 0, maximum: 1_000_000_000 },
          },
          ['pool', 'limit_per_cycle'],
        ),
      },
    },
    async (request) => {
      const membership = await ledger.joinPool({
        member: request.params.member,
        pool: request.body.pool,
        limitPerCycle: request.body.limit_per_cycle,
      });
      return { success: true, membership: membershipJson(membership) };
    },
  );

  app.delete<{ Params: { member: string } }>(
    '/api/admin/accounts/:member/pool',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'Take an account out of its pool (404 not_found when it is in none)',
        params: memberParams,
      },
    },
    async (request) => {
      const left = await ledger.leavePool(request.params.member);
      return { success: true, membership: { pool: left.pool, member: left.member } };
    },
  );

  app.get<{ Params: { pool: string } }>(
    '/api/admin/accounts/:pool/members',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'The members of a pool with their limits and usage this pool cycle (404 when no such account)',
        params: poolParams,
      },
    },
    async (request) => ({
      success: true,
      members: (await ledger.poolMembers(request.params.pool)).map(membershipJson),
    }),
  );

  app.get<{ Params: { pool: string; member: string }; Querystring: { days?: number } }>(
    '/api/admin/accounts/:pool/members/:member/usage',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'Tokens a member drew from the pool per UTC day over the last `days` (default 30)',
        params: {
          type: 'object',
          properties: { pool: s.accountId, member: s.accountId },
          required: ['pool', 'member'],
        },
        querystring: s.closed({ days: { type: 'integer', minimum: 1, maximum: 366 } }),
      },
    },
    async (request) => {
      const to = clock.now();
      const from = to - (request.query.days ?? 30) * DAY_MS;
      const days = await ledger.store.service.memberUsageByDay(request.params.pool, request.params.member, from, to);
      // The window as the server's clock sees it: the chart spans it (a browser's clock may differ).
      return {
        success: true,
        pool: request.params.pool,
        member: request.params.member,
        from: new Date(from).toISOString(),
        to: new Date(to).toISOString(),
        days,
      };
    },
  );
}
