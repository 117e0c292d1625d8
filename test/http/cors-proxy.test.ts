import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { httpOptionsFromEnv } from '../../src/http/http-env.ts';
import { testApp } from './http-helpers.ts';

describe('CORS and proxies', () => {
  it('CORS is off by default: no Access-Control-Allow-Origin for any origin', async () => {
    const t = await testApp();
    try {
      const res = await t.call({
        method: 'GET',
        url: '/api/tokens/balance?account=7',
        headers: { origin: 'https://app.example.com' },
      });
      assert.equal(res.headers['access-control-allow-origin'], undefined);
    } finally {
      await t.close();
    }
  });

  it('listed origins may call with a user token (preflight and request); others may not', async () => {
    const t = await testApp({ corsOrigins: ['https://app.example.com'] });
    try {
      const preflight = await t.call({
        as: 'none',
        method: 'OPTIONS',
        url: '/api/tokens/balance',
        headers: {
          origin: 'https://app.example.com',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
      assert.equal(preflight.statusCode, 204);
      assert.equal(preflight.headers['access-control-allow-origin'], 'https://app.example.com');
      assert.match(String(preflight.headers['access-control-allow-headers']), /Authorization/i);
      const token = await t.userToken('alice');
      const ok = await t.call({
        as: { token },
        method: 'GET',
        url: '/api/tokens/balance',
        headers: { origin: 'https://app.example.com' },
      });
      assert.equal(ok.headers['access-control-allow-origin'], 'https://app.example.com');
      const other = await t.call({
        as: { token },
        method: 'GET',
        url: '/api/tokens/balance',
        headers: { origin: 'https://evil.example' },
      });
      assert.equal(other.headers['access-control-allow-origin'], undefined);
    } finally {
      await t.close();
    }
  });

  it('the client address comes from X-Forwarded-For only when TOKENMETER_TRUST_PROXY says so', async () => {
    const limits = { authFailuresPerMinute: 2, userPerMinute: 600, appKeyPerMinute: null };
    const fail = (t: Awaited<ReturnType<typeof testApp>>, ip: string) =>
      t.call({
        as: { token: 'tm_app_wrong_00000000000000000' },
        method: 'GET',
        url: '/api/tokens/balance?account=7',
        headers: { 'x-forwarded-for': ip },
      });
    const direct = await testApp({ rateLimits: limits });
    try {
      // Without trust, every forwarded address is the same (the proxy's) client: the third failure is limited.
      assert.deepEqual(
        [
          (await fail(direct, '1.1.1.1')).statusCode,
          (await fail(direct, '2.2.2.2')).statusCode,
          (await fail(direct, '3.3.3.3')).statusCode,
        ],
        [401, 401, 429],
      );
    } finally {
      await direct.close();
    }
    const proxied = await testApp({ rateLimits: limits, trustProxy: true });
    try {
      assert.deepEqual(
        [
          (await fail(proxied, '1.1.1.1')).statusCode,
          (await fail(proxied, '2.2.2.2')).statusCode,
          (await fail(proxied, '3.3.3.3')).statusCode,
        ],
        [401, 401, 401],
      );
    } finally {
      await proxied.close();
    }
  });

  it('app keys run unlimited by default, and are limited only when a per-key limit is configured', async () => {
    const free = await testApp();
    try {
      for (let i = 0; i < 700; i++) {
        assert.equal((await free.call({ method: 'GET', url: '/api/tokens/balance?account=7' })).statusCode, 200);
      }
    } finally {
      await free.close();
    }
    const limited = await testApp({
      rateLimits: { authFailuresPerMinute: 30, userPerMinute: 600, appKeyPerMinute: 2 },
    });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++)
        statuses.push((await limited.call({ method: 'GET', url: '/api/tokens/balance?account=7' })).statusCode);
      assert.deepEqual(statuses, [200, 200, 429]);
    } finally {
      await limited.close();
    }
  });

  it('reads the options from the environment and rejects a malformed origin', () => {
    const o = httpOptionsFromEnv(
      {
        TOKENMETER_CORS_ORIGINS: 'https://a.example, http://localhost:5173',
        TOKENMETER_TRUST_PROXY: 'true',
        TOKENMETER_RATE_LIMIT_APP_KEY: '100',
      },
      false,
    );
    assert.deepEqual(o.corsOrigins, ['https://a.example', 'http://localhost:5173']);
    assert.equal(o.trustProxy, 'loopback', 'true means a proxy on this host, not every peer');
    assert.equal(o.rateLimits.appKeyPerMinute, 100);
    assert.throws(
      () => httpOptionsFromEnv({ TOKENMETER_CORS_ORIGINS: 'a.example/path' }, false),
      /TOKENMETER_CORS_ORIGINS/,
    );
  });
});
