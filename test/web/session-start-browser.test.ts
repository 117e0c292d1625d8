// Regression (item 11): `/session/start?next=/%09/evil/x` answered `Location: /\t/evil/x`, which
// Chromium reads as `//evil/x` (it strips tabs from URLs) and so left for the host `evil`. Now
// such a `next` is refused with 400 before the sign-in token is spent. Driven in real Chromium.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { type TestApp, testApp } from '../http/http-helpers.ts';
import { launchBrowser, watch } from './browser-helpers.ts';

describe('/session/start in Chromium', () => {
  let t: TestApp;
  let browser: Browser;
  let origin = '';
  before(async () => {
    t = await testApp();
    origin = new URL(await t.app.listen({ port: 0, host: '127.0.0.1' })).origin;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  /** Opens the sign-in link; records every request that leaves this origin, redirects included. */
  async function open(next: string): Promise<{ status: number | undefined; foreign: string[]; landed: string }> {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const seen = watch(page, [origin]);
      const token = encodeURIComponent(await t.userToken('alice'));
      const response = await page.goto(`${origin}/session/start?token=${token}&next=${next}`).catch(() => null);
      return { status: response?.status(), foreign: seen.foreign, landed: page.url() };
    } finally {
      await context.close();
    }
  }

  it('regression: next=/%09/evil/x never takes the browser to another host', async () => {
    const hostile = await open('/%09/evil/x');
    assert.deepEqual(hostile.foreign, []);
    assert.equal(hostile.status, 400);
    assert.equal(new URL(hostile.landed).origin, origin);
  });

  it('a plain local next is followed on this origin', async () => {
    const local = await open('/api/session');
    assert.deepEqual(local.foreign, []);
    assert.equal(local.status, 200);
    assert.equal(local.landed, `${origin}/api/session`);
  });
});
