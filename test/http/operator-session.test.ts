// Regression (issue 19): in demo mode a new user had no way into the admin console without
// first creating an admin key from the CLI. Now the console offers "Sign in as the demo
// operator": a same-origin POST that sets a short-lived admin session cookie, demo mode and
// loopback only. These tests pin that it cannot be had any other way.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { type TestApp, testApp } from './http-helpers.ts';

const ORIGIN = 'http://localhost';

/** The operator cookie's value from a Set-Cookie answer, or null. */
function operatorCookie(res: { headers: Record<string, unknown> }): string | null {
  const raw = res.headers['set-cookie'];
  const all = Array.isArray(raw) ? raw : raw === undefined ? [] : [String(raw)];
  const line = all.find((c) => String(c).startsWith('tm_operator='));
  return line ? (String(line).split(';')[0]?.slice('tm_operator='.length) ?? null) : null;
}

describe('demo operator session', () => {
  let t: TestApp;
  let other: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    await other?.close();
    other = undefined;
  });

  const signIn = (headers: Record<string, string> = { origin: ORIGIN }) =>
    t.call({ as: 'none', method: 'POST', url: '/admin/session', headers });
  const asOperator = (
    cookie: string,
    options: { method?: 'GET' | 'POST'; url: string; payload?: object; origin?: string },
  ) =>
    t.call({
      as: 'none',
      method: options.method ?? 'GET',
      url: options.url,
      cookies: { tm_operator: cookie },
      ...(options.origin ? { headers: { origin: options.origin } } : {}),
      ...(options.payload ? { payload: options.payload } : {}),
    });

  it('regression: demo mode signs the console in without a key; /api/admin/* is 401 without the session', async () => {
    t = await testApp({ demo: true });
    assert.equal((await t.call({ as: 'none', method: 'GET', url: '/api/admin/accounts' })).statusCode, 401);
    const status = (await t.call({ as: 'none', method: 'GET', url: '/admin/session' })).json();
    assert.equal(status.signed_in, false);
    assert.equal(status.demo_sign_in, true);

    const res = await signIn();
    assert.equal(res.statusCode, 200, res.body);
    const setCookie = String(res.headers['set-cookie']);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    assert.match(setCookie, /Max-Age=1800/);
    const cookie = operatorCookie(res);
    assert.ok(cookie);
    assert.equal((await asOperator(cookie, { url: '/api/admin/accounts' })).statusCode, 200);
    assert.equal(
      (await t.call({ as: 'none', method: 'GET', url: '/admin/session', cookies: { tm_operator: cookie } })).json()
        .signed_in,
      true,
    );
    // A write with the cookie is the operator's, recorded under its own name.
    const adjusted = await asOperator(cookie, {
      method: 'POST',
      url: '/api/admin/accounts/7/adjust',
      payload: { amount: 5, reason: 'demo operator' },
      origin: ORIGIN,
    });
    assert.equal(adjusted.statusCode, 200, adjusted.body);
    assert.equal((await t.ledger.history('7', { limit: 1 })).entries[0]?.actor, 'admin:demo-operator');
  });

  it('cannot be obtained cross-origin, without an Origin, from another Host name, or from another machine', async () => {
    t = await testApp({ demo: true });
    const refused = [
      await signIn({}),
      await signIn({ origin: 'http://evil.example' }),
      await signIn({ origin: 'null' }),
      // DNS rebinding: a page on evil.example resolving to 127.0.0.1 is same-origin with itself.
      await signIn({ origin: 'http://evil.example', host: 'evil.example' }),
      await signIn({ origin: ORIGIN, 'sec-fetch-site': 'cross-site' }),
      await t.app.inject({
        method: 'POST',
        url: '/admin/session',
        headers: { origin: ORIGIN },
        remoteAddress: '10.1.2.3',
      }),
    ];
    for (const res of refused) {
      assert.equal(res.statusCode, 403, res.body);
      assert.equal(operatorCookie(res), null);
    }
  });

  it('cannot be obtained outside demo mode, and a demo session is refused by a service outside demo mode', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tm-op-'));
    t = await testApp({ demo: true }, undefined, dir);
    const cookie = operatorCookie(await signIn());
    assert.ok(cookie);
    other = await testApp({ demo: false }, undefined, dir);
    const res = await other.call({ as: 'none', method: 'POST', url: '/admin/session', headers: { origin: ORIGIN } });
    assert.equal(res.statusCode, 404);
    assert.equal(operatorCookie(res), null);
    assert.match(res.json().error, /keys create --name ops --scope admin/);
    const status = (await other.call({ as: 'none', method: 'GET', url: '/admin/session' })).json();
    assert.equal(status.demo_sign_in, false);
    assert.match(status.how_to_sign_in, /--scope admin/);
    // Same database, same signing secret: the cookie still means nothing without demo mode.
    const read = await other.call({
      as: 'none',
      method: 'GET',
      url: '/api/admin/accounts',
      cookies: { tm_operator: cookie },
    });
    assert.equal(read.statusCode, 401);
  });

  it('is honoured on /api/admin/* only, is no user token, needs a matching Origin to write, and expires', async () => {
    t = await testApp({ demo: true });
    const cookie = operatorCookie(await signIn());
    assert.ok(cookie);
    // Not a user session, not a bearer token, not anywhere but the operator API.
    assert.equal(
      (await t.call({ as: 'none', method: 'GET', url: '/api/tokens/balance', cookies: { tm_session: cookie } }))
        .statusCode,
      401,
    );
    assert.equal((await t.call({ as: { token: cookie }, method: 'GET', url: '/api/admin/accounts' })).statusCode, 401);
    assert.equal((await asOperator(cookie, { url: '/api/tokens/balance?account=7' })).statusCode, 401);
    // A user token is no operator session either.
    const user = await t.userToken('7');
    assert.equal((await asOperator(user, { url: '/api/admin/accounts' })).statusCode, 401);
    // Cookie writes need this service's Origin (CSRF).
    const noOrigin = await asOperator(cookie, {
      method: 'POST',
      url: '/api/admin/accounts/7/adjust',
      payload: { amount: 5, reason: 'x' },
    });
    assert.equal(noOrigin.statusCode, 403);
    t.clock.advance(30 * 60 * 1000 + 1);
    assert.equal((await asOperator(cookie, { url: '/api/admin/accounts' })).statusCode, 401);
  });

  it('signing out spends the session: the same cookie is refused afterwards', async () => {
    t = await testApp({ demo: true });
    const cookie = operatorCookie(await signIn());
    assert.ok(cookie);
    const out = await t.call({
      as: 'none',
      method: 'DELETE',
      url: '/admin/session',
      headers: { origin: ORIGIN },
      cookies: { tm_operator: cookie },
    });
    assert.equal(out.statusCode, 200);
    assert.equal(operatorCookie(out), '');
    assert.equal((await asOperator(cookie, { url: '/api/admin/accounts' })).statusCode, 401);
  });
});
