import type { EventType, TokenmeterEvent } from '../../src/core/event.ts';
import type { GrantCategory, GrantDisplayStatus } from '../../src/core/grant.ts';
import { type ApiAnswer, type ApiOptions, api, type GrantSummaryJson, type Json } from './api.ts';
import type { PoolStandingJson } from './pool-json.ts';

const KEY = 'tokenmeter.adminKey';

/**
 * How the console is signed in: an admin key (kept in the tab's session storage, sent as a
 * bearer header, never in a URL), or in demo mode the operator session's HttpOnly cookie, which
 * the page never sees: without a key, requests go same-origin with cookies.
 */
export const adminKey = {
  get: (): string | null => sessionStorage.getItem(KEY),
  set: (key: string): void => sessionStorage.setItem(KEY, key),
  clear: (): void => sessionStorage.removeItem(KEY),
};

export function adminApi<T = Json>(path: string, options: Omit<ApiOptions, 'bearer'> = {}): Promise<ApiAnswer<T>> {
  return api<T>(path, { ...options, bearer: adminKey.get() });
}

export interface ConsoleSession {
  signed_in: boolean;
  demo_sign_in: boolean;
  how_to_sign_in: string;
  expires_at: string | null;
}

export interface AccountRow {
  account: string;
  plan: string;
  balance: number;
  available: number;
  held: number;
  used_this_cycle: number;
  features_disabled: boolean;
  created_at: string;
  updated_at: string;
  /** The shared pool it is a member of, or null. */
  pool: string | null;
}

export interface EntryRow {
  id: number;
  kind: string;
  amount: number;
  balance_after: number;
  feature: string | null;
  quantity: number | null;
  reason: string | null;
  actor: string | null;
  source: string | null;
  reference: string | null;
  at: string;
  /** Which grants the entry drew from (negative) or added to (positive), and by how much. */
  grants: { id: number; delta: number }[];
  promotional_delta: number;
  debt_delta: number;
}

export interface PlanRow {
  id: string;
  name: string;
  monthly_allocation: number;
}

export interface AccountDetail {
  account: string;
  exists: boolean;
  balance: number;
  available: number;
  held: number;
  allocation: number;
  purchased: number;
  promotional: number;
  debt: number;
  grants: GrantSummaryJson[];
  expiring_next: { at: string; tokens: number } | null;
  package: string;
  usedThisMonth: number;
  monthlyAllocation: number;
  tokens_rollover: number;
  billing_cycle_start: string;
  last_token_reset: string | null;
  next_token_reset: string | null;
  /** The next reset has passed without a paid renewal invoice. */
  next_token_reset_overdue: boolean;
  /** In words when the time alone does not say it (e.g. "at the first paid invoice"), else null. */
  next_token_reset_note: string | null;
  cycle_driver: 'calendar' | 'subscription';
  subscription: { provider: string; subscription_id: string; status: string; period_end: string | null } | null;
  features_disabled: boolean;
  holds: { hold_id: number; amount: number; feature: string | null; created_at: string; expires_at: string }[];
  /** The account's own low-balance threshold (null: its plan's) and the one in force. */
  alerts: { low_balance_threshold: number | null; effective_low_balance_threshold: number };
  /** A pool member's standing in its pool; null for an account in none. */
  pool: PoolStandingJson | null;
}

/** One grant as `GET /api/admin/accounts/:id/grants` lists it (src/ledger/wire.ts grantJson). */
export interface GrantRowJson {
  id: number;
  account: string;
  category: GrantCategory;
  tokens: number;
  remaining: number;
  priority: number;
  effective_at: string;
  /** Null: never; an included grant ends with its cycle instead. */
  expires_at: string | null;
  status: GrantDisplayStatus;
}

export interface PaymentRowJson {
  id: number;
  provider: string;
  checkout_id: string;
  account: string;
  package: string;
  kind: string;
  tokens: number;
  amount: number;
  currency: string;
  status: string;
  amount_refunded: number;
  tokens_taken_back: number;
  created_at: string;
}

export interface EventRowJson {
  provider: string;
  event_id: string;
  type: string;
  status: 'unmatched' | 'pending';
  reason: string | null;
  waiting_for: string | null;
  received_at: string;
}

export interface DisputeRowJson {
  provider: string;
  dispute_id: string;
  status: string;
  amount: number;
  currency: string | null;
  account: string | null;
  checkout_id: string | null;
  updated_at: string;
}

export interface UsageRowJson {
  day: string;
  feature: string;
  tokens: number;
  uses: number;
}

/** One day's use of one top account, or (`account` null) of all the others (`GET /api/admin/stats?by=account`). */
export interface AccountUsageRowJson {
  day: string;
  account: string | null;
  tokens: number;
  uses: number;
}

/** `GET /api/admin/stats?by=account`: the accounts that used the most in the window, the rest summed. */
export interface AccountUsageJson {
  by: 'account';
  from: string;
  to: string;
  /** Most tokens first. */
  accounts: { account: string; tokens: number; uses: number }[];
  /** Null when every account with use is listed. */
  others: { accounts: number; tokens: number; uses: number } | null;
  usage: AccountUsageRowJson[];
}

/** A webhook endpoint as `GET /api/admin/webhooks` lists it: never its secret. */
export interface WebhookJson {
  id: string;
  url: string;
  /** Null: every event type. */
  events: EventType[] | null;
  description: string | null;
  created_at: string;
}

/** One delivery of one event to one endpoint (`GET /api/admin/webhooks/:id/deliveries`). */
export interface WebhookDeliveryJson {
  id: number;
  event_id: string;
  type: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  /** The receiver's last answer; null when none came (refused, timed out) or before the first attempt. */
  response_status: number | null;
  next_attempt_at: string | null;
  delivered_at: string | null;
  error: string | null;
}

/** An event from `GET /api/events`, as a union over its types so checking `type` narrows `data`. */
export type FeedEventJson = { [T in EventType]: TokenmeterEvent<T> }[EventType];

/** An endpoint as adding it answers: with its signing secret, which no other answer shows. */
export type CreatedWebhookJson = WebhookJson & { secret: string };
