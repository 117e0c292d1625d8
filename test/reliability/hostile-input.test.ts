// Property: whatever a client sends, the service answers 4xx with a clear error, never 5xx, and a
// refused request leaves the ledger exactly as it was. HOSTILE_RUNS raises the count for long runs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { type TestApp, testApp } from '../http/http-helpers.ts';

const RUNS = Number(process.env.HOSTILE_RUNS ?? 400);

const weirdString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '7',
    'x'.repeat(129),
    'ü'.repeat(128),
    '\u0000',
    'X\u0085',
    '../../etc/passwd',
    "'; DROP TABLE accounts; --",
    '__proto__',
    'constructor',
  ),
);
const weirdNumber = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 1.5, 1e21, -1e21, Number.MAX_SAFE_INTEGER + 2, 2 ** 63, 1_000_001, 1_000_000_001),
);
const weirdValue = fc.oneof(weirdString, weirdNumber, fc.boolean(), fc.constant(null), fc.jsonValue({ maxDepth: 2 }));
const bodyArb = fc.oneof(
  fc.dictionary(
    fc.constantFrom(
      'account',
      'feature',
      'quantity',
      'amount',
      'balance',
      'reason',
      'idempotency_key',
      'ttl_seconds',
      'plan',
      'expected_balance',
      'input',
      'extra',
      '__proto__',
    ),
    weirdValue,
    { maxKeys: 6 },
  ),
  weirdValue,
);

const routes: {
  method: 'GET' | 'POST' | 'PUT';
  url: (seg: string) => string;
  as: 'app' | 'admin' | 'user' | 'none';
}[] = [
  { method: 'GET', url: (q) => `/api/tokens/balance?account=${q}`, as: 'app' },
  { method: 'POST', url: () => '/api/tokens/check', as: 'app' },
  { method: 'POST', url: () => '/api/tokens/deduct', as: 'app' },
  { method: 'POST', url: () => '/api/tokens/reserve', as: 'app' },
  { method: 'POST', url: (s) => `/api/tokens/holds/${s}/commit`, as: 'app' },
  { method: 'POST', url: (s) => `/api/tokens/holds/${s}/release`, as: 'app' },
  { method: 'GET', url: (q) => `/api/tokens/history?account=${q}&limit=${q}&cursor=${q}`, as: 'app' },
  { method: 'POST', url: (s) => `/api/features/${s}/run`, as: 'user' },
  { method: 'POST', url: () => '/api/sessions', as: 'app' },
  { method: 'GET', url: (q) => `/api/admin/accounts?query=${q}&cursor=${q}`, as: 'admin' },
  { method: 'POST', url: (s) => `/api/admin/accounts/${s}/adjust`, as: 'admin' },
  { method: 'PUT', url: (s) => `/api/admin/accounts/${s}/plan`, as: 'admin' },
  { method: 'GET', url: (q) => `/api/admin/ledger?kind=${q}&from=${q}&to=${q}`, as: 'admin' },
  { method: 'GET', url: (q) => `/api/admin/stats?from=${q}&to=${q}`, as: 'admin' },
  { method: 'GET', url: (s) => `/api/admin/accounts/${s}/balance-series?from=${s}`, as: 'admin' },
  { method: 'GET', url: (q) => `/session/start?token=${q}&next=${q}`, as: 'none' },
];

