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
  | { type: 'dispute_opened'; paymentIntent: string; disputeId: string; amount: number }
  | { type: 'dispute_closed'; paymentIntent: string; disputeId: string; won: boolean }
  | {
      type: 'invoice_paid';
      invoiceId: string;
      subscriptionId: string;
      periodStart: number;
      periodEnd: number;
    }
  | { type: 'invoice_failed'; invoiceId: string; subscriptionId: string }
  | {
      type: 'subscription_updated';
      subscriptionId: string;
      status: string;
      /** A plan package named in the subscription's metadata, if any. */
      packageId: string | null;
      periodEnd: number | null;
    }
  | { type: 'subscription_deleted'; subscriptionId: string }
  | { type: 'ignored' };

/** A provider event: its id (unique per provider), its type as the provider names it, and the command. */
export interface PaymentEvent {
  provider: string;
  eventId: string;
  eventType: string;
  command: PaymentCommand;
}
