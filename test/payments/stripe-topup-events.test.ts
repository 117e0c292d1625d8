import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { stripeEventToPaymentEvent } from '../../src/payments/stripe-events.ts';
import { StripeProvider } from '../../src/payments/stripe-provider.ts';
import { sign, stripeEvent, WEBHOOK_SECRET } from './payment-helpers.ts';
import { cardError, paymentIntentFixture, paymentMethodFixture } from './stripe-intent-fixtures.ts';

// Verification needs no network: the stand-in address is never called.
const stripe = new StripeProvider({
  secretKey: 'sk_test_tokenmeter',
  webhookSecret: WEBHOOK_SECRET,
  customers: { find: async () => undefined, save: async (_account, customerId) => customerId },
  host: '127.0.0.1',
  port: 9,
  protocol: 'http',
});

/** The command of a Stripe event, through signature verification as the webhook route does it. */
const commandOf = (type: string, object: Record<string, unknown>) => {
  const body = stripeEvent(type, object);
  return stripe.verifyWebhook(body, sign(body)).command;
};

const TOPUP_METADATA = {
  tokenmeter_account: 'u1',
  tokenmeter_package: 'tokens_100',
  tokenmeter_topup: '42',
  tokenmeter_attempt: '2',
};
/** The metadata of a PaymentIntent made before the worker named its attempt. */
const { tokenmeter_attempt: _attempt, ...UNNAMED_ATTEMPT } = TOPUP_METADATA;

/** An automatic top-up's PaymentIntent, charged off session, as `payment_intent.succeeded` carries it. */
const succeededTopup = (over: Record<string, unknown> = {}) =>
  paymentIntentFixture({
    id: 'pi_topup_1',
    amount: 500,
    amount_received: 500,
    currency: 'usd',
    customer: 'cus_u1',
    payment_method: 'pm_card_visa',
    description: '100 tokens (automatic top-up)',
    latest_charge: 'ch_topup_1',
    metadata: TOPUP_METADATA,
    status: 'succeeded',
    ...over,
  });

/** The same, declined: `payment_intent.payment_failed`. */
const failedTopup = (error: Record<string, unknown>, over: Record<string, unknown> = {}) =>
  succeededTopup({ amount_received: 0, status: 'requires_payment_method', last_payment_error: error, ...over });

