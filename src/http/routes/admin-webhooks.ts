import type { FastifyInstance } from 'fastify';
import { EVENT_TYPES } from '../../core/event.ts';
import { deliveryJson, eventJson, webhookJson } from '../../events/events-wire.ts';
import { MAX_DELIVERIES_PAGE, MAX_EVENTS_PAGE } from '../../events/webhooks.ts';
import type { AppContext } from '../options.ts';
import * as s from '../schemas.ts';

const ADMIN = ['admin'] as const;
const DEFAULT_DELIVERIES_PAGE = 50;

const webhookId = { type: 'string', minLength: 1, maxLength: 64, [s.WELL_FORMED]: true } as const;
const webhookParams = { type: 'object', properties: { id: webhookId }, required: ['id'] } as const;
const deliveryParams = {
  type: 'object',
  properties: { id: webhookId, delivery_id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
  required: ['id', 'delivery_id'],
} as const;
const accountParams = { type: 'object', properties: { id: s.accountId }, required: ['id'] } as const;

/** Types only: the values (which URL, which event types) are the facade's to judge, with its messages. */
const webhookBody = s.closed(
  {
    url: { type: 'string', maxLength: 2048, description: 'http:// or https://; private addresses are refused' },
    events: {
      type: ['array', 'null'],
      items: { type: 'string' },
      description: `The event types to receive (${EVENT_TYPES.join(', ')}); absent or null: every type.`,
    },
    description: { type: ['string', 'null'], maxLength: 500, [s.WELL_FORMED]: true },
  },
  ['url'],
);

interface WebhookBody {
  url: string;
  events?: string[] | null;
  description?: string | null;
}

/**
 * Webhook endpoints and their deliveries, and the per-account alert setting that decides when
 * `balance.low` fires. Admin key only; every input is judged by the `Webhooks` facade, so a bad
 * one is 400 invalid_request naming the field, and nothing is written.
 */
export async function adminWebhookRoutes(app: FastifyInstance, deps: AppContext): Promise<void> {
  const { webhooks } = deps;
  const config = { access: ADMIN };

  app.post<{ Body: WebhookBody }>(
    '/api/admin/webhooks',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'Add a webhook endpoint (201); its signing secret is in this answer only',
        description:
          'Deliveries are signed per Standard Webhooks with the secret (whsec_...). A URL on a loopback, private ' +
          'or link-local address is refused unless the service runs with TOKENMETER_WEBHOOK_ALLOW_PRIVATE=true.',
        body: webhookBody,
      },
    },
    async (request, reply) => {
      const { endpoint, secret } = await webhooks.add(request.body);
      return reply.status(201).send({ success: true, webhook: { ...webhookJson(endpoint), secret } });
    },
  );

  app.get(
    '/api/admin/webhooks',
    { config, schema: { tags: ['admin'], summary: 'The webhook endpoints, oldest first (never their secrets)' } },
    async () => ({ success: true, webhooks: (await webhooks.list()).map(webhookJson) }),
  );

  app.delete<{ Params: { id: string } }>(
    '/api/admin/webhooks/:id',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'Remove a webhook endpoint; its pending deliveries fail (404 if unknown)',
        params: webhookParams,
      },
    },
    async (request) => {
      await webhooks.remove(request.params.id);
      return { success: true };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/api/admin/webhooks/:id/rotate-secret',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'A new signing secret for an endpoint, in this answer only; the old one stops at once',
        params: webhookParams,
      },
    },
    async (request) => ({ success: true, secret: await webhooks.rotateSecret(request.params.id) }),
  );

  app.get<{ Params: { id: string }; Querystring: { limit?: number } }>(
    '/api/admin/webhooks/:id/deliveries',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: `An endpoint's deliveries, newest first (limit 1–${MAX_DELIVERIES_PAGE}, default ${DEFAULT_DELIVERIES_PAGE})`,
        params: webhookParams,
        querystring: s.closed({ limit: { type: 'integer', minimum: 1, maximum: MAX_DELIVERIES_PAGE } }),
      },
    },
    async (request) => {
      const rows = await webhooks.deliveries(request.params.id, request.query.limit ?? DEFAULT_DELIVERIES_PAGE);
      return { success: true, deliveries: rows.map(deliveryJson) };
    },
  );

  app.post<{ Params: { id: string; delivery_id: number } }>(
    '/api/admin/webhooks/:id/deliveries/:delivery_id/retry',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: 'Send a delivery again now, whatever its status (404 if the endpoint has no such delivery)',
        params: deliveryParams,
      },
    },
    async (request) => {
      await webhooks.retry(request.params.id, request.params.delivery_id);
      return { success: true };
    },
  );

  app.get<{ Params: { id: string }; Querystring: { limit?: number; before?: number } }>(
    '/api/admin/accounts/:id/events',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: `An account's events, newest first (limit 1–${MAX_EVENTS_PAGE}, default ${DEFAULT_DELIVERIES_PAGE}); \`before\`: next_before of the previous page`,
        params: accountParams,
        querystring: s.closed({
          limit: { type: 'integer', minimum: 1, maximum: MAX_EVENTS_PAGE },
          before: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
        }),
      },
    },
    async (request) => {
      const limit = request.query.limit ?? DEFAULT_DELIVERIES_PAGE;
      const events = await webhooks.accountEvents(request.params.id, { before: request.query.before ?? null, limit });
      return {
        success: true,
        events: events.map(eventJson),
        next_before: events.length === limit ? (events.at(-1)?.position ?? null) : null,
      };
    },
  );

  app.put<{ Params: { id: string }; Body: { low_balance_threshold: number | null } }>(
    '/api/admin/accounts/:id/alerts',
    {
      config,
      schema: {
        tags: ['admin'],
        summary: "Set an account's low-balance threshold, or with null go back to its plan's (404 if unknown)",
        description:
          'balance.low fires when the available balance falls below the threshold while staying above zero. ' +
          "The plan's threshold is its configured one, else 10% of its monthly allocation.",
        params: accountParams,
        body: s.closed(
          {
            low_balance_threshold: {
              type: ['integer', 'null'],
              minimum: 0,
              maximum: Number.MAX_SAFE_INTEGER,
            },
          },
          ['low_balance_threshold'],
        ),
      },
    },
    async (request) => {
      const threshold = await webhooks.setLowBalanceThreshold(request.params.id, request.body.low_balance_threshold);
      return { success: true, alerts: { low_balance_threshold: threshold } };
    },
  );
}
