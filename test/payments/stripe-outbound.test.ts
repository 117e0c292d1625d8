import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type PaymentApp, paymentApp } from './payment-helpers.ts';

interface Recorded {
  method: string;
  path: string;
  params: URLSearchParams;
  authorization: string | undefined;
  idempotencyKey: string | undefined;
}

/** A local stand-in for api.stripe.com that records what the SDK sends. */
function stripeStandIn(recorded: Recorded[]): Server {
  let sessions = 0;
  return createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      const key = req.headers['idempotency-key'];
      recorded.push({
        method: req.method ?? '',
        path,
        params: new URLSearchParams(body),
        authorization: req.headers.authorization,
        idempotencyKey: typeof key === 'string' ? key : undefined,
      });
      const reply = (status: number, json: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': 'req_standin' });
        res.end(JSON.stringify(json));
      };
      if (req.method === 'POST' && path === '/v1/customers')
        return reply(200, { id: 'cus_standin', object: 'customer' });
      if (req.method === 'POST' && path === '/v1/checkout/sessions') {
        const id = `cs_test_standin_${++sessions}`;
        return reply(200, { id, object: 'checkout.session', url: `https://checkout.stripe.com/c/pay/${id}` });
      }
      if (req.method === 'POST' && path === '/v1/billing_portal/sessions') {
        return reply(200, {
          id: 'bps_1',
          object: 'billing_portal.session',
          url: 'https://billing.stripe.com/p/session/x',
        });
      }
      return reply(404, { error: { type: 'invalid_request_error', message: `no stand-in for ${path}` } });
    });
  });
}

describe('outbound calls to Stripe (through the SDK, against a local stand-in)', () => {
  const recorded: Recorded[] = [];
  let server: Server;
  let t: PaymentApp;
  before(async () => {
    server = stripeStandIn(recorded);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    t = await paymentApp({ testProvider: false, stripeApi: { host: '127.0.0.1', port } });
  });
  after(async () => {
    await t.close();
    await new Promise((resolve) => server.close(resolve));
  });

  it('a top-up checkout creates the customer once and a payment-mode session with tokenmeter metadata', async () => {
    const r = await t.call({
      method: 'POST',
      url: '/api/payment/checkout',
      payload: { account: 'u1', package: 'tokens_100' },
    });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().checkout_id, 'cs_test_standin_1');
    assert.equal(r.json().url, 'https://checkout.stripe.com/c/pay/cs_test_standin_1');
    const [customer, session] = recorded;
    assert.equal(customer?.path, '/v1/customers');
    assert.equal(customer?.params.get('metadata[tokenmeter_account]'), 'u1');
    assert.equal(customer?.authorization, 'Bearer sk_test_tokenmeter');
    assert.equal(customer?.idempotencyKey, 'tokenmeter-customer-u1');
    assert.equal(session?.path, '/v1/checkout/sessions');
    const p = session?.params;
    assert.equal(p?.get('mode'), 'payment');
    assert.equal(p?.get('customer'), 'cus_standin');
    assert.equal(p?.get('client_reference_id'), 'u1');
    assert.equal(p?.get('metadata[tokenmeter_account]'), 'u1');
    assert.equal(p?.get('metadata[tokenmeter_package]'), 'tokens_100');
    assert.equal(p?.get('payment_intent_data[metadata][tokenmeter_package]'), 'tokens_100');
    assert.equal(p?.get('line_items[0][price_data][unit_amount]'), '500');
    assert.equal(p?.get('line_items[0][price_data][currency]'), 'usd');
    assert.equal(p?.get('line_items[0][quantity]'), '1');
    assert.equal(p?.get('success_url'), 'http://billing.example/billing?payment=success');
    const history = (await t.call({ method: 'GET', url: '/api/payment/history?account=u1' })).json();
    assert.equal(history.payments[0].status, 'pending');
    assert.equal(history.payments[0].provider, 'stripe');
  });

  it('a plan checkout reuses the remembered customer and opens a subscription-mode session', async () => {
    recorded.length = 0;
    const r = await t.call({
      method: 'POST',
      url: '/api/payment/checkout',
      payload: { account: 'u1', package: 'plan_starter' },
    });
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(
      recorded.map((c) => c.path),
      ['/v1/checkout/sessions'],
    );
    const p = recorded[0]?.params;
    assert.equal(p?.get('mode'), 'subscription');
    assert.equal(p?.get('customer'), 'cus_standin');
    assert.equal(p?.get('subscription_data[metadata][tokenmeter_account]'), 'u1');
    assert.equal(p?.get('subscription_data[metadata][tokenmeter_package]'), 'plan_starter');
    assert.equal(p?.get('line_items[0][price_data][recurring][interval]'), 'month');
    assert.equal(p?.get('line_items[0][price_data][unit_amount]'), '4900');
  });

  it('a provider that cannot be reached is a 503 and records no payment', async () => {
    const down = await paymentApp({ testProvider: false, stripeApi: { host: '127.0.0.1', port: 9 } });
    try {
      const r = await down.call({
        method: 'POST',
        url: '/api/payment/checkout',
        payload: { account: 'u9', package: 'tokens_100' },
      });
      assert.equal(r.statusCode, 503);
      assert.equal(r.json().code, 'unavailable');
      assert.equal((await down.ledger.payments.history('u9')).length, 0);
    } finally {
      await down.close();
    }
  });

  it('the portal opens a billing portal session for the account’s customer', async () => {
    recorded.length = 0;
    const r = await t.call({ method: 'POST', url: '/api/payment/portal', payload: { account: 'u1' } });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().url, 'https://billing.stripe.com/p/session/x');
    assert.equal(recorded[0]?.path, '/v1/billing_portal/sessions');
    assert.equal(recorded[0]?.params.get('customer'), 'cus_standin');
    assert.equal(recorded[0]?.params.get('return_url'), 'http://billing.example/billing');
  });
});
