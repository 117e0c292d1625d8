/** The wire JSON of `/api/payment/*` (see the README's Payments section). */
import type { TopupStatus } from '../core/auto-topup.ts';

export interface PackageJson {
  id: string;
  name: string;
  kind: 'topup' | 'plan';
  tokens: number;
  price_cents: number;
  currency: string;
  /** A top-up whose tokens expire this many days after the purchase; null: never. */
  expires_in_days: number | null;
}

export interface PackagesResponse {
  success: true;
  packages: PackageJson[];
}

export interface CheckoutRequest {
  account?: string;
  /** A package id. */
  package: string;
  /** Keep the card for automatic top-ups (top-up packages only; a plan is 400 invalid_request). */
  save_card?: boolean;
}

export interface CheckoutResponse {
  success: true;
  checkout_id: string;
  /** Where to send the buyer's browser. */
  url: string;
}

export interface PaymentJson {
  id: number;
  /** The provider's checkout id. */
  checkout_id: string;
  package: string;
  package_name: string;
  kind: 'topup' | 'plan';
  tokens: number;
  /** Minor units (cents). */
  amount: number;
  currency: string;
  status: 'pending' | 'paid' | 'canceled' | 'failed' | 'refunded' | 'partially_refunded' | 'disputed';
  tokens_taken_back: number;
  amount_refunded: number;
  provider: string;
  /** ISO 8601. */
  created: string;
  receipt_url: string | null;
}

export interface PaymentHistoryResponse {
  success: true;
  /** Newest first. */
  payments: PaymentJson[];
}

export interface PortalResponse {
  success: true;
  url: string;
}

/** `PUT /api/payment/auto-topup`: every field but `account` (required with an API key) is required. */
export interface AutoTopupRequest {
  account?: string;
  enabled: boolean;
  /** Top up when available drops below this (a non-negative integer). */
  threshold: number;
  /** A top-up package id, bought each time. */
  package: string;
  /** Most successful automatic top-ups per calendar month (UTC), 1 to 100. */
  monthly_limit: number;
}

export interface AutoTopupJson {
  enabled: boolean;
  threshold: number;
  package: string;
  monthly_limit: number;
  /** Successful automatic top-ups this calendar month (UTC); checkouts never count. */
  used_this_month: number;
  /** `suspended`: stopped after failed charges until a new card is saved or it is re-enabled. */
  status: TopupStatus;
  /** The saved card, or null: enabling then fails with 409 payment_method_required. */
  payment_method: { brand: string; last4: string } | null;
  /** The last declined charge's reason (e.g. `card_declined`), or null. */
  last_error: string | null;
}

export interface AutoTopupResponse {
  success: true;
  auto_topup: AutoTopupJson;
}