describe('hostile input (fast-check)', () => {
  let t: TestApp;
  let token: string;
  before(async () => {
    t = await testApp({ rateLimits: { authFailuresPerMinute: 1e9, userPerMinute: 1e9, appKeyPerMinute: null } });
    token = await t.userToken('victim');
    await t.ledger.deduct({ account: 'victim', feature: 'social_post' });
  });
  after(() => t.close());

  const entryCount = async () => (await t.ledger.operator.ledger({ limit: 1000 })).entries.length;

  it(`${RUNS} generated requests: never a 5xx, and a refused request changes nothing`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: routes.length - 1 }),
        weirdString,
        bodyArb,
        fc.constantFrom(
          'application/json',
          'application/json; charset=utf-8',
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          '',
        ),
        fc.oneof(
          fc.constant(null),
          fc.string({ maxLength: 30 }),
          fc.constant('{"account":'),
          fc.constant('x'.repeat(70_000)),
        ),
        async (index, segment, body, contentType, rawPayload) => {
          const route = routes[index];
          if (!route) return;
          const url = route.url(encodeURIComponent(segment));
          const headers: Record<string, string> = {};
          if (contentType) headers['content-type'] = contentType;
          const payload = route.method === 'GET' ? undefined : (rawPayload ?? JSON.stringify(body));
          const before = await entryCount();
          const as = route.as === 'user' ? { token } : route.as;
          const res = await t.call({
            as,
            method: route.method,
            url,
            headers,
            ...(payload === undefined ? {} : { payload }),
          });
          assert.ok(res.statusCode < 500, `${route.method} ${url} -> ${res.statusCode} ${res.body.slice(0, 300)}`);
          if (res.statusCode >= 400) {
            const json = res.json() as { success?: unknown; code?: unknown; error?: unknown };
            assert.equal(json.success, false);
            assert.equal(typeof json.code, 'string');
            assert.equal(typeof json.error, 'string');
            assert.doesNotMatch(String(json.error), /\bat .+\.ts:\d+|SQLITE|syntax error at|node_modules/);
            assert.equal(await entryCount(), before, `${route.method} ${url} was refused but changed the ledger`);
          }
        },
      ),
      { numRuns: RUNS },
    );
    assert.deepEqual((await t.ledger.reconcile()).drift, []);
  });

  // A lone surrogate or a control character anywhere in a text the ledger stores or matches on.
  const badChar = fc.oneof(
    fc.integer({ min: 0xd800, max: 0xdfff }),
    fc.integer({ min: 0x00, max: 0x1f }),
    fc.integer({ min: 0x7f, max: 0x9f }),
  );
  const poisoned = fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), badChar, fc.nat()).map(([text, code, at]) => {
    const clean = text.replace(/[\p{Cc}\p{Cs}]/gu, 'x');
    const i = at % (clean.length + 1);
    return `${clean.slice(0, i)}${String.fromCharCode(code)}${clean.slice(i)}`;
  });
  const requests: { field: string; send: (bad: string) => Parameters<TestApp['call']>[0] }[] = [
    {
      field: 'account',
      send: (bad) => ({ method: 'POST', url: '/api/tokens/deduct', payload: { account: bad, feature: 'social_post' } }),
    },
    {
      field: 'idempotency_key',
      send: (bad) => ({
        method: 'POST',
        url: '/api/tokens/deduct',
        payload: { account: 'victim', feature: 'social_post', idempotency_key: bad },
      }),
    },
    {
      field: 'idempotency_key',
      send: (bad) => ({
        method: 'POST',
        url: '/api/tokens/reserve',
        payload: { account: 'victim', amount: 1, idempotency_key: bad },
      }),
    },
    { field: 'account', send: (bad) => ({ method: 'POST', url: '/api/sessions', payload: { account: bad } }) },
    {
      field: 'reason',
      send: (bad) => ({
        as: 'admin',
        method: 'POST',
        url: '/api/admin/accounts/victim/adjust',
        payload: { amount: 1, reason: bad },
      }),
    },
    {
      field: 'idempotency_key',
      send: (bad) => ({
        as: 'admin',
        method: 'POST',
        url: '/api/admin/accounts/victim/adjust',
        payload: { amount: 1, reason: 'r', idempotency_key: bad },
      }),
    },
  ];

  it(`regression (lone surrogates): ${RUNS} texts with a lone surrogate or a control character are 400 naming the field`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: requests.length - 1 }), poisoned, async (index, bad) => {
        const request = requests[index];
        if (!request) return;
        const before = await entryCount();
        const res = await t.call(request.send(bad));
        assert.equal(res.statusCode, 400, `${JSON.stringify(bad)} -> ${res.statusCode} ${res.body.slice(0, 200)}`);
        const json = res.json() as { code: string; error: string };
        assert.equal(json.code, 'invalid_request');
        assert.ok(json.error.startsWith(`${request.field}: `), json.error);
        assert.equal(await entryCount(), before);
      }),
      { numRuns: RUNS },
    );
  });
});
