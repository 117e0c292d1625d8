import type { DisputeStatus } from '../core/dispute-status.ts';
import type { PaymentCommand, PaymentEvent } from '../core/payment-command.ts';
import { paymentIntentCommand, paymentMethodCommand } from './stripe-intent-events.ts';
import { field, first, idOf, integer, isObject, type StripeObject, text } from './stripe-objects.ts';

export const STRIPE_PROVIDER = 'stripe';

/** Account and package named by tokenmeter's metadata (or client_reference_id for the account). */
function metadataOf(o: StripeObject): { account: string | null; packageId: string | null } {
  const m = field(o, 'metadata');
  return {
    account: text(m, 'tokenmeter_account') ?? text(o, 'client_reference_id'),
    packageId: text(m, 'tokenmeter_package'),
  };
}

function checkoutCommand(session: StripeObject, type: string): PaymentCommand {
  const reference = text(session, 'id');
  if (reference === null) return { type: 'ignored' };
  if (type === 'checkout.session.expired') return { type: 'checkout_closed', reference, status: 'canceled' };
  if (type === 'checkout.session.async_payment_failed') return { type: 'checkout_closed', reference, status: 'failed' };
  // A completed session whose payment is still processing (bank debits) is paid by a later
  // async_payment_succeeded; a subscription with a free first period needs no payment.
  const status = text(session, 'payment_status');
  if (status !== 'paid' && status !== 'no_payment_required') return { type: 'ignored' };
  const { account, packageId } = metadataOf(session);
  return {
    type: 'checkout_paid',
    reference,
    account,
    packageId,
    paymentIntent: idOf(session, 'payment_intent'),
    subscriptionId: idOf(session, 'subscription'),
    customerId: idOf(session, 'customer'),
    amount: integer(session, 'amount_total'),
    currency: text(session, 'currency'),
  };
}

/** The subscription of an invoice: top level in older API versions, under `parent` in newer ones. */
export function invoiceSubscription(invoice: StripeObject): string | null {
  return idOf(invoice, 'subscription') ?? idOf(field(field(invoice, 'parent'), 'subscription_details'), 'subscription');
}

/** The payment intent of an invoice: top level in older API versions, under `payments` in newer ones. */
export function invoicePaymentIntent(invoice: StripeObject): string | null {
  return idOf(invoice, 'payment_intent') ?? idOf(field(first(invoice, 'payments'), 'payment'), 'payment_intent');
}

/** The subscription's own line (its period is the one paid for); else the first line. */
function subscriptionLine(invoice: StripeObject): StripeObject {
  const data = field(invoice, 'lines').data;
  const lines = Array.isArray(data) ? data.filter(isObject) : [];
  const own = lines.find(
    (l) => text(l, 'type') === 'subscription' || text(field(l, 'parent'), 'type') === 'subscription_item_details',
  );
  return own ?? lines[0] ?? {};
}

function invoiceCommand(invoice: StripeObject, type: string): PaymentCommand {
  const invoiceId = text(invoice, 'id');
  const subscriptionId = invoiceSubscription(invoice);
  if (invoiceId === null || subscriptionId === null) return { type: 'ignored' };
  if (type === 'invoice.payment_failed') return { type: 'invoice_failed', invoiceId, subscriptionId };
  const period = field(subscriptionLine(invoice), 'period');
  const start = integer(period, 'start') ?? integer(invoice, 'period_start') ?? 0;
  const end = integer(period, 'end') ?? integer(invoice, 'period_end') ?? start;
  return {
    type: 'invoice_paid',
    invoiceId,
    subscriptionId,
    periodStart: start * 1000,
    periodEnd: end * 1000,
    billingReason: text(invoice, 'billing_reason'),
    paymentIntent: invoicePaymentIntent(invoice),
    amount: integer(invoice, 'amount_paid'),
    currency: text(invoice, 'currency'),
  };
}

/**
 * Stripe's dispute statuses as tokenmeter counts them: an inquiry closed without a chargeback
 * (`warning_closed`) or one `prevented` cost the merchant nothing, like a won dispute; every
 * status before a close is open.
 */
export function disputeStatusOf(status: string | null): DisputeStatus {
  if (status === 'lost') return 'lost';
  if (status === 'won' || status === 'warning_closed' || status === 'prevented') return 'won';
  return 'open';
}

function subscriptionCommand(sub: StripeObject, type: string): PaymentCommand {
  const subscriptionId = text(sub, 'id');
  if (subscriptionId === null) return { type: 'ignored' };
  if (type === 'customer.subscription.deleted') return { type: 'subscription_deleted', subscriptionId };
  // Newer API versions keep the period on the subscription item.
  const periodStart = integer(sub, 'current_period_start') ?? integer(first(sub, 'items'), 'current_period_start');
  const periodEnd = integer(sub, 'current_period_end') ?? integer(first(sub, 'items'), 'current_period_end');
  return {
    type: 'subscription_updated',
    subscriptionId,
    status: text(sub, 'status') ?? 'active',
    packageId: metadataOf(sub).packageId,
    periodStart: periodStart === null ? null : periodStart * 1000,
    periodEnd: periodEnd === null ? null : periodEnd * 1000,
  };
}

function commandOf(type: string, o: StripeObject): PaymentCommand {
  switch (type) {
    case 'checkout.session.completed':
    case 'checkout.session.async_payment_succeeded':
    case 'checkout.session.async_payment_failed':
    case 'checkout.session.expired':
      return checkoutCommand(o, type);
    case 'charge.refunded': {
      const paymentIntent = idOf(o, 'payment_intent');
      const chargeId = text(o, 'id');
      const amountRefunded = integer(o, 'amount_refunded');
      if (paymentIntent === null || chargeId === null || amountRefunded === null) return { type: 'ignored' };
      return { type: 'charge_refunded', paymentIntent, chargeId, amountRefunded, receiptUrl: text(o, 'receipt_url') };
    }
    case 'charge.dispute.created':
    case 'charge.dispute.updated':
    case 'charge.dispute.closed':
    case 'charge.dispute.funds_withdrawn':
    case 'charge.dispute.funds_reinstated': {
      const paymentIntent = idOf(o, 'payment_intent');
      const disputeId = text(o, 'id');
      const amount = integer(o, 'amount');
      if (paymentIntent === null || disputeId === null || amount === null) return { type: 'ignored' };
      return { type: 'dispute_changed', paymentIntent, disputeId, status: disputeStatusOf(text(o, 'status')), amount };
    }
    case 'invoice.paid':
    case 'invoice.payment_failed':
      return invoiceCommand(o, type);
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted':
      return subscriptionCommand(o, type);
    case 'payment_intent.succeeded':
    case 'payment_intent.payment_failed':
      return paymentIntentCommand(o, type);
    case 'payment_method.attached':
      return paymentMethodCommand(o);
    default:
      return { type: 'ignored' };
  }
}

/**
 * A verified Stripe event as a provider-neutral command. The signed event is the source of
 * truth: the account and package come from its metadata, so nothing is fetched back from Stripe.
 */
export function stripeEventToPaymentEvent(event: {
  id: string;
  type: string;
  data: { object: unknown };
}): PaymentEvent {
  const object = event.data.object;
  const command = typeof object === 'object' && object !== null ? commandOf(event.type, object as StripeObject) : null;
  return {
    provider: STRIPE_PROVIDER,
    eventId: event.id,
    eventType: event.type,
    command: command ?? { type: 'ignored' },
  };
}
