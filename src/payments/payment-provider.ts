import type { TokenPackage } from '../core/catalog.ts';

export interface CheckoutInput {
  account: string;
  package: TokenPackage;
  /** Where the provider sends the buyer back after paying or cancelling. */
  successUrl: string;
  cancelUrl: string;
  /** Save the card for later off-session charges (automatic top-up). Top-up packages only. */
  saveCard?: boolean;
}

export interface CreatedCheckout {
  /** The provider's checkout id: the payment's reference. */
  checkoutId: string;
  /** Where to send the buyer's browser. */
  url: string;
}

/** A card an account saved for off-session charges: what tokenmeter remembers of it (never the card itself). */
export interface SavedMethod {
  provider: string;
  /** The provider's payment method id. */
  methodId: string;
  brand: string;
  last4: string;
}

/** One attempt at charging an automatic top-up's package to a saved card, without the buyer present. */
export interface OffSessionCharge {
  account: string;
  /** tokenmeter's top-up intent (sent as metadata, so the provider's webhooks name it). */
  intent: number;
  /** 1, 2, 3: a declined attempt is followed by a new one, with a new key. */
  attempt: number;
  /** Derived from the intent and the attempt: the same on every retry of one attempt, so it charges at most once. */
  idempotencyKey: string;
  method: SavedMethod;
  package: TokenPackage;
  /** The provider's payment id stored by an earlier run of this attempt (recovery after a crash), if any. */
  paymentId: string | null;
  /** Persists the provider's payment id as soon as it exists, before the payment is confirmed. */
  remember(paymentId: string): Promise<void>;
}

/** What an off-session charge came to. */
export type OffSessionResult =
  | { status: 'succeeded'; paymentId: string; amount: number; currency: string }
  /** Declined: `reason` is the provider's code (`card_declined`, `insufficient_funds`, `authentication_required`, ...). */
  | { status: 'failed'; paymentId: string | null; reason: string }
  /** Not decided yet (the provider is still processing it): asked again later by its id. */
  | { status: 'processing'; paymentId: string };

/**
 * A payment provider: it creates checkouts and customer portals, and charges saved cards off
 * session; what it reports back asynchronously comes in as events applied by
 * `ledger.payments.applyEvent`.
 */
export interface PaymentProvider {
  /** Stored on every payment and event: `stripe` or `test`. */
  readonly name: string;
  createCheckout(input: CheckoutInput): Promise<CreatedCheckout>;
  createPortal(input: { account: string; returnUrl: string }): Promise<{ url: string }>;
  /**
   * Charges a saved card without the buyer, at most once per `idempotencyKey` (a repeat returns
   * the first attempt's result). Throws when the outcome is unknown (network, timeout): the
   * caller asks again later with the same key.
   */
  chargeOffSession(charge: OffSessionCharge): Promise<OffSessionResult>;
}
