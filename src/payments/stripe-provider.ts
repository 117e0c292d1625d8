import Stripe from 'stripe';
import type { PaymentEvent } from '../core/payment-command.ts';
import type {
  CheckoutInput,
  CreatedCheckout,
  OffSessionCharge,
  OffSessionResult,
  PaymentProvider,
} from './payment-provider.ts';
import { STRIPE_PROVIDER, stripeEventToPaymentEvent } from './stripe-events.ts';
import { chargeStripeOffSession } from './stripe-off-session.ts';

/** Where an account's Stripe customer is remembered (tokenmeter's payment_customers table). */
export interface CustomerDirectory {
  find(account: string): Promise<string | undefined>;
  /** Saves the customer; returns the one stored (an earlier one wins a race). */
  save(account: string, customerId: string): Promise<string>;
}

export interface StripeProviderOptions {
  secretKey: string;
  webhookSecret: string;
  customers: CustomerDirectory;
  /** For tests: a local stand-in for api.stripe.com. */
  host?: string;
  port?: number;
  protocol?: 'http' | 'https';
}

/** Signatures older than this are refused, as Stripe recommends. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/**
 * Stripe through its official SDK: Checkout Sessions (mode `payment` for top-ups,
 * `subscription` for plans), one customer per account, the customer portal, off-session charges
 * of a saved card, and webhook signature verification.
 */
export class StripeProvider implements PaymentProvider {
  readonly name = STRIPE_PROVIDER;
  private readonly stripe: Stripe;
  private readonly webhookSecret: string;
  private readonly customers: CustomerDirectory;

  constructor(options: StripeProviderOptions) {
    this.stripe = new Stripe(options.secretKey, {
      maxNetworkRetries: 2,
      ...(options.host === undefined ? {} : { host: options.host }),
      ...(options.port === undefined ? {} : { port: options.port }),
      ...(options.protocol === undefined ? {} : { protocol: options.protocol }),
    });
    this.webhookSecret = options.webhookSecret;
    this.customers = options.customers;
  }

  /** The account's customer, created on its first checkout or portal visit and remembered. */
  private async customerOf(account: string): Promise<string> {
    const known = await this.customers.find(account);
    if (known !== undefined) return known;
    const created = await this.stripe.customers.create(
      { metadata: { tokenmeter_account: account } },
      // A retried or concurrent first checkout creates one customer, not two.
      { idempotencyKey: `tokenmeter-customer-${account}` },
    );
    return this.customers.save(account, created.id);
  }

  async createCheckout(input: CheckoutInput): Promise<CreatedCheckout> {
    const pkg = input.package;
    const metadata = { tokenmeter_account: input.account, tokenmeter_package: pkg.id };
    const plan = pkg.kind === 'plan';
    // Saved on the account's customer, so the auto top-up worker can charge it off session later.
    const saveCard = !plan && input.saveCard === true;
    const session = await this.stripe.checkout.sessions.create({
      mode: plan ? 'subscription' : 'payment',
      customer: await this.customerOf(input.account),
      client_reference_id: input.account,
      metadata,
      line_items: [
        {
          quantity: 1,
          price_data: {
            currency: pkg.currency.toLowerCase(),
            unit_amount: pkg.priceCents,
            product_data: { name: pkg.name },
            ...(plan ? { recurring: { interval: 'month' as const } } : {}),
          },
        },
      ],
      ...(plan
        ? { subscription_data: { metadata } }
        : {
            payment_intent_data: {
              metadata,
              ...(saveCard ? { setup_future_usage: 'off_session' as const } : {}),
            },
          }),
      success_url: input.successUrl,
      cancel_url: input.cancelUrl,
    });
    if (!session.url) throw new Error(`Stripe returned checkout session ${session.id} without a url`);
    return { checkoutId: session.id, url: session.url };
  }

  async createPortal(input: { account: string; returnUrl: string }): Promise<{ url: string }> {
    const portal = await this.stripe.billingPortal.sessions.create({
      customer: await this.customerOf(input.account),
      return_url: input.returnUrl,
    });
    return { url: portal.url };
  }

  /** Charges the account's saved card for a top-up package, without the buyer (see `chargeStripeOffSession`). */
  async chargeOffSession(charge: OffSessionCharge): Promise<OffSessionResult> {
    const customer = await this.customers.find(charge.account);
    // Cannot happen for a saved card: Checkout saved it on the account's customer, remembered
    // before the session was created. Without a customer there is no card to charge.
    if (customer === undefined) return { status: 'failed', paymentId: charge.paymentId, reason: 'no_customer' };
    return chargeStripeOffSession(this.stripe, customer, charge);
  }

  /**
   * Verifies a webhook's signature on the raw body (300 s tolerance) and normalizes the event.
   * Throws on a missing, invalid, tampered or stale signature.
   */
  verifyWebhook(rawBody: string, signature: string): PaymentEvent {
    const event = this.stripe.webhooks.constructEvent(
      rawBody,
      signature,
      this.webhookSecret,
      WEBHOOK_TOLERANCE_SECONDS,
    );
    return stripeEventToPaymentEvent(event);
  }
}
