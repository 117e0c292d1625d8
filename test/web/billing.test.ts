import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Route } from 'playwright-core';
import {
  buildAssets,
  launchBrowser,
  type Service,
  screenshot,
  startService,
  waitForText,
  watch,
} from './browser-helpers.ts';

/**
 * The billing page against the payments API's contract (issue 5), answered here by Playwright
 * so the page's rendering and calls are pinned whether or not that API is on this server. The
 * real purchase, end to end, is in copilot.test.ts.
 */
const PACKAGES = [
  { id: 'tokens_100', name: '100 tokens', kind: 'topup', tokens: 100, price_cents: 500, currency: 'usd' },
  { id: 'tokens_500', name: '500 tokens', kind: 'topup', tokens: 500, price_cents: 2500, currency: 'usd' },
  { id: 'plan_starter', name: 'Starter plan', kind: 'plan', tokens: 1000, price_cents: 4900, currency: 'usd' },
];
const PAYMENTS = [
  {
    id: 'pay_1',
    package: 'tokens_500',
    package_name: '500 tokens',
    tokens: 500,
    amount: 2500,
    currency: 'usd',
    status: 'completed',
    provider: 'test',
    created: '2026-03-09T10:00:00Z',
    receipt_url: null,
  },
];

describe('billing page in a real browser', () => {
  let assets: Awaited<ReturnType<typeof buildAssets>>;
  let browser: Browser;
  let svc: Service;

  before(async () => {
    assets = await buildAssets();
    browser = await launchBrowser();
    svc = await startService(assets.root);
  });
  after(async () => {
    await browser?.close();
    await svc?.close();
    assets?.remove();
  });

  it('at a negative balance: packages with prices, checkout goes to the provider URL, history and the portal link', async () => {
    await svc.call({
      method: 'POST',
      url: '/api/tokens/deduct',
      payload: { account: 'neg-1', feature: 'social_post' },
    });
    await svc.call({
      as: 'admin',
      method: 'POST',
      url: '/api/admin/accounts/neg-1/adjust',
      payload: { amount: -120, reason: 'refund taken back' },
    });
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    const w = watch(page, [svc.url]);
    const checkouts: unknown[] = [];
    await page.route('**/api/payment/**', async (route: Route) => {
      const path = new URL(route.request().url()).pathname;
      const json = (body: unknown) =>
        route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(body) });
      if (path === '/api/payment/packages') return json({ success: true, packages: PACKAGES });
      if (path === '/api/payment/history') return json({ success: true, payments: PAYMENTS });
      if (path === '/api/payment/checkout') {
        checkouts.push(route.request().postDataJSON());
        return json({ success: true, checkout_id: 'chk_1', url: `${svc.url}/billing?checkout=chk_1` });
      }
      if (path === '/api/payment/portal') return json({ success: true, url: `${svc.url}/billing?portal=1` });
      return route.fallback();
    });
    await page.goto(`${svc.url}/demo/login?account=neg-1`);
    await page.goto(`${svc.url}/billing`);
    await waitForText(page, '[data-testid="token-balance"]', '-21');
    await page.locator('#packages').getByText('$25.00').waitFor();
    await page.locator('#packages').getByText('$49.00').waitFor();
    await page.getByRole('cell', { name: '500 tokens' }).waitFor();
    await screenshot(page, 'billing-negative-balance-phone');
    await page.getByRole('button', { name: 'Buy 500 tokens for $25.00' }).click();
    await page.waitForURL(`${svc.url}/billing?checkout=chk_1`);
    assert.deepEqual(checkouts, [{ package: 'tokens_500' }]);
    await page.getByRole('button', { name: 'Manage payment methods and invoices' }).click();
    await page.waitForURL(`${svc.url}/billing?portal=1`);
    assert.deepEqual(w.errors, []);
    assert.deepEqual(w.foreign, []);
    await context.close();
  });
});
