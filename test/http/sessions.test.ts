import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { nextPath } from '../../src/http/next-path.ts';
import { type TestApp, testApp } from './http-helpers.ts';

const ORIGIN = 'http://localhost';

/** Where a browser goes for a `Location` header answered to a page on ORIGIN. */
function landsOn(location: string): string {
  return new URL(location, ORIGIN).origin;
}

// Values a browser (WHATWG URL parser) may turn into another host: tabs and newlines are
// stripped, backslashes read as slashes, `//` starts a host.
const HOSTILE_FRAGMENTS = [
  '/%09/evil/x',
  '/%0a/evil/x',
  '/%0d/evil/x',
  '/%09%0a/evil',
  '/%00/evil',
  '//evil.example',
  '///evil.example',
  '/\\evil.example',
  '/%5Cevil.example',
  '%5C%5Cevil.example',
  '\\\\evil.example',
  '/%2F/evil.example',
  '/%2f%2fevil.example',
  'https://evil.example',
  'https:evil.example',
  'javascript:alert(1)',
  'evil.example',
  '/%E3%80%82/evil',
  '/%EF%BC%8F/evil',
  '%09//evil',
  ' //evil',
  '/%20/evil',
  `/${'a'.repeat(600)}`,
];

describe('sessions', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp();
  });
  afterEach(() => t.close());

  const start = (token: string, next?: string, headers: Record<string, string> = {}) =>
    t.call({
      as: 'none',
      method: 'GET',
      url: `/session/start?token=${encodeURIComponent(token)}${next === undefined ? '' : `&next=${next}`}`,
      headers,
    });

  it('POST /api/sessions issues a 15-minute token for one account (app key only)', async () => {
    const res = await t.call({ method: 'POST', url: '/api/sessions', payload: { account: 'alice' } });
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.success, true);
    assert.equal(Date.parse(body.expires_at) - t.clock.now(), 15 * 60 * 1000);
    const read = await t.call({ as: { token: body.token }, method: 'GET', url: '/api/tokens/balance' });
    assert.equal(read.json().account, 'alice');
    const byUser = await t.call({
      as: { token: body.token },
      method: 'POST',
      url: '/api/sessions',
      payload: { account: 'alice' },
    });
    assert.equal(byUser.statusCode, 403);
  });

  it('GET /session/start sets the HttpOnly cookie once and redirects to a local path', async () => {
    const token = await t.userToken('alice');
    const res = await start(token, '/billing');
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/billing');
    const cookie = String(res.headers['set-cookie']);
    assert.match(cookie, /tm_session=/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.doesNotMatch(cookie, /Secure/, 'plain HTTP: a Secure cookie would never come back');
    const reuse = await start(token);
    assert.equal(reuse.statusCode, 401);
    const value = /tm_session=([^;]+)/.exec(cookie)?.[1] ?? '';
    const signedIn = await t.call({ as: 'none', method: 'GET', url: '/api/session', cookies: { tm_session: value } });
    assert.deepEqual(signedIn.json(), { success: true, signed_in: true, account: 'alice' });
    const read = await t.call({
      as: 'none',
      method: 'GET',
      url: '/api/tokens/balance',
      cookies: { tm_session: value },
    });
    assert.equal(read.statusCode, 200);
  });

  it('regression (sign-in token stayed a bearer token): once /session/start spends it, it is refused as a bearer', async () => {
    const token = await t.userToken('alice');
    const before = await t.call({ as: { token }, method: 'GET', url: '/api/tokens/balance' });
    assert.equal(before.statusCode, 200);
    assert.equal((await start(token, '/billing')).statusCode, 303);
    const after = await t.call({ as: { token }, method: 'GET', url: '/api/tokens/balance' });
    assert.equal(after.statusCode, 401);
    assert.equal(after.json().code, 'unauthorized');
  });

  it('regression (an expired or used link showed raw JSON in the browser): a browser gets a page, an API client JSON', async () => {
    const token = await t.userToken('alice');
    assert.equal((await start(token, '/billing')).statusCode, 303);
    const browser = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
    const used = await start(token, '/billing', { accept: browser });
    assert.equal(used.statusCode, 401);
    assert.match(String(used.headers['content-type']), /^text\/html/);
    assert.match(used.body, /<h1>This sign-in link has expired or was already used<\/h1>/);
    assert.match(used.body, /href="\/billing"/);
    assert.doesNotMatch(used.body, /"success"/);
    const stale = await t.userToken('bob');
    t.clock.advance(15 * 60 * 1000 + 1);
    const expired = await start(stale, '/billing', { accept: browser });
    assert.equal(expired.statusCode, 401);
    assert.match(String(expired.headers['content-type']), /^text\/html/);
    const hostile = await start(await t.userToken('bob'), '/%09/evil/x', { accept: browser });
    assert.equal(hostile.statusCode, 400);
    assert.match(hostile.body, /a page that is not on this site/);
    for (const accept of [undefined, 'application/json', 'application/json, text/html']) {
      const api = await start(token, '/billing', accept ? { accept } : {});
      assert.equal(api.statusCode, 401);
      assert.equal(api.json().code, 'unauthorized');
    }
  });

  it('two /session/start with the same token at once: exactly one wins', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 6 }), async (n) => {
        const token = await t.userToken('alice');
        const answers = await Promise.all(Array.from({ length: n }, () => start(token, '/billing')));
        const statuses = answers.map((a) => a.statusCode).sort();
        assert.deepEqual(statuses, [303, ...Array(n - 1).fill(401)]);
      }),
      { numRuns: 20 },
    );
  });

  it('regression (next=/%09/evil/x landed on another host in Chromium): refused with 400 before the token is spent', async () => {
    const token = await t.userToken('alice');
    const res = await start(token, '/%09/evil/x');
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().success, false);
    assert.equal(res.json().code, 'invalid_request');
    assert.match(res.json().error, /^next:/);
    assert.equal(res.headers['set-cookie'], undefined);
    const retry = await start(token, '/billing');
    assert.equal(retry.statusCode, 303, 'the token was not spent by the refused request');
  });

  it('hostile next values: 400 in the JSON shape or a redirect that stays on this origin, never 500', async () => {
    for (const next of HOSTILE_FRAGMENTS) {
      const res = await start(await t.userToken('alice'), next);
      if (res.statusCode === 303) {
        assert.equal(landsOn(String(res.headers.location)), ORIGIN, `next=${next} -> ${res.headers.location}`);
      } else {
        assert.equal(res.statusCode, 400, `next=${next} answered ${res.statusCode}`);
        assert.equal(res.json().code, 'invalid_request');
      }
    }
    assert.equal((await start(await t.userToken('alice'), '/%09/evil/x')).statusCode, 400);
    assert.equal((await start(await t.userToken('alice'), '//evil.example')).statusCode, 400);
    assert.equal((await start(await t.userToken('alice'), '/\\evil.example')).statusCode, 400);
  });

  it('property: every next the route accepts resolves, as a browser resolves it, to this origin', async () => {
    const piece = fc.oneof(
      fc.constantFrom('/', '//', '\\', '/\\', '%09', '%0a', '%0D', '%2F', '%5C', '%00', '%7F', '.', '..', ':', '@'),
      fc.constantFrom('evil.example', 'https:', 'javascript:', '?', '#', '%E2%80%AE', '%', '%zz'),
      fc.string({ unit: 'grapheme', maxLength: 6 }).map(encodeURIComponent),
      fc.string({ unit: 'binary', maxLength: 4 }).map(encodeURIComponent),
      fc.string({ maxLength: 6 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(piece, { minLength: 1, maxLength: 8 }), async (pieces) => {
        const next = pieces.join('');
        const res = await start(await t.userToken('alice'), next);
        assert.ok([303, 400].includes(res.statusCode), `next=${next} answered ${res.statusCode}`);
        if (res.statusCode === 303) {
          assert.equal(landsOn(String(res.headers.location)), ORIGIN, `next=${next} -> ${res.headers.location}`);
        } else {
          assert.equal(res.json().code, 'invalid_request');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('property: nextPath accepts only values that resolve to the same origin', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 40 }),
          fc.string({ maxLength: 40 }).map((s) => `/${s}`),
          fc
            .array(fc.constantFrom('/', '\\', '\t', '\n', '\r', '%2F', '%5C', '%09', 'evil', ':', '.'), {
              maxLength: 10,
            })
            .map((a) => a.join('')),
        ),
        (next) => {
          const path = nextPath(next);
          if (path !== null) {
            assert.equal(landsOn(path), ORIGIN, JSON.stringify(next));
            assert.equal(path, next);
          }
        },
      ),
      { numRuns: 2000 },
    );
    assert.equal(nextPath(undefined), '/');
    assert.equal(nextPath('/billing?x=1#top'), '/billing?x=1#top');
  });

  it('the cookie is Secure when the request came over HTTPS through a trusted proxy, not when others claim it', async () => {
    const proxied = await testApp({ trustProxy: '127.0.0.1' });
    try {
      const viaProxy = await proxied.call({
        as: 'none',
        method: 'GET',
        url: `/session/start?token=${encodeURIComponent(await proxied.userToken('alice'))}`,
        headers: { 'x-forwarded-proto': 'https' },
      });
      assert.equal(viaProxy.statusCode, 303);
      assert.match(String(viaProxy.headers['set-cookie']), /; Secure/);
    } finally {
      await proxied.close();
    }
    const untrusted = await testApp({ trustProxy: '10.0.0.1' });
    try {
      const claimed = await untrusted.call({
        as: 'none',
        method: 'GET',
        url: `/session/start?token=${encodeURIComponent(await untrusted.userToken('alice'))}`,
        headers: { 'x-forwarded-proto': 'https' },
      });
      assert.equal(claimed.statusCode, 303);
      assert.doesNotMatch(String(claimed.headers['set-cookie']), /Secure/);
    } finally {
      await untrusted.close();
    }
  });

  it('the signing secret is generated once and shared through the database', async () => {
    const token = await t.userToken('alice');
    const second = await testApp({}, undefined, t.dir);
    try {
      const res = await second.call({ as: { token }, method: 'GET', url: '/api/tokens/balance' });
      assert.equal(res.statusCode, 200);
    } finally {
      await second.app.close();
      await second.ledger.close();
    }
  });
});
