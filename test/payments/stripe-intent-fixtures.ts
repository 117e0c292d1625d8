/**
 * PaymentIntent and PaymentMethod objects in the shape Stripe's API returns them, copied from the
 * fixtures Stripe publishes with its OpenAPI description (stripe/openapi, `openapi/fixtures3.json`,
 * resources `payment_intent` and `payment_method`), like ../shared/fixtures/stripe/ (only the
 * PaymentIntent's `canceled_at` is null here: it is not canceled). A test sets the fields it needs
 * (`status`, `metadata`, amounts, `last_payment_error`, `customer`).
 */

const PAYMENT_INTENT = {
  amount: 1099,
  amount_capturable: 0,
  amount_details: { tip: {} },
  amount_received: 0,
  application: null,
  application_fee_amount: null,
  automatic_payment_methods: null,
  canceled_at: null,
  cancellation_reason: null,
  capture_method: 'automatic',
  client_secret: 'pi_1MoS6fLgUG5tbmjca6AdBPsl_secret_FEJO0GAwuw0YzMm2J4N0NRES3',
  confirmation_method: 'automatic',
  created: 1234567890,
  currency: 'usd',
  customer: null,
  description: null,
  id: 'pi_1MoS6fLgUG5tbmjca6AdBPsl',
  invoice: null,
  last_payment_error: null,
  latest_charge: null,
  livemode: false,
  metadata: {},
  next_action: null,
  object: 'payment_intent',
  on_behalf_of: null,
  payment_method: null,
  payment_method_options: {},
  payment_method_types: ['card'],
  processing: null,
  receipt_email: null,
  review: null,
  setup_future_usage: null,
  shipping: null,
  statement_descriptor: null,
  statement_descriptor_suffix: null,
  status: 'requires_payment_method',
  transfer_data: null,
  transfer_group: null,
};

const PAYMENT_METHOD = {
  billing_details: {
    address: {
      city: 'San Francisco',
      country: 'US',
      line1: '1234 Fake Street',
      line2: null,
      postal_code: '94102',
      state: 'CA',
    },
    email: 'jenny@example.com',
    name: null,
    phone: '+15555555555',
  },
  card: {
    brand: 'visa',
    checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: 'pass' },
    country: 'US',
    exp_month: 8,
    exp_year: 2024,
    fingerprint: 'J21EyCt2DJaVH6H0',
    funding: 'credit',
    generated_from: null,
    last4: '4242',
    networks: { available: ['visa'], preferred: null },
    three_d_secure_usage: { supported: true },
    wallet: null,
  },
  created: 1234567890,
  customer: null,
  id: 'pm_1MoqxLLgUG5tbmjcq5SgxPTF',
  livemode: false,
  metadata: { order_id: '123456789' },
  object: 'payment_method',
  type: 'card',
};

/** A PaymentIntent as Stripe returns it, with the fields a test sets. */
export function paymentIntentFixture(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...structuredClone(PAYMENT_INTENT), ...over };
}

/** A card PaymentMethod as Stripe returns it, with the fields a test sets. */
export function paymentMethodFixture(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...structuredClone(PAYMENT_METHOD), ...over };
}

/** A PaymentIntent's `last_payment_error` (and a 402 body's `error`) for a declined card, as Stripe writes it. */
export function cardError(code: string, declineCode: string | null, message: string): Record<string, unknown> {
  return {
    type: 'card_error',
    code,
    ...(declineCode === null ? {} : { decline_code: declineCode }),
    doc_url: `https://stripe.com/docs/error-codes/${code.replaceAll('_', '-')}`,
    message,
  };
}
