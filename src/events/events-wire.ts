import { invalid } from '../core/errors.ts';
import type { JsonObject } from '../ledger/wire.ts';
import type { DeliveryRow, StoredEvent, WebhookEndpoint } from '../store/outbox-store.ts';

// The wire shapes of events, endpoints and deliveries: one source for the HTTP answers and the CLI's --json.

export const DEFAULT_EVENTS_PAGE = 100;

/**
 * A feed cursor as `next_cursor` gives it: a position in decimal, "0" for the start. Anything
 * else is refused rather than read leniently, so a mangled cursor cannot silently skip or
 * repeat events.
 *
 * @example parseEventCursor('42') // 42
 */
export function parseEventCursor(text: string): number {
  const n = /^(0|[1-9][0-9]{0,15})$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw invalid('after', 'must be a cursor from next_cursor (0 for the start)');
  return n;
}

/** An event as a receiver sees it: the webhook body's shape, without the outbox's position. */
export function eventJson(e: StoredEvent): JsonObject {
  return {
    id: e.id,
    type: e.type,
    timestamp: e.timestamp,
    account: e.account,
    sequence: e.sequence,
    data: { ...e.data },
  };
}

/** An endpoint as listed: never its secret. */
export function webhookJson(e: WebhookEndpoint): JsonObject {
  return {
    id: e.id,
    url: e.url,
    events: e.events === null ? null : [...e.events],
    description: e.description,
    created_at: new Date(e.createdAt).toISOString(),
  };
}

export function deliveryJson(d: DeliveryRow): JsonObject {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: d.id,
    event_id: d.eventId,
    type: d.type,
    status: d.status,
    attempts: d.attempts,
    response_status: d.responseStatus,
    next_attempt_at: iso(d.nextAttemptAt),
    delivered_at: iso(d.deliveredAt),
    error: d.error,
  };
}
