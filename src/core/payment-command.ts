import type { DisputeStatus } from './dispute-status.ts';

/**
 * A provider event, normalized: what the ledger applies. Providers (Stripe, the test provider)
 * translate their objects into these, so the money rules never read a provider's payload.
 */
export type PaymentCommand =
  | {
      type: 'checkout_paid';
      /** The checkout (session) id: the payment's reference. */
      reference: string;
      /** From the session's metadata or client_reference_id; null when it names none. */
      account: string | null;
      packageId: string | null;
      paymentIntent: string | null;
      subscriptionId: string | null;
      customerId: string | null;
      /** What was charged, minor units; null when the provider did not say. */
      amount: number | null;
      currency: string | null;
    }
  | { type: 'checkout_closed'; reference: string; status: 'canceled' | 'failed' }
  | {
      type: 'charge_refunded';
      paymentIntent: string;
      chargeId: string;
      /** Cumulative, as the provider reports it. */
      amountRefunded: number;
      receiptUrl: string | null;
    }
  | {
      /** Any fact about a dispute: opened, updated, closed. Merged with what is known by status rank. */
      type: 'dispute_changed';
      paymentIntent: string;
      disputeId: string;
      status: DisputeStatus;
      /** Minor units. */
      amount: number;
    }
  | {
      type: 'invoice_paid';
      invoiceId: string;
      subscriptionId: string;
      periodStart: number;
      periodEnd: number;
      /** The provider's reason for the invoice; only a subscription's start and renewals grant. */
      billingReason: string | null;
      /** The charge's payment intent, so its refunds and disputes find the period's grant. */
      paymentIntent: string | null;
      /** What was paid, minor units; null when the provider did not say. */
      amount: number | null;
      currency: string | null;
    }
  | { type: 'invoice_failed'; invoiceId: string; subscriptionId: string }
  | {
      type: 'subscription_updated';
      subscriptionId: string;
      status: string;
      /** A plan package named in the subscription's metadata, if any. */
      packageId: string | null;
      /** The current period's start: with the plan, it names a plan switch's grant (null: not sent). */
      periodStart: number | null;
      periodEnd: number | null;
    }
  | { type: 'subscription_deleted'; subscriptionId: string }
  | {
      /** An automatic top-up's off-session charge succeeded (the worker's answer or the provider's webhook). */
      type: 'topup_paid';
      /** The provider's payment id (Stripe: the PaymentIntent): the payment's reference. */
      paymentId: string;
      /** tokenmeter's top-up intent, from the charge's metadata. */
      intent: number;
      /** The intent's attempt that made the charge; null: not named (a charge made before attempts were). */
      attempt: number | null;
      account: string;
      packageId: string;
      /** Minor units, as charged. */
      amount: number;
      currency: string;
    }
  | {
      /** An automatic top-up's off-session charge was declined. */
      type: 'topup_failed';
      paymentId: string | null;
      intent: number;
      /** The attempt declined; null: not named (a charge made before attempts were). Applied to that attempt only. */
      attempt: number | null;
      /** The provider's decline code: `card_declined`, `insufficient_funds`, `authentication_required`, ... */
      reason: string;
    }
  | {
      /** A card saved for later off-session charges: it becomes the account's payment method for auto top-up. */
      type: 'payment_method_saved';
      /** The account, when the provider names it; else found by `customerId`. */
      account: string | null;
      customerId: string | null;
      methodId: string;
      brand: string;
      last4: string;
    }
  | { type: 'ignored' };

/** A provider event: its id (unique per provider), its type as the provider names it, and the command. */
export interface PaymentEvent {
  provider: string;
  eventId: string;
  eventType: string;
  command: PaymentCommand;
}
