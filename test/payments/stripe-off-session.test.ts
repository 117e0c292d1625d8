import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { TokenPackage } from '../../src/core/catalog.ts';
import type { OffSessionCharge, OffSessionResult } from '../../src/payments/payment-provider.ts';
import { StripeProvider } from '../../src/payments/stripe-provider.ts';
import { catalog } from '../helpers/ledger.ts';
import { WEBHOOK_SECRET } from './payment-helpers.ts';
import { type StripeStandIn, stripeStandIn } from './stripe-api-standin.ts';

const topup = catalog.packages.get('tokens_100') as TokenPackage;
const plan = catalog.packages.get('plan_starter') as TokenPackage;

describe('Stripe off-session charges and saved cards (through the SDK, against a local stand-in)', () => {
  let api: StripeStandIn;
  let stripe: StripeProvider;
  const customers = new Map<string, string>([['u1', 'cus_u1']]);
  let intent = 0;

  /** One attempt at charging `u1`'s saved card; `remembered` records what `remember` stored, in `api.log` order too. */
  const attempt = (
    over: { card?: string; paymentId?: string | null; intent?: number; package?: TokenPackage } = {},
  ) => {
    const n = over.intent ?? ++intent;
    const remembered: string[] = [];
    const charge: OffSessionCharge = {
      account: 'u1',
      intent: n,
      attempt: 1,
      idempotencyKey: `tokenmeter-topup-${n}-1`,
      method: { provider: 'stripe', methodId: over.card ?? 'pm_card_visa', brand: 'visa', last4: '4242' },
      package: over.package ?? topup,
      paymentId: over.paymentId ?? null,
      async remember(paymentId) {
        remembered.push(paymentId);
        api.log.push(`remember ${paymentId}`);
      },
    };
    return { charge, remembered };
  };
  const paths = () => api.log.map((l) => l.replace(/pi_standin_\d+/, 'pi'));

  before(async () => {
    api = await stripeStandIn();
    stripe = new StripeProvider({
      secretKey: 'sk_test_tokenmeter',
      webhookSecret: WEBHOOK_SECRET,
      customers: {
        find: async (account) => customers.get(account),
        save: async (account, customerId) => {
          customers.set(account, customerId);
          return customerId;
        },
      },
      host: '127.0.0.1',
      port: api.port,
      protocol: 'http',
    });
  });
  beforeEach(() => {
    api.log.length = 0;
    api.requests.length = 0;
    api.drop = null;
  });
  after(() => api.close());

  describe('happy paths', () => {
    it('creates the PaymentIntent unconfirmed, remembers its id, then confirms it off session', async () => {
      const { charge, remembered } = attempt();
      const result = await stripe.chargeOffSession(charge);
      const id = remembered[0] ?? '';
      assert.deepEqual(result, { status: 'succeeded', paymentId: id, amount: 500, currency: 'usd' });
      assert.deepEqual(remembered, [id]);
      // The id is stored before the confirm is sent: a crash after it is recovered by id.
      assert.deepEqual(paths(), ['POST /v1/payment_intents', 'remember pi', 'POST /v1/payment_intents/pi/confirm']);
      const [create, confirm] = api.requests;
      const p = create?.params;
      assert.equal(create?.idempotencyKey, charge.idempotencyKey);
      assert.equal(p?.get('amount'), '500');
      assert.equal(p?.get('currency'), 'usd');
      assert.equal(p?.get('customer'), 'cus_u1');
      assert.equal(p?.get('payment_method'), 'pm_card_visa');
      assert.equal(p?.get('confirm'), 'false');
      assert.equal(p?.has('off_session'), false);
      assert.equal(p?.get('metadata[tokenmeter_account]'), 'u1');
      assert.equal(p?.get('metadata[tokenmeter_package]'), 'tokens_100');
      assert.equal(p?.get('metadata[tokenmeter_topup]'), String(charge.intent));
      assert.equal(p?.get('metadata[tokenmeter_attempt]'), String(charge.attempt));
      assert.ok(p?.get('description'));
      assert.equal(confirm?.path, `/v1/payment_intents/${id}/confirm`);
      assert.equal(confirm?.idempotencyKey, `${charge.idempotencyKey}-confirm`);
      assert.equal(confirm?.params.get('off_session'), 'true');
      assert.equal(confirm?.params.get('payment_method'), 'pm_card_visa');
      assert.equal(api.intents.get(id)?.status, 'succeeded');
    });

    it('sends the currency in lower case, as Stripe expects', async () => {
      const { charge } = attempt({ package: { ...topup, priceCents: 900, currency: 'EUR' } });
      const result = await stripe.chargeOffSession(charge);
      assert.equal(api.requests[0]?.params.get('currency'), 'eur');
      assert.equal(result.status === 'succeeded' && result.amount, 900);
    });

    it('a payment still settling is `processing`, to be asked again by its id', async () => {
      const { charge, remembered } = attempt({ card: 'pm_standin_processing' });
      assert.deepEqual(await stripe.chargeOffSession(charge), { status: 'processing', paymentId: remembered[0] });
    });
  });

  describe('declines are results, not errors', () => {
    const cases: [string, string, string][] = [
      ['a card declined without a reason (generic_decline)', 'pm_card_chargeCustomerFail', 'card_declined'],
      ['insufficient funds', 'pm_card_chargeDeclinedInsufficientFunds', 'insufficient_funds'],
      ['a bank asking for authentication nobody can give', 'pm_card_authenticationRequired', 'authentication_required'],
    ];
    for (const [what, card, reason] of cases) {
      it(`${what} fails with reason ${reason} and the PaymentIntent's id`, async () => {
        const { charge, remembered } = attempt({ card });
        const result = await stripe.chargeOffSession(charge);
        assert.deepEqual(result, { status: 'failed', paymentId: remembered[0], reason });
        assert.equal(api.requests.at(-1)?.path, `/v1/payment_intents/${remembered[0]}/confirm`);
      });
    }

    it('an account without a Stripe customer fails with no_customer and calls nothing', async () => {
      const { charge } = attempt();
      const result = await stripe.chargeOffSession({ ...charge, account: 'nobody' });
      assert.deepEqual(result, { status: 'failed', paymentId: null, reason: 'no_customer' });
      assert.equal(api.requests.length, 0);
    });
  });

  describe('at most one charge per attempt', () => {
    it('a repeat with the same key (its id never stored) gets the same PaymentIntent back and charges nothing more', async () => {
      const charges = api.charges;
      const intents = api.intents.size;
      const first = attempt();
      const again = attempt({ intent: first.charge.intent });
      const a = await stripe.chargeOffSession(first.charge);
      const b = await stripe.chargeOffSession(again.charge);
      assert.deepEqual(b, a);
      assert.deepEqual(again.remembered, first.remembered);
      assert.equal(api.intents.size, intents + 1);
      assert.equal(api.charges, charges + 1);
    });

    it('a repeat of a declined attempt returns the same decline without trying the card again', async () => {
      const card = 'pm_card_chargeDeclinedInsufficientFunds';
      const attempts = api.attempts;
      const first = attempt({ card });
      const a = await stripe.chargeOffSession(first.charge);
      const b = await stripe.chargeOffSession(attempt({ intent: first.charge.intent, card }).charge);
      assert.equal(a.status, 'failed');
      assert.deepEqual(b, a);
      assert.equal(api.attempts, attempts + 1);
    });

    it('a crash before the confirm is recovered by id: retrieved, confirmed, no second PaymentIntent', async () => {
      const intents = api.intents.size;
      const crashed = attempt();
      const lost = new Error('process killed');
      const stored: string[] = [];
      await assert.rejects(
        stripe.chargeOffSession({
          ...crashed.charge,
          async remember(id) {
            stored.push(id);
            throw lost;
          },
        }),
        lost,
      );
      const id = stored[0] ?? '';
      assert.equal(api.intents.get(id)?.status, 'requires_confirmation');
      api.log.length = 0;
      const recovered = attempt({ intent: crashed.charge.intent, paymentId: id });
      const result = await stripe.chargeOffSession(recovered.charge);
      assert.deepEqual(result, { status: 'succeeded', paymentId: id, amount: 500, currency: 'usd' });
      assert.deepEqual(paths(), ['GET /v1/payment_intents/pi', 'POST /v1/payment_intents/pi/confirm']);
      assert.deepEqual(recovered.remembered, []);
      assert.equal(api.intents.size, intents + 1);
    });

    it('a lost answer to the confirm throws; asked again by id it reads the charge made, and charges nothing more', async () => {
      const charges = api.charges;
      const first = attempt();
      api.drop = (method, path) => (method === 'POST' && path.endsWith('/confirm') ? 'after' : null);
      await assert.rejects(stripe.chargeOffSession(first.charge), { type: 'StripeConnectionError' });
      const confirms = api.requests.filter((r) => r.path.endsWith('/confirm'));
      // The SDK's own retries carried the same key: the card was charged once.
      assert.ok(confirms.length > 1);
      assert.ok(confirms.every((r) => r.idempotencyKey === `${first.charge.idempotencyKey}-confirm`));
      assert.equal(api.charges, charges + 1);
      api.drop = null;
      api.log.length = 0;
      const id = first.remembered[0] ?? '';
      const result = await stripe.chargeOffSession(attempt({ intent: first.charge.intent, paymentId: id }).charge);
      assert.deepEqual(result, { status: 'succeeded', paymentId: id, amount: 500, currency: 'usd' });
      assert.deepEqual(paths(), ['GET /v1/payment_intents/pi']);
      assert.equal(api.charges, charges + 1);
    });

    it('a network failure before Stripe answers the create throws (outcome unknown) and remembers nothing', async () => {
      const { charge, remembered } = attempt();
      api.drop = (method, path) => (method === 'POST' && path === '/v1/payment_intents' ? 'before' : null);
      await assert.rejects(stripe.chargeOffSession(charge), { type: 'StripeConnectionError' });
      assert.deepEqual(remembered, []);
      assert.ok(api.requests.every((r) => r.path === '/v1/payment_intents'));
    });
  });

  describe('recovery reads the PaymentIntent’s state', () => {
    /** A PaymentIntent left in `state` by an earlier run of an attempt that crashed after storing its id. */
    const left = async (state: Record<string, unknown>) => {
      const { charge } = attempt();
      let id = '';
      const crash = new Error('process killed');
      const remember = async (paymentId: string) => {
        id = paymentId;
        throw crash;
      };
      await assert.rejects(stripe.chargeOffSession({ ...charge, remember }), crash);
      Object.assign(api.intents.get(id) ?? {}, state);
      api.log.length = 0;
      return { id, charge: attempt({ intent: charge.intent, paymentId: id }).charge };
    };
    const cases: [string, Record<string, unknown>, (id: string) => OffSessionResult][] = [
      [
        'succeeded',
        { status: 'succeeded', amount_received: 500 },
        (id) => ({ status: 'succeeded', paymentId: id, amount: 500, currency: 'usd' }),
      ],
      ['processing', { status: 'processing' }, (id) => ({ status: 'processing', paymentId: id })],
      [
        'requires_action',
        { status: 'requires_action' },
        (id) => ({ status: 'failed', paymentId: id, reason: 'authentication_required' }),
      ],
      [
        'requires_payment_method after a decline',
        {
          status: 'requires_payment_method',
          last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'insufficient_funds' },
        },
        (id) => ({ status: 'failed', paymentId: id, reason: 'insufficient_funds' }),
      ],
      ['canceled', { status: 'canceled' }, (id) => ({ status: 'failed', paymentId: id, reason: 'canceled' })],
    ];
    for (const [state, fields, expected] of cases) {
      it(`${state}: mapped without confirming again`, async () => {
        const { id, charge } = await left(fields);
        assert.deepEqual(await stripe.chargeOffSession(charge), expected(id));
        assert.deepEqual(paths(), ['GET /v1/payment_intents/pi']);
      });
    }

    it('requires_payment_method without an error was never confirmed: it is confirmed now', async () => {
      const { id, charge } = await left({ status: 'requires_payment_method', last_payment_error: null });
      assert.deepEqual(await stripe.chargeOffSession(charge), {
        status: 'succeeded',
        paymentId: id,
        amount: 500,
        currency: 'usd',
      });
      assert.deepEqual(paths(), ['GET /v1/payment_intents/pi', 'POST /v1/payment_intents/pi/confirm']);
    });
  });

  describe('checkout saving the card', () => {
    it('a top-up checkout with saveCard asks Stripe to keep the card for off-session use, with the metadata', async () => {
      await stripe.createCheckout({
        account: 'u1',
        package: topup,
        successUrl: 'http://billing.example/ok',
        cancelUrl: 'http://billing.example/no',
        saveCard: true,
      });
      const p = api.requests.find((r) => r.path === '/v1/checkout/sessions')?.params;
      assert.equal(p?.get('payment_intent_data[setup_future_usage]'), 'off_session');
      assert.equal(p?.get('payment_intent_data[metadata][tokenmeter_account]'), 'u1');
      assert.equal(p?.get('payment_intent_data[metadata][tokenmeter_package]'), 'tokens_100');
      assert.equal(p?.get('customer'), 'cus_u1');
    });

    it('without saveCard, or for a plan, no card is saved for off-session use', async () => {
      const input = { account: 'u1', successUrl: 'http://billing.example/ok', cancelUrl: 'http://billing.example/no' };
      await stripe.createCheckout({ ...input, package: topup });
      await stripe.createCheckout({ ...input, package: plan, saveCard: true });
      const sessions = api.requests.filter((r) => r.path === '/v1/checkout/sessions');
      assert.equal(sessions.length, 2);
      for (const s of sessions) {
        assert.equal(
          [...s.params.keys()].some((k) => k.includes('setup_future_usage')),
          false,
        );
      }
    });
  });
});
