// Regression (item 12): 30 bad tokens from one address made valid app and admin keys from that
// address get 429 for a minute, and behind TOKENMETER_TRUST_PROXY=true an attacker chose the
// victim's address with X-Forwarded-For. Now the credential is decided first (a valid one is
// never refused for others' failures) and X-Forwarded-For is read only from configured proxies.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { httpOptionsFromEnv } from '../../src/http/http-env.ts';
import { ADMIN_KEY, APP_KEY, type TestApp, testApp } from './http-helpers.ts';

const LIMITS = { authFailuresPerMinute: 30, userPerMinute: 600, appKeyPerMinute: null };
const BAD = 'tm_app_wrong_0000000000000000000000';

function balance(t: TestApp, credential: string, remoteAddress: string, headers: Record<string, string> = {}) {
  return t.call({
    as: 'none',
    method: 'GET',
    url: '/api/tokens/balance?account=7',
    remoteAddress,
    headers: { authorization: `Bearer ${credential}`, ...headers },
  });
}

describe('failed authentications', () => {
  it('regression: 30 bad tokens from one address do not lock out valid app, admin and user credentials from it', async () => {
    const t = await testApp({ rateLimits: LIMITS });
    try {
      const from = '198.51.100.7';
      for (let i = 0; i < 30; i++) assert.equal((await balance(t, BAD, from)).statusCode, 401);
      assert.equal((await balance(t, BAD, from)).statusCode, 429, 'bad attempts beyond the limit are refused');
      assert.equal((await balance(t, APP_KEY, from)).statusCode, 200, 'the app key still works');
      const admin = await t.call({
        as: 'none',
        method: 'GET',
        url: '/api/admin/stats',
        remoteAddress: from,
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      assert.notEqual(admin.statusCode, 429, 'the admin key still works');
      assert.notEqual(admin.statusCode, 401);
      const user = await t.userToken('7');
      assert.equal((await balance(t, user, from)).statusCode, 200, 'a user token still works');
      assert.equal((await balance(t, BAD, from)).statusCode, 429);
    } finally {
      await t.close();
    }
  });

  it('regression: behind TOKENMETER_TRUST_PROXY=true a client cannot charge its failures to an address it names', async () => {
    const t = await testApp({ ...httpOptionsFromEnv({ TOKENMETER_TRUST_PROXY: 'true' }, false), rateLimits: LIMITS });
    try {
      const victim = '198.51.100.7';
      const attacker = '203.0.113.9';
      for (let i = 0; i < 40; i++) await balance(t, BAD, attacker, { 'x-forwarded-for': victim });
      // The victim, through the proxy on this host, still gets 401 for a typo and 200 with its key.
      assert.equal((await balance(t, BAD, '127.0.0.1', { 'x-forwarded-for': victim })).statusCode, 401);
      assert.equal((await balance(t, APP_KEY, '127.0.0.1', { 'x-forwarded-for': victim })).statusCode, 200);
      // The attacker's failures were counted against its own address.
      assert.equal((await balance(t, BAD, attacker)).statusCode, 429);
    } finally {
      await t.close();
    }
  });

  it('property: whatever failures came before, a request with a valid credential is answered as if none had', async () => {
    const t = await testApp({ rateLimits: { ...LIMITS, authFailuresPerMinute: 3 } });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.record({ from: fc.constantFrom('10.0.0.1', '10.0.0.2'), valid: fc.boolean() }), {
            maxLength: 30,
          }),
          async (calls) => {
            for (const c of calls) {
              const status = (await balance(t, c.valid ? APP_KEY : BAD, c.from)).statusCode;
              if (c.valid) assert.equal(status, 200);
              else assert.ok(status === 401 || status === 429);
            }
          },
        ),
        { numRuns: 40 },
      );
    } finally {
      await t.close();
    }
  });
});

describe('TOKENMETER_TRUST_PROXY', () => {
  it('true trusts only a proxy on this host (loopback); addresses and ranges are listed', () => {
    const loopback = httpOptionsFromEnv({ TOKENMETER_TRUST_PROXY: 'true' }, false);
    assert.equal(loopback.trustProxy, 'loopback');
    const listed = httpOptionsFromEnv({ TOKENMETER_TRUST_PROXY: '10.0.0.1, 10.1.0.0/16,fd00::/8' }, false);
    assert.equal(listed.trustProxy, '10.0.0.1,10.1.0.0/16,fd00::/8');
    assert.equal(httpOptionsFromEnv({ TOKENMETER_TRUST_PROXY: 'false' }, false).trustProxy, false);
    assert.throws(
      () => httpOptionsFromEnv({ TOKENMETER_TRUST_PROXY: 'everyone' }, false),
      /TOKENMETER_TRUST_PROXY.*everyone/,
    );
    assert.throws(() => httpOptionsFromEnv({ TOKENMETER_TRUST_PROXY: '10.0.0.0/40' }, false), /TOKENMETER_TRUST_PROXY/);
  });

  it('X-Forwarded-For is read from a listed proxy and ignored from anyone else', async () => {
    const t = await testApp({ rateLimits: { ...LIMITS, authFailuresPerMinute: 1 }, trustProxy: '10.0.0.1' });
    try {
      // Through the proxy, each forwarded address is its own client.
      assert.equal((await balance(t, BAD, '10.0.0.1', { 'x-forwarded-for': '1.1.1.1' })).statusCode, 401);
      assert.equal((await balance(t, BAD, '10.0.0.1', { 'x-forwarded-for': '2.2.2.2' })).statusCode, 401);
      // From elsewhere the header is ignored: one client, over its limit on the second failure.
      assert.equal((await balance(t, BAD, '10.9.9.9', { 'x-forwarded-for': '3.3.3.3' })).statusCode, 401);
      assert.equal((await balance(t, BAD, '10.9.9.9', { 'x-forwarded-for': '4.4.4.4' })).statusCode, 429);
    } finally {
      await t.close();
    }
  });
});
