import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { saveCard as saveTestCard } from '../helpers/saved-card.ts';
import { type PaymentApp, paymentApp } from '../payments/payment-helpers.ts';
import { testApp } from './http-helpers.ts';

const URL = '/api/payment/auto-topup';

/** A never-configured free-plan account: off, at the plan's low-balance threshold, the first top-up package. */
const DEFAULTS = {
  enabled: false,
  threshold: 10,
  package: 'tokens_100',
  monthly_limit: 3,
  used_this_month: 0,
  status: 'off',
  payment_method: null,
  last_error: null,
};

const ENABLE = { enabled: true, threshold: 50, package: 'tokens_500', monthly_limit: 5 };

/** Saves a card for `account` (created if new, as its checkout would have) the way a provider's `payment_method.attached` does. */
async function saveCard(ledger: TokenLedger, account: string, last4 = '4242'): Promise<void> {
  await ledger.createAccount({ account });
  const outcome = await saveTestCard(ledger, account, { last4 });
  assert.equal(outcome.status, 'applied', `the card is saved: ${JSON.stringify(outcome)}`);
}

function settingsOf(res: LightMyRequestResponse): Record<string, unknown> {
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json() as { success: boolean; auto_topup: Record<string, unknown> };
  assert.equal(body.success, true);
  return body.auto_topup;
}

function assertInvalid(res: LightMyRequestResponse, field: string): void {
  assert.equal(res.statusCode, 400, res.body);
  const body = res.json() as { success: boolean; code: string; error: string };
  assert.equal(body.success, false);
  assert.equal(body.code, 'invalid_request');
  assert.match(body.error, new RegExp(`\\b${field}\\b`), `the error names ${field}: ${body.error}`);
}

