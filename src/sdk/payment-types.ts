/** The wire JSON of `/api/payment/*` (see the README's Payments section). */

export interface PackageJson {
  id: string;
  name: string;
  kind: 'topup' | 'plan';
  tokens: number;
  price_cents: number;
  currency: string;
}

export interface PackagesResponse {
  success: true;
  packages: PackageJson[];
}

export interface CheckoutRequest {
  account?: string;
  /** A package id. */
  package: string;
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
