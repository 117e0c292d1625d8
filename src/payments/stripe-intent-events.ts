import type { PaymentCommand } from '../core/payment-command.ts';
import { declineReason, field, idOf, integer, type StripeObject, text } from './stripe-objects.ts';

/** tokenmeter's top-up intent in metadata: a canonical positive safe integer, as the worker writes it. */
function topupIntent(metadata: StripeObject): number | null {
  const v = text(metadata, 'tokenmeter_topup');
  if (v === null || !/^[1-9][0-9]*$/.test(v)) return null;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * `payment_intent.succeeded` and `payment_intent.payment_failed` of an automatic top-up's
 * off-session charge. Only a PaymentIntent whose metadata names a top-up intent, its account and
 * package counts: a checkout's own PaymentIntent sends these events too, and stays ignored (its
 * `checkout.session.completed` credits it).
 */
export function paymentIntentCommand(intent: StripeObject, type: string): PaymentCommand {
  const paymentId = text(intent, 'id');
  const metadata = field(intent, 'metadata');
  const topup = topupIntent(metadata);
  const account = text(metadata, 'tokenmeter_account');
  const packageId = text(metadata, 'tokenmeter_package');
  if (paymentId === null || topup === null || account === null || packageId === null) return { type: 'ignored' };
  if (type === 'payment_intent.payment_failed') {
    const error = field(intent, 'last_payment_error');
    return {
      type: 'topup_failed',
      paymentId,
      intent: topup,
      reason: declineReason(text(error, 'decline_code'), text(error, 'code')),
    };
  }
  const amount = integer(intent, 'amount_received') ?? integer(intent, 'amount');
  const currency = text(intent, 'currency');
  if (amount === null || currency === null) return { type: 'ignored' };
  return { type: 'topup_paid', paymentId, intent: topup, account, packageId, amount, currency };
}

/**
 * `payment_method.attached`: a card saved on a customer (by a checkout that saves it) becomes the
 * account's method for automatic top-up; the account is found by the customer. Only the brand and
 * last four digits are kept. Other payment method types are ignored.
 */
export function paymentMethodCommand(method: StripeObject): PaymentCommand {
  const methodId = text(method, 'id');
  const card = field(method, 'card');
  const brand = text(card, 'brand');
  const last4 = text(card, 'last4');
  // Attached always means to a customer; without one nothing could name the account.
  const customerId = idOf(method, 'customer');
  if (methodId === null || text(method, 'type') !== 'card' || brand === null || last4 === null || customerId === null) {
    return { type: 'ignored' };
  }
  return { type: 'payment_method_saved', account: null, customerId, methodId, brand, last4 };
}
