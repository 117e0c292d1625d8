import type { FastifyInstance } from 'fastify';
import { DEFAULT_EVENTS_PAGE, eventJson, parseEventCursor } from '../../events/events-wire.ts';
import { MAX_EVENTS_PAGE } from '../../events/webhooks.ts';
import type { AppContext } from '../options.ts';
import { actingAccount } from '../principal.ts';
import * as s from '../schemas.ts';

interface FeedQuery {
  after?: string;
  limit?: number;
  account?: string;
}

/** `GET /api/events`: the pull side of the outbox, for apps that poll instead of receiving webhooks. */
export async function eventsFeedRoutes(app: FastifyInstance, deps: AppContext): Promise<void> {
  const { webhooks } = deps;

  app.get<{ Querystring: FeedQuery }>(
    '/api/events',
    {
      config: { access: ['app', 'admin', 'user'] },
      schema: {
        tags: ['events'],
        summary: `Events oldest first, after a cursor (limit 1–${MAX_EVENTS_PAGE}, default ${DEFAULT_EVENTS_PAGE})`,
        description:
          'Pass next_cursor back as after to go on; it stays put when nothing new has happened, so polling ' +
          'with it misses and repeats nothing. after defaults to 0 (the start). A key may narrow to one ' +
          'account; a user token sees only its own account (naming another is 403).',
        querystring: s.closed({
          after: { type: 'string', minLength: 1, maxLength: 32, description: 'A next_cursor; 0 for the start' },
          limit: { type: 'integer', minimum: 1, maximum: MAX_EVENTS_PAGE },
          account: s.accountId,
        }),
      },
    },
    async (request) => {
      const q = request.query;
      const after = q.after === undefined ? 0 : parseEventCursor(q.after);
      const account = request.principal?.kind === 'user' ? actingAccount(request, q.account) : (q.account ?? null);
      const page = await webhooks.events({ after, limit: q.limit ?? DEFAULT_EVENTS_PAGE, account });
      return { success: true, events: page.events.map(eventJson), next_cursor: String(page.nextCursor) };
    },
  );
}
