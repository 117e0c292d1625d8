import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.ts';
import { invalid, TokenmeterError } from '../core/errors.ts';
import { EVENT_TYPES, type EventType, isEventType } from '../core/event.ts';
import type { DeliveryRow, OutboxStore, StoredEvent, WebhookEndpoint } from '../store/outbox-store.ts';
import { newWebhookSecret } from './webhook-signer.ts';
import { checkWebhookUrl, forbiddenResolution } from './webhook-url.ts';

export interface WebhookInput {
  url: unknown;
  events?: unknown;
  description?: unknown;
}

export const MAX_EVENTS_PAGE = 1000;
export const MAX_DELIVERIES_PAGE = 500;

/**
 * Webhook endpoints, their deliveries, and the event feed, as the admin API and the CLI use
 * them. Every input is checked here, so an HTTP route and a CLI command refuse the same things
 * the same way (`invalid_request` naming the field), and nothing is written for a bad one.
 */
export class Webhooks {
  private readonly outbox: OutboxStore;
  private readonly clock: Clock;
  private readonly allowPrivate: boolean;
  private readonly retried: () => void;

  /** `retried`: told when a delivery was made due by hand (the server wakes its dispatcher). */
  constructor(options: { outbox: OutboxStore; clock: Clock; allowPrivate: boolean; retried?: () => void }) {
    this.outbox = options.outbox;
    this.clock = options.clock;
    this.allowPrivate = options.allowPrivate;
    this.retried = options.retried ?? (() => {});
  }

  /** Adds an endpoint; the secret is returned here only. */
  async add(input: WebhookInput): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    if (typeof input.url !== 'string') throw invalid('url', 'must be an http:// or https:// URL');
    const checked = checkWebhookUrl(input.url, this.allowPrivate);
    if (!checked.ok) throw invalid('url', checked.reason);
    const resolved = this.allowPrivate ? null : await forbiddenResolution(checked.url);
    if (resolved !== null) throw invalid('url', `${checked.url.hostname} resolves to ${resolved}, which is private`);
    const events = eventList(input.events);
    if (input.description !== undefined && input.description !== null) {
      if (typeof input.description !== 'string' || input.description.length > 500) {
        throw invalid('description', 'must be text of at most 500 characters');
      }
    }
    const endpoint: WebhookEndpoint = {
      id: `whe_${randomBytes(12).toString('hex')}`,
      url: checked.url.toString(),
      events,
      description: typeof input.description === 'string' ? input.description : null,
      createdAt: this.clock.now(),
    };
    const secret = newWebhookSecret();
    await this.outbox.createWebhook({ ...endpoint, secret });
    return { endpoint, secret };
  }

  list(): Promise<WebhookEndpoint[]> {
    return this.outbox.listWebhooks();
  }

  async remove(id: string): Promise<void> {
    if (!(await this.outbox.removeWebhook(id, this.clock.now()))) throw notFound(id);
  }

  async rotateSecret(id: string): Promise<string> {
    const secret = newWebhookSecret();
    if (!(await this.outbox.rotateWebhookSecret(id, secret))) throw notFound(id);
    return secret;
  }

  async deliveries(id: string, limit: number): Promise<DeliveryRow[]> {
    if (!(await this.outbox.getWebhook(id))) throw notFound(id);
    return this.outbox.listDeliveries(id, clampLimit(limit, MAX_DELIVERIES_PAGE, 'limit'));
  }

  async retry(id: string, deliveryId: number): Promise<void> {
    if (!(await this.outbox.retryDelivery(id, deliveryId, this.clock.now()))) {
      throw new TokenmeterError('not_found', `webhook ${id} has no delivery ${deliveryId}`);
    }
    this.retried();
  }

  /** An account's events, newest first, for an operator; `before` a position from an earlier page. */
  async accountEvents(account: string, q: { before: number | null; limit: number }): Promise<StoredEvent[]> {
    if (q.before !== null && (!Number.isSafeInteger(q.before) || q.before < 1)) {
      throw invalid('before', 'must be a position from an earlier page');
    }
    return this.outbox.accountEvents(account, {
      before: q.before,
      limit: clampLimit(q.limit, MAX_EVENTS_PAGE, 'limit'),
    });
  }

  /** Events after a cursor (a position; 0 from the start), oldest first, and the cursor to go on from. */
  async events(q: { after: number; limit: number; account: string | null }): Promise<{
    events: StoredEvent[];
    nextCursor: number;
  }> {
    if (!Number.isSafeInteger(q.after) || q.after < 0) throw invalid('after', 'must be a cursor from next_cursor');
    const events = await this.outbox.listEvents({ ...q, limit: clampLimit(q.limit, MAX_EVENTS_PAGE, 'limit') });
    return { events, nextCursor: events.at(-1)?.position ?? q.after };
  }

  /** Sets an account's own low-balance threshold, or with null goes back to its plan's. */
  async setLowBalanceThreshold(account: string, threshold: unknown): Promise<number | null> {
    if (threshold !== null && (typeof threshold !== 'number' || !Number.isSafeInteger(threshold) || threshold < 0)) {
      throw invalid('low_balance_threshold', 'must be a non-negative safe integer, or null for the plan’s');
    }
    if (!(await this.outbox.setLowBalanceThreshold(account, threshold))) {
      throw new TokenmeterError('not_found', `no account ${account}`);
    }
    return threshold;
  }
}

function eventList(value: unknown): EventType[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || value.length === 0) {
    throw invalid('events', `must be a non-empty list of event types (${EVENT_TYPES.join(', ')})`);
  }
  for (const t of value) if (!isEventType(t)) throw invalid('events', `unknown event type ${JSON.stringify(t)}`);
  return [...new Set(value as EventType[])];
}

function clampLimit(limit: number, max: number, field: string): number {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > max) throw invalid(field, `must be 1 to ${max}`);
  return limit;
}

function notFound(id: string): TokenmeterError {
  return new TokenmeterError('not_found', `no webhook ${id}`);
}