describe('Stripe PaymentIntent and PaymentMethod events (signed, verified, normalized)', () => {
  describe('payment_intent.succeeded', () => {
    it('of an automatic top-up is topup_paid, naming the intent, attempt, account, package and what was charged', () => {
      assert.deepEqual(commandOf('payment_intent.succeeded', succeededTopup()), {
        type: 'topup_paid',
        paymentId: 'pi_topup_1',
        intent: 42,
        attempt: 2,
        account: 'u1',
        packageId: 'tokens_100',
        amount: 500,
        currency: 'usd',
      });
    });

    it('of a PaymentIntent made before attempts were named is topup_paid naming none', () => {
      const command = commandOf('payment_intent.succeeded', succeededTopup({ metadata: UNNAMED_ATTEMPT }));
      assert.deepEqual(command.type === 'topup_paid' && [command.intent, command.attempt], [42, null]);
    });

    // An empty value is no value: Stripe removes a metadata key set to "" (read as not named).
    for (const attempt of ['0', '-1', '1.5', '01', 'abc', ' 2', '9007199254740993']) {
      it(`with tokenmeter_attempt ${JSON.stringify(attempt)} (not a positive integer) is ignored`, () => {
        const object = succeededTopup({ metadata: { ...TOPUP_METADATA, tokenmeter_attempt: attempt } });
        assert.deepEqual(commandOf('payment_intent.succeeded', object), { type: 'ignored' });
        const failed = failedTopup({ type: 'card_error', code: 'card_declined' }, { metadata: object.metadata });
        assert.deepEqual(commandOf('payment_intent.payment_failed', failed), { type: 'ignored' });
      });
    }

    it('of a checkout (tokenmeter metadata without a top-up intent) is ignored: the session credits it', () => {
      const checkoutIntent = succeededTopup({
        metadata: { tokenmeter_account: 'u1', tokenmeter_package: 'tokens_100' },
        payment_method: 'pm_1MoqxLLgUG5tbmjcq5SgxPTF',
      });
      assert.deepEqual(commandOf('payment_intent.succeeded', checkoutIntent), { type: 'ignored' });
    });

    it('of a payment tokenmeter did not make (the fixture as Stripe publishes it) is ignored', () => {
      assert.deepEqual(commandOf('payment_intent.succeeded', paymentIntentFixture({ status: 'succeeded' })), {
        type: 'ignored',
      });
    });

    for (const topup of ['0', '-3', '4.5', '1e3', '042', ' 42', 'abc', '', '9007199254740993']) {
      it(`with tokenmeter_topup ${JSON.stringify(topup)} (not a positive integer) is ignored`, () => {
        const object = succeededTopup({ metadata: { ...TOPUP_METADATA, tokenmeter_topup: topup } });
        assert.deepEqual(commandOf('payment_intent.succeeded', object), { type: 'ignored' });
      });
    }

    for (const missing of ['tokenmeter_account', 'tokenmeter_package'] as const) {
      it(`without ${missing} is ignored`, () => {
        const { [missing]: _dropped, ...metadata } = TOPUP_METADATA;
        assert.deepEqual(commandOf('payment_intent.succeeded', succeededTopup({ metadata })), { type: 'ignored' });
      });
    }

    it('without amount_received takes the amount', () => {
      const command = commandOf('payment_intent.succeeded', succeededTopup({ amount_received: null }));
      assert.equal(command.type === 'topup_paid' && command.amount, 500);
    });

    it('a top-up intent is read only from a canonical positive safe integer (property)', () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string(),
            fc.integer().map(String),
            fc.nat().map((n) => `${n}`),
          ),
          (topup) => {
            const event = {
              id: 'evt_property',
              type: 'payment_intent.succeeded',
              data: { object: succeededTopup({ metadata: { ...TOPUP_METADATA, tokenmeter_topup: topup } }) },
            };
            const { command } = stripeEventToPaymentEvent(event);
            const n = Number(topup);
            const valid = /^[1-9][0-9]*$/.test(topup) && Number.isSafeInteger(n);
            assert.deepEqual(command.type, valid ? 'topup_paid' : 'ignored');
            if (command.type === 'topup_paid') assert.equal(command.intent, n);
          },
        ),
      );
    });
  });

  describe('payment_intent.payment_failed', () => {
    const cases: [string, Record<string, unknown>, string][] = [
      [
        'insufficient funds',
        cardError('card_declined', 'insufficient_funds', 'Your card has insufficient funds.'),
        'insufficient_funds',
      ],
      [
        'a decline without a reason (generic_decline)',
        cardError('card_declined', 'generic_decline', 'Your card was declined.'),
        'card_declined',
      ],
      [
        'authentication required (the error code, no decline code)',
        cardError('authentication_required', null, 'This transaction requires authentication.'),
        'authentication_required',
      ],
      ['an error without a code', { type: 'card_error', message: 'Your card was declined.' }, 'card_declined'],
    ];
    for (const [what, error, reason] of cases) {
      it(`of an automatic top-up, ${what}, is topup_failed with reason ${reason}`, () => {
        assert.deepEqual(commandOf('payment_intent.payment_failed', failedTopup(error)), {
          type: 'topup_failed',
          paymentId: 'pi_topup_1',
          intent: 42,
          attempt: 2,
          reason,
        });
      });
    }

    it('of a PaymentIntent made before attempts were named is topup_failed naming none', () => {
      const object = failedTopup(
        cardError('card_declined', 'insufficient_funds', 'Your card has insufficient funds.'),
        {
          metadata: UNNAMED_ATTEMPT,
        },
      );
      assert.deepEqual(commandOf('payment_intent.payment_failed', object), {
        type: 'topup_failed',
        paymentId: 'pi_topup_1',
        intent: 42,
        attempt: null,
        reason: 'insufficient_funds',
      });
    });

    it('of a checkout’s PaymentIntent is ignored', () => {
      const object = failedTopup(cardError('card_declined', 'generic_decline', 'Your card was declined.'), {
        metadata: { tokenmeter_account: 'u1', tokenmeter_package: 'tokens_100' },
      });
      assert.deepEqual(commandOf('payment_intent.payment_failed', object), { type: 'ignored' });
    });
  });

  describe('payment_method.attached', () => {
    it('of a card is payment_method_saved with its customer, brand and last four digits only', () => {
      const command = commandOf('payment_method.attached', paymentMethodFixture({ customer: 'cus_u1' }));
      assert.deepEqual(command, {
        type: 'payment_method_saved',
        account: null,
        customerId: 'cus_u1',
        methodId: 'pm_1MoqxLLgUG5tbmjcq5SgxPTF',
        brand: 'visa',
        last4: '4242',
      });
    });

    it('with the customer expanded reads its id', () => {
      const command = commandOf(
        'payment_method.attached',
        paymentMethodFixture({ customer: { id: 'cus_u1', object: 'customer' } }),
      );
      assert.equal(command.type === 'payment_method_saved' && command.customerId, 'cus_u1');
    });

    it('of another payment method type is ignored', () => {
      const sepa = paymentMethodFixture({
        customer: 'cus_u1',
        type: 'sepa_debit',
        card: undefined,
        sepa_debit: { bank_code: '37040044', country: 'DE', last4: '3000' },
      });
      assert.deepEqual(commandOf('payment_method.attached', sepa), { type: 'ignored' });
    });

    it('without a customer (nothing names the account) is ignored', () => {
      assert.deepEqual(commandOf('payment_method.attached', paymentMethodFixture()), { type: 'ignored' });
    });
  });

  describe('security', () => {
    it('a top-up event with a tampered body is refused before it is read', () => {
      const body = stripeEvent('payment_intent.succeeded', succeededTopup());
      const signature = sign(body);
      const tampered = body.replace('"amount_received":500', '"amount_received":50000');
      assert.notEqual(tampered, body);
      assert.throws(() => stripe.verifyWebhook(tampered, signature));
    });

    it('an event signed with another secret is refused', () => {
      const body = stripeEvent('payment_method.attached', paymentMethodFixture({ customer: 'cus_u1' }));
      assert.throws(() => stripe.verifyWebhook(body, sign(body, { secret: 'whsec_someone_else' })));
    });
  });
});
