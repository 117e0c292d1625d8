import type { EventType, TokenmeterEvent } from '../core/event.ts';

/** A webhook endpoint as listed: never its secret. */
export interface WebhookEndpoint {
  id: string;
  url: string;
  /** The types it receives; null: every type. */
  events: EventType[] | null;
  description: string | null;
  createdAt: number;
}

export interface NewWebhookEndpoint extends WebhookEndpoint {
  secret: string;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryRow {
  id: number;
  endpointId: string;
  eventId: string;
  type: string;
  status: DeliveryStatus;
  attempts: number;
  responseStatus: number | null;
  nextAttemptAt: number | null;
  deliveredAt: number | null;
  error: string | null;
  createdAt: number;
}

/** A stored event and its place in the whole outbox (the pull API's cursor). */
export interface StoredEvent extends TokenmeterEvent {
  position: number;
}

/** A delivery this process has claimed, with what it needs to send it. */
export interface ClaimedDelivery {
  id: number;
  endpointId: string;
  /** The claim's token: only its holder may record the outcome. */
  claim: string;
  /** Tries made before this one. */
  attempts: number;
  url: string;
  secret: string;
  event: TokenmeterEvent;
  /** When the event was recorded: retries stop a maximum age after it. */
  recordedAt: number;
}

export interface DeliveryOutcome {
  status: DeliveryStatus;
  responseStatus: number | null;
  error: string | null;
  /** When to try again (status pending), else null. */
  nextAttemptAt: number | null;
  deliveredAt: number | null;
}

/** The outbox as the service reads and works it: events, endpoints, deliveries, alert settings. */
export interface OutboxStore {
  /** Sets (or, with null, clears) an account's own low-balance threshold; false if there is no such account. */
  setLowBalanceThreshold(account: string, threshold: number | null): Promise<boolean>;
  /** Events after a position, oldest first; only those no open transaction could still precede. */
  listEvents(query: { after: number; limit: number; account: string | null }): Promise<StoredEvent[]>;
  /** One account's events, newest first, before a position (null: from the newest); for an operator. */
  accountEvents(account: string, query: { before: number | null; limit: number }): Promise<StoredEvent[]>;
  createWebhook(endpoint: NewWebhookEndpoint): Promise<void>;
  /** Endpoints not removed, oldest first. */
  listWebhooks(): Promise<WebhookEndpoint[]>;
  getWebhook(id: string): Promise<WebhookEndpoint | undefined>;
  /** Removes an endpoint; its pending deliveries fail. False if there is no such endpoint. */
  removeWebhook(id: string, now: number): Promise<boolean>;
  rotateWebhookSecret(id: string, secret: string): Promise<boolean>;
  /** An endpoint's deliveries, newest first. */
  listDeliveries(endpointId: string, limit: number): Promise<DeliveryRow[]>;
  /** Makes a delivery due now (pending, whatever it was); false if the endpoint has no such delivery. */
  retryDelivery(endpointId: string, deliveryId: number, now: number): Promise<boolean>;
  /**
   * Claims up to `limit` due deliveries until `leaseUntil` (due again then if their outcome is
   * never recorded), none of the endpoints in `skip`. On PostgreSQL, rows another process is
   * claiming are skipped.
   */
  claimDeliveries(now: number, leaseUntil: number, limit: number, skip: readonly string[]): Promise<ClaimedDelivery[]>;
  /** Gives claimed deliveries back untried, due at `dueAt` (no attempt counted). */
  releaseDeliveries(claimed: readonly { id: number; claim: string }[], dueAt: number): Promise<void>;
  /** Records claimed deliveries' outcomes in one write; one whose claim is no longer held is left as it is. */
  finishDeliveries(outcomes: readonly { id: number; claim: string; outcome: DeliveryOutcome }[]): Promise<void>;
  /** The soonest a pending delivery is due, or null. */
  nextDeliveryAt(): Promise<number | null>;
  /**
   * Accounts with something fallen due by `until` and not yet recorded: a grant (a plan's
   * allocation included) whose expiry is in (`from`, `until`], a scheduled grant whose start has
   * come, or an active hold past its expiry.
   */
  dueAccounts(from: number, until: number, limit: number): Promise<string[]>;
  /** Accounts with a grant expiring in (`from`, `until`] that holds tokens and has had no `grant.expiring`. */
  expiringGrantAccounts(from: number, until: number, limit: number): Promise<string[]>;
  /** The soonest after `after` a grant or an active hold expires or a scheduled grant starts, or null. */
  nextExpiryAfter(after: number): Promise<number | null>;
}
