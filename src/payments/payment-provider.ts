import type { TokenPackage } from '../core/catalog.ts';

export interface CheckoutInput {
  account: string;
  package: TokenPackage;
  /** Where the provider sends the buyer back after paying or cancelling. */
  successUrl: string;
  cancelUrl: string;
}

export interface CreatedCheckout {
  /** The provider's checkout id: the payment's reference. */
  checkoutId: string;
  /** Where to send the buyer's browser. */
  url: string;
}

/**
 * A payment provider: it creates checkouts and customer portals; what it reports back comes
 * in as events applied by `ledger.payments.applyEvent`, never as a return value here.
 */
export interface PaymentProvider {
  /** Stored on every payment and event: `stripe` or `test`. */
  readonly name: string;
  createCheckout(input: CheckoutInput): Promise<CreatedCheckout>;
  createPortal(input: { account: string; returnUrl: string }): Promise<{ url: string }>;
}
