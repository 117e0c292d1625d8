/**
 * The wire JSON of `/api/payment/*`, typed from the payments issue's text (issue 5): those
 * routes are not served yet, so these shapes are unverified against the service.
 */

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
  id: string | number;
  package: string;
  package_name: string;
  tokens: number;
  amount: number;
  currency: string;
  status: string;
  provider: string;
  created: string;
  receipt_url?: string | null;
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
