import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { type TestApp, testApp } from './http-helpers.ts';

/** A 400 invalid_request whose message names `field` first, as every validation answer does. */
function assertInvalid(res: LightMyRequestResponse, field: string, what: string): void {
  assert.equal(res.statusCode, 400, `${what}: ${res.body}`);
  const body = res.json();
  assert.equal(body.code, 'invalid_request', what);
  assert.ok(String(body.error).startsWith(`${field}: `), `${what}: the error names ${field}: ${body.error}`);
}

const MALFORMED = ['X\uD800', 'X\uDC00', 'X\u0000', 'X\u001b', 'X\n', 'X\u007f', 'X\u0085', 'X\u009b'];

describe('well-formed text over HTTP', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp();
  });
  afterEach(() => t.close());

  it('regression (lone surrogates): a body field with a lone surrogate or a control character is 400 naming the field', async () => {
    for (const bad of MALFORMED) {
      const what = JSON.stringify(bad);
      const post = (url: string, payload: object, as: 'app' | 'admin' = 'app') =>
        t.call({ as, method: 'POST', url, payload });
      assertInvalid(await post('/api/tokens/deduct', { account: bad, feature: 'social_post' }), 'account', what);
      assertInvalid(
        await post('/api/tokens/deduct', { account: '7', feature: 'social_post', idempotency_key: bad }),
        'idempotency_key',
        what,
      );
      assertInvalid(
        await post('/api/tokens/reserve', { account: '7', amount: 1, idempotency_key: bad }),
        'idempotency_key',
        what,
      );
      assertInvalid(await post('/api/tokens/check', { account: bad, feature: 'social_post' }), 'account', what);
      assertInvalid(await post('/api/sessions', { account: bad }), 'account', what);
      assertInvalid(
        await post('/api/features/social_post/run', { account: '7', idempotency_key: bad }),
        'idempotency_key',
        what,
      );
      assertInvalid(await post('/api/admin/accounts/7/adjust', { amount: 1, reason: bad }, 'admin'), 'reason', what);
      assertInvalid(
        await post('/api/admin/accounts/7/adjust', { amount: 1, reason: 'r', idempotency_key: bad }, 'admin'),
        'idempotency_key',
        what,
      );
      const plan = await t.call({
        as: 'admin',
        method: 'PUT',
        url: '/api/admin/accounts/7/plan',
        payload: { plan: 'pro', reason: bad },
      });
      assertInvalid(plan, 'reason', what);
    }
    assert.equal((await t.ledger.getBalance('7')).exists, false);
    assert.deepEqual((await t.ledger.operator.listAccounts({})).accounts, []);
  });

  it('regression (lone surrogates): an Idempotency-Key header with a control character is 400 naming the header', async () => {
    // A header is read as Latin-1, so C1 controls (bytes 0x80 to 0x9f) arrive as such.
    for (const bad of ['k\u0085', 'k\u009b', 'k\u0080']) {
      for (const [url, payload] of [
        ['/api/tokens/deduct', { account: '7', feature: 'social_post' }],
        ['/api/tokens/reserve', { account: '7', amount: 1 }],
      ] as const) {
        const res = await t.call({ method: 'POST', url, headers: { 'idempotency-key': bad }, payload });
        assertInvalid(res, 'idempotency-key', `${url} ${JSON.stringify(bad)}`);
      }
      const adjust = await t.call({
        as: 'admin',
        method: 'POST',
        url: '/api/admin/accounts/7/adjust',
        headers: { 'idempotency-key': bad },
        payload: { amount: 1, reason: 'r' },
      });
      assertInvalid(adjust, 'idempotency-key', `adjust ${JSON.stringify(bad)}`);
    }
    assert.equal((await t.ledger.getBalance('7')).exists, false);
  });

  it('regression (lone surrogates): an account in a query string or a path with a control character is 400', async () => {
    for (const encoded of ['X%00', 'X%1B', 'X%0A', 'X%7F', 'X%C2%85']) {
      const balance = await t.call({ method: 'GET', url: `/api/tokens/balance?account=${encoded}` });
      assertInvalid(balance, 'account', encoded);
      const history = await t.call({ method: 'GET', url: `/api/tokens/history?account=${encoded}` });
      assertInvalid(history, 'account', encoded);
      const detail = await t.call({ as: 'admin', method: 'GET', url: `/api/admin/accounts/${encoded}` });
      assertInvalid(detail, 'id', encoded);
      const ledger = await t.call({ as: 'admin', method: 'GET', url: `/api/admin/ledger?account=${encoded}` });
      assertInvalid(ledger, 'account', encoded);
    }
  });

  it('regression (lone surrogates): no session is issued for X\\uD800, so nobody reads or spends X\\uFFFD through it', async () => {
    await t.ledger.credit({ account: 'X\uFFFD', tokens: 50, source: 't', reference: 'fffd' });
    assertInvalid(
      await t.call({ method: 'POST', url: '/api/sessions', payload: { account: 'X\uD800' } }),
      'account',
      'session',
    );
    const read = await t.call({ method: 'GET', url: `/api/tokens/balance?account=${encodeURIComponent('X\uFFFD')}` });
    assert.equal(read.json().balance, 150);
    assertInvalid(
      await t.call({
        method: 'POST',
        url: '/api/tokens/deduct',
        payload: { account: 'X\uD800', feature: 'business_collector' },
      }),
      'account',
      'deduct',
    );
    assert.equal((await t.ledger.getBalance('X\uFFFD')).balance, 150);
  });

  describe('the maximum key length (255 characters) on every route that takes a key', () => {
    const astral = (n: number) => '😀'.repeat(n);
    const routes = [
      ['deduct', 'app', '/api/tokens/deduct', { account: '7', feature: 'social_post' }],
      ['reserve', 'app', '/api/tokens/reserve', { account: '7', amount: 1 }],
      ['adjust', 'admin', '/api/admin/accounts/7/adjust', { amount: 1, reason: 'r' }],
    ] as const;

    for (const [name, as, url, payload] of routes) {
      it(`${name}: 255 characters (astral ones too, as a body field) and 255 in the header are accepted; 256 is 400`, async () => {
        const body = await t.call({ as, method: 'POST', url, payload: { ...payload, idempotency_key: astral(255) } });
        assert.equal(body.statusCode, 200, body.body);
        const header = await t.call({
          as,
          method: 'POST',
          url,
          headers: { 'idempotency-key': 'h'.repeat(255) },
          payload,
        });
        assert.equal(header.statusCode, 200, header.body);
        assertInvalid(
          await t.call({ as, method: 'POST', url, payload: { ...payload, idempotency_key: astral(256) } }),
          'idempotency_key',
          name,
        );
        assertInvalid(
          await t.call({ as, method: 'POST', url, headers: { 'idempotency-key': 'h'.repeat(256) }, payload }),
          'idempotency-key',
          name,
        );
      });
    }
  });
});
