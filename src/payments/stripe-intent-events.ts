import type { PaymentCommand } from '../core/payment-command.ts';
import { declineReason, field, idOf, integer, type StripeObject, text } from './stripe-objects.ts';

/** A canonical positive safe integer, as the worker writes tokenmeter's numbers into metadata; else null. */
function positiveInteger(v: string | null): number | null {
  if (v === null || !/^[1-9][0-9]*$/.test(v)) return null;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * `payment_intent.succeeded` and `payment_intent.payment_failed` of an automatic top-up's
 * off-session charge. Only a PaymentIntent whose metadata names a top-up intent, its account and
 * package counts: a checkout's own PaymentIntent sends these events too, and stays ignored (its
 * `checkout.session.completed` credits it). The attempt (`tokenmeter_attempt`) is read when
 * present; one that is not a number the worker writes makes the event ignored too.
 */
export function paymentIntentCommand(intent: StripeObject, type: string): PaymentCommand {
  const paymentId = text(intent, 'id');
  const metadata = field(intent, 'metadata');
  const topup = positiveInteger(text(metadata, 'tokenmeter_topup'));
  const account = text(metadata, 'tokenmeter_account');
  const packageId = text(metadata, 'tokenmeter_package');
  if (paymentId === null || topup === null || account === null || packageId === null) return { type: 'ignored' };
  // Absent on a PaymentIntent made before attempts were named (null: the rules then match it by its id).
  const attemptText = text(metadata, 'tokenmeter_attempt');
  const attempt = positiveInteger(attemptText);
  if (attemptText !== null && attempt === null) return { type: 'ignored' };
  if (type === 'payment_intent.payment_failed') {
    const error = field(intent, 'last_payment_error');
    return {
      type: 'topup_failed',
      paymentId,
      intent: topup,
      attempt,
      reason: declineReason(text(error, 'decline_code'), text(error, 'code')),
    };
  }
  const amount = integer(intent, 'amount_received') ?? integer(intent, 'amount');
  const currency = text(intent, 'currency');
  if (amount === null || currency === null) return { type: 'ignored' };
  return { type: 'topup_paid', paymentId, intent: topup, attempt, account, packageId, amount, currency };
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
