import type { FastifyInstance } from 'fastify';
import { isTokenmeterError, TokenmeterError } from '../../core/errors.ts';
import { CALLER_GRANT_CATEGORIES, type CallerGrantCategory, MAX_PRIORITY, MIN_PRIORITY } from '../../core/grant.ts';
import { grantJson, parseIsoTime } from '../../ledger/wire.ts';
import type { AppContext } from '../options.ts';
import { actorOf } from '../principal.ts';
import * as s from '../schemas.ts';

const ADMIN = ['admin'] as const;
const accountParams = { type: 'object', properties: { id: s.accountId }, required: ['id'] } as const;
const grantParams = {
  type: 'object',
  properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
  required: ['id'],
} as const;
const time = { type: 'string', minLength: 1, maxLength: 40, description: 'ISO 8601 time with a zone' } as const;

interface GrantBody {
  tokens: number;
  category: CallerGrantCategory;
  expires_at?: string;
  effective_at?: string;
  priority?: number;
  reason: string;
  reference?: string;
}

/** The library names its time fields in camelCase; over HTTP an error names the body's field. */
const WIRE_FIELDS: Record<string, string> = { expiresAt: 'expires_at', effectiveAt: 'effective_at' };

/**
 * Runs a ledger call so that a TokenmeterError it throws names the request's field by its wire
 * name, and a 400 names it first, the way the schema's errors do (`expires_at: ...`, `id: ...`).
 */
async function namingWireField<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!isTokenmeterError(err) || err.field === undefined) throw err;
    const field = WIRE_FIELDS[err.field] ?? err.field;
    let message = err.message;
    for (const [lib, wire] of Object.entries(WIRE_FIELDS)) message = message.replaceAll(lib, wire);
    if (err.code === 'invalid_request' && !message.startsWith(`${field}: `)) message = `${field}: ${message}`;
    throw new TokenmeterError(err.code, message, field);
  }
}

/** Grants: give an account promotional or paid tokens, list its grants, void one. Admin key only. */
export async function adminGrantRoutes(app: FastifyInstance, deps: AppContext): Promise<void> {
  const { ledger, clock } = deps;
  const config = { access: ADMIN };

  app.post<{ Params: { id: string }; Body: GrantBody }>(
    '/api/admin/accounts/:id/grants',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'Grant promotional or paid tokens, with an optional expiry, start and priority (201)',
        description:
          'category: promotional or paid (included grants come only from a plan). priority 0–100, lower is ' +
          'spent first (default 50). expires_at must be in the future and after effective_at (default now); ' +
          'absent, the grant never expires. With a reference the grant is made at most once per account: a ' +
          'repeat with the same parameters answers 201 with the grant made first (as it is now), other ' +
          'parameters are 409 idempotency_conflict.',
        params: accountParams,
        body: s.closed(
          {
            tokens: s.tokenAmount,
            category: { type: 'string', enum: [...CALLER_GRANT_CATEGORIES] },
            expires_at: time,
            effective_at: time,
            priority: { type: 'integer', minimum: MIN_PRIORITY, maximum: MAX_PRIORITY },
            reason: s.reason,
            reference: s.idempotencyKey,
          },
          ['tokens', 'category', 'reason'],
        ),
      },
    },
    async (request, reply) => {
      const b = request.body;
      const expiresAt = b.expires_at === undefined ? undefined : parseIsoTime('expires_at', b.expires_at);
      const effectiveAt = b.effective_at === undefined ? undefined : parseIsoTime('effective_at', b.effective_at);
      const grant = await namingWireField(() =>
        ledger.grant({
          account: request.params.id,
          tokens: b.tokens,
          category: b.category,
          ...(expiresAt === undefined ? {} : { expiresAt }),
          ...(effectiveAt === undefined ? {} : { effectiveAt }),
          ...(b.priority === undefined ? {} : { priority: b.priority }),
          reason: b.reason,
          actor: actorOf(request),
          ...(b.reference === undefined ? {} : { reference: b.reference }),
        }),
      );
      // A replay answers as the first request did (201 and the grant), so a retry cannot tell
      // them apart and needs no second code path.
      return reply.status(201).send({ success: true, grant: grantJson(grant, clock.now()) });
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/admin/accounts/:id/grants',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'An account’s grants, newest first: active, scheduled, used up, expired and voided',
        params: accountParams,
      },
    },
    async (request) => {
      const grants = await ledger.grants(request.params.id, { includeInactive: true });
      const now = clock.now();
      return { success: true, grants: grants.map((g) => grantJson(g, now)) };
    },
  );

  app.post<{ Params: { id: number }; Body: { reason: string } }>(
    '/api/admin/grants/:id/void',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'Void a grant: what remains of it leaves the balance, with the reason on record',
        description: 'An unknown grant, or one already expired or voided, is 400 invalid_request naming id.',
        params: grantParams,
        body: s.closed({ reason: s.reason }, ['reason']),
      },
    },
    async (request) => {
      const grant = await namingWireField(() =>
        ledger.voidGrant({ id: request.params.id, reason: request.body.reason, actor: actorOf(request) }),
      );
      return { success: true, grant: grantJson(grant, clock.now()) };
    },
  );
}
