// Regression (issue 19): after completing (or canceling) a test payment the browser stayed on
// /pay/test/<id> instead of returning to the billing page, as Stripe's Checkout does.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type PaymentApp, paymentApp } from '../payments/payment-helpers.ts';

describe('test payments return to billing', () => {
  let t: PaymentApp;
  let token: string;
  before(async () => {
    t = await paymentApp();
    token = await t.userToken('u-return');
  });
  after(() => t.close());

  const checkout = async (pkg: string): Promise<string> => {
    const r = await t.call({ method: 'POST', url: '/api/payment/checkout', payload: { package: pkg }, as: { token } });
    assert.equal(r.statusCode, 200, r.body);
    return (r.json() as { checkout_id: string }).checkout_id;
  };
  const form = { 'content-type': 'application/x-www-form-urlencoded' };

  it('regression: completing a test payment redirects to /billing?payment=success, as Stripe’s success URL does', async () => {
    const id = await checkout('tokens_100');
    const done = await t.call({
      method: 'POST',
      url: `/pay/test/${id}/complete`,
      as: 'none',
      headers: form,
      payload: '',
    });
    assert.equal(done.statusCode, 303);
    assert.equal(done.headers.location, '/billing?payment=success');
    // A repeat (back button, a second click) changes nothing and lands on billing too.
    const again = await t.call({
      method: 'POST',
      url: `/pay/test/${id}/complete`,
      as: 'none',
      headers: form,
      payload: '',
    });
    assert.equal(again.headers.location, '/billing?payment=success');
    assert.equal((await t.ledger.getBalance('u-return')).purchased, 100);
  });

  it('canceling returns to /billing?payment=canceled', async () => {
    const id = await checkout('tokens_100');
    const canceled = await t.call({
      method: 'POST',
      url: `/pay/test/${id}/cancel`,
      as: 'none',
      headers: form,
      payload: '',
    });
    assert.equal(canceled.statusCode, 303);
    assert.equal(canceled.headers.location, '/billing?payment=canceled');
  });
});
