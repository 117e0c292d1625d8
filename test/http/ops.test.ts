import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestApp, testApp } from './http-helpers.ts';

describe('operations endpoints', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp();
  });
  afterEach(() => t.close());

  it('healthz and readyz answer without credentials', async () => {
    assert.equal((await t.call({ as: 'none', method: 'GET', url: '/healthz' })).statusCode, 200);
    const ready = await t.call({ as: 'none', method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200);
  });

  it('readyz is 503 unavailable once the store is gone', async () => {
    await t.ledger.store.close();
    const res = await t.call({ as: 'none', method: 'GET', url: '/readyz' });
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().code, 'unavailable');
  });

  it('metrics count deductions, refusals and tokens charged by feature', async () => {
    await t.call({
      method: 'POST',
      url: '/api/tokens/deduct',
      payload: { account: 'a', feature: 'crm_ai_agent', quantity: 3 },
    });
    await t.call({
      method: 'POST',
      url: '/api/tokens/deduct',
      payload: { account: 'a', feature: 'business_collector', quantity: 100 },
    });
    const text = (await t.call({ as: 'none', method: 'GET', url: '/metrics' })).body;
    assert.match(text, /tokenmeter_deductions_total\{feature="crm_ai_agent",outcome="charged"\} 1/);
    assert.match(text, /tokenmeter_deductions_total\{feature="business_collector",outcome="refused"\} 1/);
    assert.match(text, /tokenmeter_tokens_charged_total\{feature="crm_ai_agent"\} 6/);
    assert.match(text, /tokenmeter_http_request_duration_seconds_bucket/);
  });

  it('serves an OpenAPI 3 document generated from the route schemas, and the docs page', async () => {
    const doc = (await t.call({ as: 'none', method: 'GET', url: '/openapi.json' })).json();
    assert.match(doc.openapi, /^3\./);
    const deduct = doc.paths['/api/tokens/deduct'].post;
    assert.deepEqual(deduct.requestBody.content['application/json'].schema.required, ['account', 'feature']);
    assert.equal(deduct.requestBody.content['application/json'].schema.additionalProperties, false);
    assert.ok(doc.paths['/api/admin/accounts/{id}/adjust']);
    const docs = await t.call({ as: 'none', method: 'GET', url: '/docs/' });
    assert.equal(docs.statusCode, 200);
    assert.match(docs.body, /swagger/i);
  });

  it('demo routes exist only in demo mode', async () => {
    assert.equal((await t.call({ as: 'none', method: 'GET', url: '/demo/login?account=7' })).statusCode, 404);
    const demo = await testApp({ demo: true });
    try {
      const res = await demo.call({ as: 'none', method: 'GET', url: '/demo/login?account=7' });
      assert.equal(res.statusCode, 303);
      assert.match(String(res.headers['set-cookie']), /tm_session=/);
    } finally {
      await demo.close();
    }
  });
});
