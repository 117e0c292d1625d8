import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type TestApp, testApp } from './http-helpers.ts';

describe('group commit behind the HTTP API', () => {
  let t: TestApp;
  before(async () => {
    t = await testApp();
  });
  after(() => t.close());

  it('concurrent POST /api/tokens/deduct share batches; each gets its own answer, 402 past the balance', async () => {
    const responses = await Promise.all(
      Array.from({ length: 130 }, (_, i) =>
        t.call({
          method: 'POST',
          url: '/api/tokens/deduct',
          headers: { 'idempotency-key': `call-${i % 120}` },
          payload: { account: 'gc', feature: 'outbound_call_single' },
        }),
      ),
    );
    const charged = responses.filter((r) => r.statusCode === 200 && r.json().replayed === false);
    const replayed = responses.filter((r) => r.statusCode === 200 && r.json().replayed === true);
    const refused = responses.filter((r) => r.statusCode === 402);
    // 120 distinct keys on 100 tokens: 100 charged, 20 refused; the 10 repeats replay a charged
    // answer or, when their first was refused, are refused too. Nothing else.
    assert.equal(charged.length, 100);
    assert.equal(charged.length + replayed.length + refused.length, 130);
    assert.equal(new Set(charged.map((r) => r.json().balance)).size, 100);
    for (const r of refused) assert.equal(r.json().code, 'insufficient_tokens');
    const balance = (await t.call({ method: 'GET', url: '/api/tokens/balance?account=gc' })).json();
    assert.equal(balance.balance, 0);
    assert.equal(balance.features_disabled, true);

    const metrics = (await t.call({ method: 'GET', url: '/metrics', as: 'admin' })).body;
    const largest = Number(/^tokenmeter_group_commit_largest_batch (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(largest > 1, `largest batch ${largest}`);
    assert.deepEqual((await t.ledger.reconcile()).drift, []);
  });
});
