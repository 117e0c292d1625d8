import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { testApp } from '../http/http-helpers.ts';

/** A stand-in for the built assets: the routes serve files, whatever Vite put in them. */
function fakeBuild(): string {
  const root = mkdtempSync(join(tmpdir(), 'tm-web-fake-'));
  mkdirSync(join(root, 'assets'));
  for (const page of ['index', 'billing', 'admin']) writeFileSync(join(root, `${page}.html`), `<title>${page}</title>`);
  writeFileSync(join(root, 'widget.js'), 'var TokenMeter = {};');
  writeFileSync(join(root, 'widget.mjs'), 'export {};');
  writeFileSync(join(root, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(root, 'assets', 'app-1.js'), 'console.log(1);');
  return root;
}

describe('web routes', () => {
  let root: string;
  before(() => {
    root = fakeBuild();
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('serves billing, admin, the widget and hashed assets outside demo mode; the copilot at / only in demo mode', async () => {
    const t = await testApp({ webRoot: root });
    try {
      for (const [url, text] of [
        ['/billing', 'billing'],
        ['/admin', 'admin'],
        ['/widget.js', 'TokenMeter'],
        ['/assets/app-1.js', 'console'],
      ] as const) {
        const res = await t.call({ as: 'none', method: 'GET', url });
        assert.equal(res.statusCode, 200, url);
        assert.match(res.body, new RegExp(text));
      }
      assert.match(
        String((await t.call({ as: 'none', method: 'GET', url: '/assets/app-1.js' })).headers['cache-control']),
        /immutable/,
      );
      assert.equal((await t.call({ as: 'none', method: 'GET', url: '/' })).statusCode, 404);
      assert.deepEqual((await t.call({ as: 'none', method: 'GET', url: '/web-config.json' })).json(), {
        success: true,
        demo: false,
      });
    } finally {
      await t.close();
    }
    const demo = await testApp({ demo: true, webRoot: root });
    try {
      const res = await demo.call({ as: 'none', method: 'GET', url: '/' });
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /index/);
    } finally {
      await demo.close();
    }
  });

  it('answers 503 naming `npm run build` when the front end is not built', async () => {
    const t = await testApp({ demo: true, webRoot: join(root, 'missing') });
    try {
      for (const url of ['/', '/billing', '/admin', '/widget.js']) {
        const res = await t.call({ as: 'none', method: 'GET', url });
        assert.equal(res.statusCode, 503, url);
        assert.match(res.json().error, /npm run build/);
      }
    } finally {
      await t.close();
    }
  });

  it('PUT /demo/settings keeps the CRM prerequisite per account, for the signed-in account only, in demo mode only', async () => {
    const t = await testApp({ demo: true, webRoot: root });
    try {
      const alice = { token: await t.userToken('alice') };
      const bob = { token: await t.userToken('bob') };
      assert.equal((await t.call({ as: alice, method: 'GET', url: '/demo/settings' })).json().crm_connected, true);
      const put = await t.call({ as: alice, method: 'PUT', url: '/demo/settings', payload: { crm_connected: false } });
      assert.equal(put.statusCode, 200);
      assert.deepEqual(put.json(), { success: true, account: 'alice', crm_connected: false });
      assert.equal((await t.call({ as: alice, method: 'GET', url: '/demo/settings' })).json().crm_connected, false);
      assert.equal((await t.call({ as: bob, method: 'GET', url: '/demo/settings' })).json().crm_connected, true);
      const coerced = await t.call({
        as: alice,
        method: 'PUT',
        url: '/demo/settings',
        payload: { crm_connected: 'no' },
      });
      assert.equal(coerced.statusCode, 400);
      assert.equal((await t.call({ as: 'none', method: 'GET', url: '/demo/settings' })).statusCode, 401);
      assert.equal((await t.call({ as: 'app', method: 'GET', url: '/demo/settings' })).statusCode, 403);
    } finally {
      await t.close();
    }
    const live = await testApp({ webRoot: root });
    try {
      const res = await live.call({
        as: { token: await live.userToken('alice') },
        method: 'PUT',
        url: '/demo/settings',
        payload: { crm_connected: false },
      });
      assert.equal(res.statusCode, 404);
    } finally {
      await live.close();
    }
  });
});
