import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type PaymentApp, paymentApp, stripeEvent } from './payment-helpers.ts';

// The seed's rule: the payment system always works, whatever the balance.
for (const situation of ['at balance 0', 'at a negative balance'] as const) {
  describe(`payment routes ${situation}`, () => {
    let t: PaymentApp;
    let token: string;
    before(async () => {
      t = await paymentApp();
      const delta = situation === 'at balance 0' ? -100 : -130;
      await t.ledger.adjust({ account: 'u1', amount: delta, reason: 'set up', actor: 'test' });
      assert.equal((await t.ledger.getBalance('u1')).balance, delta + 100);
      token = await t.userToken('u1');
    });
    after(() => t.close());

    it('deduct is refused with 402 for the same account', async () => {
      const r = await t.call({
        method: 'POST',
        url: '/api/tokens/deduct',
        payload: { account: 'u1', feature: 'social_post' },
      });
      assert.equal(r.statusCode, 402);
    });

    it('GET /api/payment/packages answers 2xx', async () => {
      const r = await t.call({ method: 'GET', url: '/api/payment/packages', as: { token } });
      assert.equal(r.statusCode, 200);
      const body = r.json();
      assert.equal(body.success, true);
      assert.deepEqual(body.packages[0], {
        id: 'tokens_100',
        name: '100 tokens',
        kind: 'topup',
        tokens: 100,
        price_cents: 500,
        currency: 'usd',
        expires_in_days: null,
      });
    });

    it('POST /api/payment/checkout answers 2xx', async () => {
      const r = await t.call({
        method: 'POST',
        url: '/api/payment/checkout',
        payload: { package: 'tokens_500' },
        as: { token },
      });
      assert.equal(r.statusCode, 200, r.body);
      const body = r.json();
      assert.match(body.checkout_id, /^test_cs_/);
      assert.equal(body.url, `http://billing.example/pay/test/${body.checkout_id}`);
    });

    it('GET /api/payment/history answers 2xx', async () => {
      const r = await t.call({ method: 'GET', url: '/api/payment/history', as: { token } });
      assert.equal(r.statusCode, 200);
      assert.equal(r.json().success, true);
    });

    it('POST /api/payment/portal answers 2xx', async () => {
      const r = await t.call({ method: 'POST', url: '/api/payment/portal', payload: {}, as: { token } });
      assert.equal(r.statusCode, 200, r.body);
      assert.equal(r.json().url, 'http://billing.example/pay/test/portal');
    });

    it('POST /api/payment/webhook/stripe answers 2xx to a signed event', async () => {
      const r = await t.webhook(stripeEvent('customer.created', { id: 'cus_1', object: 'customer' }));
      assert.equal(r.statusCode, 200, r.body);
    });
  });
}

describe('payment routes: access', () => {
  let t: PaymentApp;
  before(async () => {
    t = await paymentApp();
  });
  after(() => t.close());

  it('a user token acts on its own account only; an app key names any account', async () => {
    const token = await t.userToken('u1');
    const other = await t.call({ method: 'GET', url: '/api/payment/history?account=u2', as: { token } });
    assert.equal(other.statusCode, 403);
    const app = await t.call({
      method: 'POST',
      url: '/api/payment/checkout',
      payload: { account: 'u2', package: 'tokens_100' },
    });
    assert.equal(app.statusCode, 200);
    const history = await t.call({ method: 'GET', url: '/api/payment/history?account=u2' });
    assert.equal(history.json().payments.length, 1);
    assert.equal(history.json().payments[0].status, 'pending');
  });

  it('no credentials: 401; unknown package: 400; unknown fields: 400', async () => {
    assert.equal((await t.call({ method: 'GET', url: '/api/payment/packages', as: 'none' })).statusCode, 401);
    const unknown = await t.call({
      method: 'POST',
      url: '/api/payment/checkout',
      payload: { account: 'u1', package: 'nope' },
    });
    assert.equal(unknown.statusCode, 400);
    assert.equal(unknown.json().code, 'invalid_request');
    const extra = await t.call({
      method: 'POST',
      url: '/api/payment/checkout',
      payload: { account: 'u1', package: 'tokens_100', price: 1 },
    });
    assert.equal(extra.statusCode, 400);
  });
});