describe('auto top-up settings over HTTP', () => {
  let t: PaymentApp;
  before(async () => {
    t = await paymentApp();
  });
  after(() => t.close());

  const get = (account: string) => t.call({ method: 'GET', url: `${URL}?account=${account}` });
  const put = (body: Record<string, unknown>, as?: { token: string }) =>
    t.call({ method: 'PUT', url: URL, payload: body, ...(as ? { as } : {}) });

  describe('happy path', () => {
    it('a never-configured account reads the defaults: off, no card', async () => {
      const token = await t.userToken('u-defaults');
      const own = settingsOf(await t.call({ method: 'GET', url: URL, as: { token } }));
      assert.deepEqual(own, DEFAULTS);
      assert.deepEqual(settingsOf(await get('u-defaults')), DEFAULTS);
    });

    it('enabling after a card was saved answers active with the card, and it is kept', async () => {
      await saveCard(t.ledger, 'u-card');
      const saved = settingsOf(await put({ account: 'u-card', ...ENABLE }));
      const expected = {
        ...DEFAULTS,
        enabled: true,
        threshold: 50,
        package: 'tokens_500',
        monthly_limit: 5,
        status: 'active',
        payment_method: { brand: 'visa', last4: '4242' },
      };
      assert.deepEqual(saved, expected);
      assert.deepEqual(settingsOf(await get('u-card')), expected);
      const view = await t.ledger.autoTopup.get('u-card');
      assert.equal(view.packageId, 'tokens_500');
      assert.equal(view.monthlyLimit, 5);
    });

    it('a user token enables and disables its own account without naming it', async () => {
      await saveCard(t.ledger, 'u-self', '0341');
      const token = await t.userToken('u-self');
      const on = settingsOf(await put(ENABLE, { token }));
      assert.equal(on.status, 'active');
      assert.deepEqual(on.payment_method, { brand: 'visa', last4: '0341' });
      const off = settingsOf(await put({ ...ENABLE, enabled: false, threshold: 20 }, { token }));
      assert.equal(off.enabled, false);
      assert.equal(off.status, 'off');
      assert.equal(off.threshold, 20);
      assert.deepEqual(off.payment_method, { brand: 'visa', last4: '0341' }, 'disabling keeps the card');
    });
  });

  describe('errors', () => {
    it('enabling without a saved card is 409 payment_method_required and saves nothing', async () => {
      const res = await put({ account: 'u-nocard', ...ENABLE });
      assert.equal(res.statusCode, 409, res.body);
      const body = res.json() as { success: boolean; code: string };
      assert.equal(body.success, false);
      assert.equal(body.code, 'payment_method_required');
      assert.deepEqual(settingsOf(await get('u-nocard')), DEFAULTS);
    });

    const bad: [string, string, Record<string, unknown>][] = [
      ['a negative threshold', 'threshold', { threshold: -1 }],
      ['a fractional threshold', 'threshold', { threshold: 1.5 }],
      ['a threshold sent as text', 'threshold', { threshold: '50' }],
      ['a threshold past the safe integers', 'threshold', { threshold: 2 ** 53 }],
      ['monthly_limit 0', 'monthly_limit', { monthly_limit: 0 }],
      ['monthly_limit 101', 'monthly_limit', { monthly_limit: 101 }],
      ['a fractional monthly_limit', 'monthly_limit', { monthly_limit: 2.5 }],
      ['an unknown package', 'package', { package: 'tokens_999' }],
      ['a plan package', 'package', { package: 'plan_starter' }],
      ['an empty package', 'package', { package: '' }],
      ['enabled sent as text', 'enabled', { enabled: 'true' }],
      ['an unknown body field', 'auto_recharge', { auto_recharge: true }],
    ];
    for (const [name, field, change] of bad) {
      it(`${name} is 400 naming ${field}, and nothing is saved`, async () => {
        await saveCard(t.ledger, 'u-bad');
        assertInvalid(await put({ account: 'u-bad', ...ENABLE, ...change }), field);
        const kept = settingsOf(await get('u-bad'));
        assert.deepEqual({ ...kept, payment_method: null }, DEFAULTS);
      });
    }

    for (const field of ['enabled', 'threshold', 'package', 'monthly_limit']) {
      it(`a body without ${field} is 400 naming it`, async () => {
        const body: Record<string, unknown> = { account: 'u-missing', ...ENABLE };
        delete body[field];
        assertInvalid(await put(body), field);
      });
    }

    it('no body at all is 400', async () => {
      const res = await t.call({ method: 'PUT', url: URL });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal((res.json() as { code: string }).code, 'invalid_request');
    });
  });

  describe('security', () => {
    it('a user token can neither read nor change another account', async () => {
      await saveCard(t.ledger, 'u-victim');
      const token = await t.userToken('u-attacker');
      const read = await t.call({ method: 'GET', url: `${URL}?account=u-victim`, as: { token } });
      assert.equal(read.statusCode, 403, read.body);
      assert.equal((read.json() as { code: string }).code, 'forbidden');
      const write = await put({ account: 'u-victim', ...ENABLE }, { token });
      assert.equal(write.statusCode, 403, write.body);
      assert.equal((write.json() as { code: string }).code, 'forbidden');
      const victim = settingsOf(await get('u-victim'));
      assert.equal(victim.enabled, false);
      assert.equal(victim.status, 'off');
    });

    it('an app key must name the account', async () => {
      assertInvalid(await t.call({ method: 'GET', url: URL }), 'account');
      await saveCard(t.ledger, 'u-unnamed');
      assertInvalid(await put(ENABLE), 'account');
    });

    it('without credentials both routes are 401', async () => {
      for (const method of ['GET', 'PUT'] as const) {
        const res = await t.call({ method, url: `${URL}?account=u-anon`, as: 'none', payload: ENABLE });
        assert.equal(res.statusCode, 401, `${method}: ${res.body}`);
      }
    });

    it('an admin key names the account like an app key', async () => {
      const h = await testApp();
      try {
        await saveCard(h.ledger, 'u-admin');
        const res = await h.call({ as: 'admin', method: 'PUT', url: URL, payload: { account: 'u-admin', ...ENABLE } });
        assert.equal(settingsOf(res).status, 'active');
        const read = await h.call({ as: 'admin', method: 'GET', url: `${URL}?account=u-admin` });
        assert.equal(settingsOf(read).enabled, true);
        assertInvalid(await h.call({ as: 'admin', method: 'GET', url: URL }), 'account');
      } finally {
        await h.close();
      }
    });
  });

  describe('at zero balance', () => {
    it('settings work for a drained account: read, and enabling arms a top-up at once', async () => {
      const account = 'u-drained';
      const drain = await t.call({
        method: 'POST',
        url: '/api/tokens/deduct',
        payload: { account, feature: 'outbound_call_single', quantity: 100 },
      });
      assert.equal(drain.statusCode, 200, drain.body);
      const token = await t.userToken(account);
      const balance = await t.call({ method: 'GET', url: '/api/tokens/balance', as: { token } });
      assert.equal((balance.json() as { available: number }).available, 0);
      assert.equal((balance.json() as { features_disabled: boolean }).features_disabled, true);

      assert.deepEqual(settingsOf(await t.call({ method: 'GET', url: URL, as: { token } })), DEFAULTS);
      await saveCard(t.ledger, account);
      const on = settingsOf(await put(ENABLE, { token }));
      assert.equal(on.status, 'active');
      // Available 0 is already below the threshold: the intent is recorded by the same request.
      const intents = await t.ledger.autoTopup.intents(account);
      assert.equal(intents.length, 1);
      assert.equal(intents[0]?.status, 'pending');
    });
  });

  describe('checkout save_card', () => {
    const checkout = (payload: Record<string, unknown>) =>
      t.call({ method: 'POST', url: '/api/payment/checkout', payload: { account: 'u-buyer', ...payload } });

    it('a top-up checkout with save_card: true sends the buyer to a page that saves the card', async () => {
      const res = await checkout({ package: 'tokens_100', save_card: true });
      assert.equal(res.statusCode, 200, res.body);
      const { url } = res.json() as { url: string };
      assert.equal(new globalThis.URL(url).searchParams.get('save_card'), '1', url);
    });

    it('without save_card (or with false) the page does not save it', async () => {
      for (const payload of [{ package: 'tokens_100' }, { package: 'tokens_100', save_card: false }]) {
        const res = await checkout(payload);
        assert.equal(res.statusCode, 200, res.body);
        const { url } = res.json() as { url: string };
        assert.equal(new globalThis.URL(url).searchParams.get('save_card'), null, url);
      }
    });

    it('a plan package refuses save_card: true with 400 naming save_card, and starts no payment', async () => {
      const before = await t.ledger.payments.history('u-plan-buyer', 10);
      const res = await t.call({
        method: 'POST',
        url: '/api/payment/checkout',
        payload: { account: 'u-plan-buyer', package: 'plan_starter', save_card: true },
      });
      assertInvalid(res, 'save_card');
      assert.deepEqual(await t.ledger.payments.history('u-plan-buyer', 10), before);
      const plain = await t.call({
        method: 'POST',
        url: '/api/payment/checkout',
        payload: { account: 'u-plan-buyer', package: 'plan_starter', save_card: false },
      });
      assert.equal(plain.statusCode, 200, plain.body);
    });

    it('save_card must be a boolean', async () => {
      assertInvalid(await checkout({ package: 'tokens_100', save_card: 'yes' }), 'save_card');
    });
  });

  describe('OpenAPI', () => {
    it('/openapi.json documents both routes under payments with their answer, and checkout’s save_card', async () => {
      const doc = (await t.call({ as: 'none', method: 'GET', url: '/openapi.json' })).json() as {
        paths: Record<string, Record<string, Record<string, unknown>>>;
      };
      const path = doc.paths[URL];
      assert.ok(path, 'the auto top-up path is documented');
      for (const method of ['get', 'put']) {
        const op = path[method] as {
          tags: string[];
          summary: string;
          responses: Record<string, { content: Record<string, { schema: { properties: Record<string, unknown> } }> }>;
        };
        assert.deepEqual(op.tags, ['payments']);
        assert.ok(op.summary.length > 0);
        const answer = op.responses['200']?.content['application/json']?.schema;
        assert.ok(answer?.properties.auto_topup, `${method} documents its answer`);
      }
      const put = path.put as { requestBody: { content: Record<string, { schema: { required: string[] } }> } };
      assert.deepEqual(put.requestBody.content['application/json']?.schema.required.sort(), [
        'enabled',
        'monthly_limit',
        'package',
        'threshold',
      ]);
      const checkoutOp = doc.paths['/api/payment/checkout']?.post as {
        requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> };
      };
      assert.ok(checkoutOp.requestBody.content['application/json']?.schema.properties.save_card);
    });
  });
});
