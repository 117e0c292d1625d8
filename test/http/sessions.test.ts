import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { localPath } from '../../src/http/routes/sessions.ts';
import { type TestApp, testApp } from './http-helpers.ts';

describe('sessions', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp();
  });
  afterEach(() => t.close());

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
    const res = await t.call({
      as: 'none',
      method: 'GET',
      url: `/session/start?token=${encodeURIComponent(token)}&next=/billing`,
    });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers.location, '/billing');
    const cookie = String(res.headers['set-cookie']);
    assert.match(cookie, /tm_session=/);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    const reuse = await t.call({ as: 'none', method: 'GET', url: `/session/start?token=${encodeURIComponent(token)}` });
    assert.equal(reuse.statusCode, 401);
  });

  it('never redirects to another host', () => {
    assert.equal(localPath('/billing?x=1'), '/billing?x=1');
    for (const bad of ['//evil.example', 'https://evil.example', '/\\evil.example', 'billing', undefined]) {
      assert.equal(localPath(bad), '/');
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
