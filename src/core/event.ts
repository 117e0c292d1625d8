/** Event types an app can receive (webhooks) or read (`GET /api/events`); the names are the contract. */
export const EVENT_TYPES = [
  'balance.low',
  'balance.depleted',
  'balance.recovered',
  'purchase.completed',
  'payment.refunded',
  'payment.disputed',
  'plan.changed',
  'cycle.renewed',
  'grant.expiring',
  'grant.expired',
  'topup.succeeded',
  'topup.failed',
  'topup.suspended',
  'topup.limit_reached',
  'member.limit_reached',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
}

/** Each type's `data`, as sent. Amounts are integers; `account` repeats the event's own. */
export interface EventData {
  'balance.low': { account: string; available: number; threshold: number };
  'balance.depleted': { account: string; available: number };
  'balance.recovered': { account: string; available: number };
  'purchase.completed': {
    account: string;
    payment_id: string;
    package: string | null;
    tokens: number;
    amount: number;
    currency: string;
  };
  'payment.refunded': { account: string; payment_id: string; tokens_taken_back: number };
  'payment.disputed': { account: string; payment_id: string; status: string };
  'plan.changed': { account: string; from: string; to: string };
  'cycle.renewed': { account: string; granted: number; rolled_over: number; expired: number };
  'grant.expiring': { account: string; grant_id: number; tokens: number; expires_at: string };
  'grant.expired': { account: string; grant_id: number; tokens: number };
  'topup.succeeded': { account: string; payment_id: string; tokens: number; amount: number; currency: string };
  /** `reason`: the provider's decline code (`card_declined`, `insufficient_funds`, `authentication_required`, ...). */
  'topup.failed': { account: string; reason: string; attempt: number };
  /** `reason`: the last failure's; `authentication_required` means the user must pay on the billing page. */
  'topup.suspended': { account: string; reason: string; failures: number };
  'topup.limit_reached': { account: string; monthly_limit: number; month: string };
  /** On the pool's stream: `member` has used its `limit` for the pool's cycle (once per cycle). */
  'member.limit_reached': { account: string; pool: string; member: string; limit: number };
}

/** An event decided by a write, before the store gives it its place (`sequence`, `position`). */
export interface EventDraft<T extends EventType = EventType> {
  /** Stable across every delivery and read: `evt_` and 32 hex digits. */
  id: string;
  type: T;
  account: string;
  /** The moment it happened (a boundary or expiry may be earlier than the write), epoch ms. */
  at: number;
  /** When the write that records it ran (its deliveries are due from then). */
  recordedAt: number;
  data: EventData[T];
  /** Set for an event that must exist at most once (a reminder): unique among events. */
  dedupeKey: string | null;
}

/** A stored event as a receiver sees it: the webhook body and an element of `GET /api/events`. */
export interface TokenmeterEvent<T extends EventType = EventType> {
  id: string;
  type: T;
  /** ISO-8601 UTC. */
  timestamp: string;
  account: string;
  /** 1, 2, 3, ... per account, in the order the events were written. */
  sequence: number;
  data: EventData[T];
}
