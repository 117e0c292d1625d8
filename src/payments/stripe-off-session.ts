import Stripe from 'stripe';
import type { OffSessionCharge, OffSessionResult } from './payment-provider.ts';
import { declineReason } from './stripe-objects.ts';

/**
 * Charges a saved card without the buyer, following Stripe's off-session flow in three steps so
 * that no crash or retry charges twice: create the PaymentIntent unconfirmed under the attempt's
 * idempotency key, store its id (`charge.remember`), then confirm it off session under a key
 * derived from the same one. A run that finds an id stored retrieves that PaymentIntent instead
 * of creating one (Stripe forgets idempotency keys after 24 hours; ids last).
 *
 * A decline is a `failed` result; an error whose outcome is unknown (network, 5xx, rate limit)
 * is thrown, and the caller asks again with the same charge.
 *
 * @example
 *   const result = await chargeStripeOffSession(stripe, 'cus_123', charge);
 *   if (result.status === 'succeeded') credit(result.paymentId, result.amount);
 */
export async function chargeStripeOffSession(
  stripe: Stripe,
  customer: string,
  charge: OffSessionCharge,
): Promise<OffSessionResult> {
  if (charge.paymentId !== null) return recover(stripe, charge, charge.paymentId);
  const pkg = charge.package;
  const intent = await stripe.paymentIntents.create(
    {
      amount: pkg.priceCents,
      currency: pkg.currency.toLowerCase(),
      customer,
      payment_method: charge.method.methodId,
      // `off_session` is only accepted together with a confirmation: it is sent with the confirm.
      confirm: false,
      metadata: {
        tokenmeter_account: charge.account,
        tokenmeter_package: pkg.id,
        tokenmeter_topup: String(charge.intent),
        // Its webhooks name the attempt, so a late report of this one never counts for the next.
        tokenmeter_attempt: String(charge.attempt),
      },
      description: `${pkg.name} (automatic top-up)`,
    },
    // A repeat of this attempt (within Stripe's 24 hours) gets the same PaymentIntent back.
    { idempotencyKey: charge.idempotencyKey },
  );
  // Stored before the card is charged: a crash after the confirm is then recovered by id.
  await charge.remember(intent.id);
  return confirm(stripe, charge, intent.id);
}

/** A later run of an attempt whose PaymentIntent exists: confirm it if it never was, else read its outcome. */
async function recover(stripe: Stripe, charge: OffSessionCharge, id: string): Promise<OffSessionResult> {
  const intent = await stripe.paymentIntents.retrieve(id);
  // A decline leaves `requires_payment_method` with the error; without one, no confirm ever reached Stripe.
  const unconfirmed =
    intent.status === 'requires_confirmation' ||
    (intent.status === 'requires_payment_method' && !intent.last_payment_error);
  return unconfirmed ? confirm(stripe, charge, id) : resultOf(intent);
}

async function confirm(stripe: Stripe, charge: OffSessionCharge, id: string): Promise<OffSessionResult> {
  try {
    const intent = await stripe.paymentIntents.confirm(
      id,
      { payment_method: charge.method.methodId, off_session: true },
      { idempotencyKey: `${charge.idempotencyKey}-confirm` },
    );
    return resultOf(intent);
  } catch (err) {
    // HTTP 402: the card was tried and declined (off session, `authentication_required` too). Any
    // other error leaves the outcome unknown: thrown, and asked again with the same keys.
    if (err instanceof Stripe.errors.StripeCardError) {
      return {
        status: 'failed',
        paymentId: err.payment_intent?.id ?? id,
        reason: declineReason(err.decline_code, err.code),
      };
    }
    throw err;
  }
}

function resultOf(intent: Stripe.PaymentIntent): OffSessionResult {
  const paymentId = intent.id;
  switch (intent.status) {
    case 'succeeded':
      return {
        status: 'succeeded',
        paymentId,
        amount: intent.amount_received ?? intent.amount,
        currency: intent.currency,
      };
    case 'requires_action':
      // Off session nobody can authenticate: the buyer has to come back to the billing page.
      return { status: 'failed', paymentId, reason: 'authentication_required' };
    case 'requires_payment_method': {
      const error = intent.last_payment_error;
      return { status: 'failed', paymentId, reason: declineReason(error?.decline_code, error?.code) };
    }
    case 'canceled':
      return { status: 'failed', paymentId, reason: 'canceled' };
    default:
      // `processing` (and any state not final yet): asked again later by its id.
      return { status: 'processing', paymentId };
  }
}
