import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { widgetApp } from '../../examples/widget-app.ts';
import { ADMIN_KEY, APP_KEY } from '../http/http-helpers.ts';
import {
  buildAssets,
  launchBrowser,
  type Service,
  screenshot,
  startService,
  waitForDisabled,
  waitForText,
  watch,
} from './browser-helpers.ts';

describe('admin console and widget in a real browser', () => {
  let assets: Awaited<ReturnType<typeof buildAssets>>;
  let browser: Browser;
  let svc: Service;
  let example: Server;
  let exampleOrigin: string;

  before(async () => {
    assets = await buildAssets();
    browser = await launchBrowser();
    // The example app listens first: its origin is what tokenmeter's CORS list must name.
    let tokenmeterUrl = '';
    example = widgetApp({ tokenmeterUrl: () => tokenmeterUrl, apiKey: APP_KEY });
    await new Promise<void>((resolve) => example.listen(0, '127.0.0.1', resolve));
    const address = example.address();
    assert.ok(address && typeof address === 'object');
    exampleOrigin = `http://127.0.0.1:${address.port}`;
    svc = await startService(assets.root, { corsOrigins: [exampleOrigin] });
    tokenmeterUrl = svc.url;
  });
  after(async () => {
    await browser?.close();
    await svc?.close();
    // Not `example?.close(resolve)`: when `before` failed first (no browser), nothing would resolve it.
    if (example) await new Promise((resolve) => example.close(resolve));
    assets?.remove();
  });

  it('admin adjust flow: sign in with the key, find the account, review before and after, confirm with a reason', async () => {
    for (const account of ['adj-1', 'adj-2', 'other']) {
      await svc.call({ method: 'POST', url: '/api/tokens/deduct', payload: { account, feature: 'social_post' } });
    }
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    const w = watch(page, [svc.url]);
    await page.goto(`${svc.url}/admin`);
    await page.getByLabel('Admin key').fill('tm_admin_not_a_real_key_0000000000000000');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByText('That key is not an admin key.').waitFor();
    await page.getByLabel('Admin key').fill(ADMIN_KEY);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Accounts', level: 1 }).waitFor();
    assert.equal(await page.evaluate('sessionStorage.getItem("tokenmeter.adminKey")'), ADMIN_KEY);
    assert.ok(!page.url().includes(ADMIN_KEY));
    await page.getByLabel('Search accounts').fill('adj');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'adj-2' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'other' }).count(), 0);
    await page.getByRole('button', { name: 'Check ledger' }).click();
    await page.getByText('3 accounts checked: every balance matches its ledger.').waitFor();
    await screenshot(page, 'admin-accounts');

    await page.getByRole('link', { name: 'adj-1' }).click();
    await waitForText(page, '[data-testid="admin-balance"]', '99');
    await page.locator('#adjust-mode').selectOption('balance');
    await page.locator('#adjust-value').fill('0');
    await page.getByRole('button', { name: 'Review' }).click();
    // The reason is required: the browser's own validation keeps the form from submitting.
    assert.equal(await page.locator('#adjust-confirm').isVisible(), false);
    await page.locator('#adjust-reason').fill('Seed story: balance set to zero');
    await page.getByRole('button', { name: 'Review' }).click();
    await waitForText(page, '#adjust-preview', 'Balance 99 → 0. Reason: “Seed story: balance set to zero”.');
    await screenshot(page, 'admin-adjust-confirm');
    await page.getByRole('button', { name: 'Confirm adjustment' }).click();
    await waitForText(page, '[data-testid="admin-balance"]', '0');
    await page.getByRole('cell', { name: 'Seed story: balance set to zero' }).waitFor();
    await page.locator('#balance-chart canvas').waitFor();
    const entries = (await svc.call({ as: 'admin', method: 'GET', url: '/api/admin/ledger?account=adj-1' })).json();
    assert.equal(entries.entries[0].kind, 'adjustment');
    assert.equal(entries.entries[0].reason, 'Seed story: balance set to zero');
    await screenshot(page, 'admin-account-after-adjust');

    // A balance that changed meanwhile is not overwritten.
    await page.locator('#adjust-mode').selectOption('amount');
    await page.locator('#adjust-value').fill('10');
    await page.locator('#adjust-reason').fill('goodwill');
    await page.getByRole('button', { name: 'Review' }).click();
    await svc.call({
      as: 'admin',
      method: 'POST',
      url: '/api/admin/accounts/adj-1/adjust',
      payload: { amount: 5, reason: 'someone else' },
    });
    await page.getByRole('button', { name: 'Confirm adjustment' }).click();
    // Regression (issue 19): after a 409 the figures are fresh and "Review" works again.
    await page.getByText('The balance changed meanwhile (it is now 5); nothing was written.').waitFor();
    assert.equal((await svc.ledger.getBalance('adj-1')).balance, 5);
    await waitForText(page, '[data-testid="admin-balance"]', '5');
    await page.getByRole('button', { name: 'Review again' }).click();
    await waitForText(page, '#adjust-preview', 'Balance 5 → 15. Reason: “goodwill”.');
    await page.getByRole('button', { name: 'Confirm adjustment' }).click();
    await waitForText(page, '[data-testid="admin-balance"]', '15');
    assert.equal((await svc.ledger.getBalance('adj-1')).balance, 15);
    assert.deepEqual(
      w.errors.filter((e) => !/status of (401|409)/.test(e)),
      [],
    );
    assert.deepEqual(w.foreign, []);
    await context.close();
  });

  it('the widget on the example page, served from another origin, shows the balance and gates its buttons', async () => {
    const context = await browser.newContext({ viewport: { width: 800, height: 600 } });
    const page = await context.newPage();
    const w = watch(page, [svc.url, exampleOrigin]);
    await page.goto(`${exampleOrigin}/?user=widget-1`);
    await waitForText(page, '[data-testid="widget-balance"]', '100');
    await waitForDisabled(page, '[data-tokenmeter-feature]', false);
    await page.evaluate(
      'document.addEventListener("tokenmeter:balance", (e) => { window.lastBalance = e.detail.available; })',
    );
    await page.getByRole('button', { name: 'Make outbound call' }).click();
    await page.waitForFunction('window.lastBalance === 99');
    await waitForText(page, '[data-testid="widget-balance"]', '99');
    assert.match(
      (await page.locator('#result').textContent()) ?? '',
      /Simulated outbound call single for account widget-1/,
    );
    await screenshot(page, 'widget-cross-origin');

    // The app's own condition must hold too.
    await page.getByLabel('CRM connected').uncheck();
    await waitForDisabled(page, '[data-tokenmeter-feature]', true);
    await page.waitForFunction(
      '/^Blocked: \\w+ \\(condition\\)$/.test(document.getElementById("blocked").textContent)',
    );
    await page.getByLabel('CRM connected').check();
    await waitForDisabled(page, '[data-tokenmeter-feature]', false);

    // 4 tokens left: the 5-token feature is blocked by the balance, the 1-token one is not.
    await svc.call({
      as: 'admin',
      method: 'POST',
      url: '/api/admin/accounts/widget-1/adjust',
      payload: { balance: 4, reason: 'widget test' },
    });
    await page.evaluate('window.dispatchEvent(new Event("focus"))');
    await waitForText(page, '[data-testid="widget-balance"]', '4');
    await waitForDisabled(page, '[data-tokenmeter-feature="business_collector"]', true);
    await waitForDisabled(page, '[data-tokenmeter-feature="outbound_call_single"]', false);
    await page.getByText('Blocked: business_collector (insufficient_tokens)').waitFor();
    await screenshot(page, 'widget-blocked');
    assert.deepEqual(w.errors, []);
    assert.deepEqual(w.foreign, []);
    await context.close();
  });

  it('the widget refreshes its user token through the app when tokenmeter answers 401', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${exampleOrigin}/?user=widget-2`);
    await waitForText(page, '[data-testid="widget-balance"]', '100');
    // A page that started with a bad token recovers through refreshToken.
    const result = await page.evaluate(`(async () => {
      let refreshed = 0;
      const meter = TokenMeter.init({
        baseUrl: ${JSON.stringify(svc.url)},
        token: 'v1.not-a-valid-token',
        refreshToken: () => { refreshed++; return fetch('/tokenmeter-token').then((r) => r.json()); },
        root: document.createElement('div'),
      });
      const b = await meter.refresh();
      meter.destroy();
      return { refreshed, available: b && b.available };
    })()`);
    assert.deepEqual(result, { refreshed: 1, available: 100 });
    await context.close();
  });

  it('changes the plan with a reason; toggling back and forth grants the upgrade once', async () => {
    await svc.call({
      method: 'POST',
      url: '/api/tokens/deduct',
      payload: { account: 'plan-1', feature: 'social_post' },
    });
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    const w = watch(page, [svc.url]);
    await page.goto(`${svc.url}/admin`);
    await page.getByLabel('Admin key').fill(ADMIN_KEY);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Accounts', level: 1 }).waitFor();
    await page.getByRole('link', { name: 'plan-1' }).click();
    await waitForText(page, '[data-testid="admin-balance"]', '99');

    const change = async (plan: string, reason: string) => {
      await page.locator('#plan-id').selectOption(plan);
      await page.locator('#plan-reason').fill(reason);
      await page.getByRole('button', { name: 'Change plan' }).click();
      await waitForText(page, '[data-testid="admin-plan"]', plan);
    };
    await change('pro', 'sales deal');
    await waitForText(page, '[data-testid="admin-balance"]', '4,999');
    await change('starter', 'cheaper');
    await change('pro', 'back again');
    await waitForText(page, '[data-testid="admin-balance"]', '4,999');
    await screenshot(page, 'admin-plan-change');

    const ledger = (await svc.call({ as: 'admin', method: 'GET', url: '/api/admin/ledger?account=plan-1' })).json();
    const changes = ledger.entries.filter((e: { kind: string }) => e.kind === 'plan_change');
    assert.deepEqual(
      changes.map((e: { amount: number; reason: string }) => [e.amount, e.reason]),
      [
        [0, 'back again'],
        [0, 'cheaper'],
        [4900, 'sales deal'],
      ],
    );
    assert.deepEqual(w.errors, []);
    assert.deepEqual(w.foreign, []);
    await context.close();
  });
});
