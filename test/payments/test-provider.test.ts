import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type PaymentApp, paymentApp } from './payment-helpers.ts';

describe('the offline test provider, end to end', () => {
  let t: PaymentApp;
  let token: string;
  before(async () => {
    t = await paymentApp();
    token = await t.userToken('u1');
  });
  after(() => t.close());

  const checkout = async (pkg: string) => {
    const r = await t.call({ method: 'POST', url: '/api/payment/checkout', payload: { package: pkg }, as: { token } });
    assert.equal(r.statusCode, 200, r.body);
    return r.json() as { checkout_id: string; url: string };
  };

  it('checkout, the page says it is a test payment, complete: the balance rises and history shows it', async () => {
    const before = (await t.ledger.getBalance('u1')).balance;
    const { checkout_id } = await checkout('tokens_500');
    const page = await t.call({ method: 'GET', url: `/pay/test/${checkout_id}`, as: 'none' });
    assert.equal(page.statusCode, 200);
    assert.match(page.body, /TEST PAYMENT/);
    assert.match(page.body, /No card is charged/);
    assert.match(page.body, /Complete test payment/);
    const done = await t.call({
      method: 'POST',
      url: `/pay/test/${checkout_id}/complete`,
      as: 'none',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: '',
    });
    assert.equal(done.statusCode, 303);
    assert.equal((await t.ledger.getBalance('u1')).balance, before + 500);
    // A second click (or a replayed form) changes nothing.
    await t.call({ method: 'POST', url: `/pay/test/${checkout_id}/complete`, as: 'none' });
    assert.equal((await t.ledger.getBalance('u1')).balance, before + 500);
    const history = (await t.call({ method: 'GET', url: '/api/payment/history', as: { token } })).json();
    const [latest] = history.payments;
    assert.equal(latest.checkout_id, checkout_id);
    assert.equal(latest.package, 'tokens_500');
    assert.equal(latest.package_name, '500 tokens');
    assert.equal(latest.status, 'paid');
    assert.equal(latest.provider, 'test');
    assert.equal(latest.amount, 2500);
    assert.match((await t.call({ method: 'GET', url: `/pay/test/${checkout_id}`, as: 'none' })).body, /paid/);
  });

  it('cancel marks the payment canceled and credits nothing', async () => {
    const before = (await t.ledger.getBalance('u1')).balance;
    const { checkout_id } = await checkout('tokens_100');
    const r = await t.call({ method: 'POST', url: `/pay/test/${checkout_id}/cancel`, as: 'none' });
    assert.equal(r.statusCode, 303);
    assert.equal((await t.ledger.getBalance('u1')).balance, before);
    const history = (await t.call({ method: 'GET', url: '/api/payment/history', as: { token } })).json();
    assert.equal(history.payments[0].status, 'canceled');
  });

  it('a plan bought with the test provider switches the plan and grants its first allocation once', async () => {
    const { checkout_id } = await checkout('plan_starter');
    await t.call({ method: 'POST', url: `/pay/test/${checkout_id}/complete`, as: 'none' });
    const view = await t.ledger.getBalance('u1');
    assert.equal(view.plan, 'starter');
    assert.equal(view.allocation, 1000 + 100);
  });

  it('an unknown test checkout is a 404; the portal lists the test card', async () => {
    assert.equal((await t.call({ method: 'GET', url: '/pay/test/test_cs_nope', as: 'none' })).statusCode, 404);
    const portal = await t.call({ method: 'GET', url: '/pay/test/portal', as: 'none' });
    assert.match(portal.body, /4242/);
  });
});

describe('the test provider is off unless enabled', () => {
  it('no /pay/test pages without demo mode or explicit config', async () => {
    const t = await paymentApp({ testProvider: false });
    try {
      assert.equal((await t.call({ method: 'GET', url: '/pay/test/portal', as: 'none' })).statusCode, 404);
    } finally {
      await t.close();
    }
  });
});
