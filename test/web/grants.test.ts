// Grants in the web pages (issue 15 "Web", issue 19 "An account: grants"), in Chromium: the
// billing page and the copilot header say what expires and when, a debt shows on billing, and
// the admin account page grants, lists and voids, with the ledger naming the grants each
// entry drew from. Each page also passes axe-core and fits 375 px.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  buildAssets,
  checkPage,
  launchBrowser,
  type PageWatch,
  type Service,
  startService,
  waitForText,
  watch,
} from './browser-helpers.ts';

const BALANCE = '[data-testid="token-balance"]';

describe('grants in the web pages, in a real browser', () => {
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

  /** Dates are shown in the browser's zone; UTC pins them (the service's clock is 2026-03-10 12:00 UTC). */
  async function open(path: string, width: number): Promise<{ page: Page; w: PageWatch; close: () => Promise<void> }> {
    const context = await browser.newContext({ viewport: { width, height: 900 }, timezoneId: 'UTC' });
    const page = await context.newPage();
    const w = watch(page, [svc.url]);
    await page.goto(`${svc.url}${path}`);
    return { page, w, close: () => context.close() };
  }

  async function text(page: Page, selector: string): Promise<string> {
    return ((await page.locator(selector).textContent()) ?? '').trim();
  }

  it('after an admin grant, the copilot header and the billing page say "50 bonus tokens expire on 31 Mar"', async () => {
    const res = await svc.call({
      as: 'admin',
      method: 'POST',
      url: '/api/admin/accounts/bonus-1/grants',
      // Before the free plan's cycle ends (10 Apr), so the bonus is what expires next.
      payload: { tokens: 50, category: 'promotional', expires_at: '2026-03-31T23:59:59Z', reason: 'launch bonus' },
    });
    assert.equal(res.statusCode, 201, res.body);
    const expiring = /^50 bonus tokens expire on 31 Mar( 2026)?$/;

    const { page, w, close } = await open('/demo/login?account=bonus-1', 375);
    await waitForText(page, BALANCE, '150');
    assert.match(await text(page, '[data-testid="expiring"]'), expiring);
    await checkPage(page, w, 'grants-copilot-expiring-bonus-phone', 375);

    await page.goto(`${svc.url}/billing`);
    await page.locator('#tokens-expiry').waitFor();
    assert.match((await text(page, '#tokens-expiry')).replace(/\.$/, ''), expiring);
    assert.equal(await text(page, '[data-testid="tokens-bonus"]'), '50');
    assert.equal(await text(page, '[data-testid="tokens-plan"]'), '100');
    assert.equal(await page.locator('#tokens-debt').count(), 0);
    await page.locator('#packages button').first().waitFor();
    await checkPage(page, w, 'grants-billing-expiring-bonus-phone', 375);
    await close();
  });

  it('a debt shows on the billing page with what pays it; with nothing expiring neither page says anything expires', async () => {
    // The free plan rolls nothing over, so its 100 would expire at the cycle's end; a correction
    // of −130 takes them all and leaves a debt of 30.
    await svc.ledger.adjust({ account: 'owes-1', amount: -130, reason: 'refund taken back', actor: 'test' });
    const { page, w, close } = await open('/demo/login?account=owes-1', 1100);
    await page.goto(`${svc.url}/billing`);
    await waitForText(page, BALANCE, '-30');
    await waitForText(page, '#tokens-debt', 'You owe 30 tokens from a refund or correction; a purchase pays it first.');
    assert.equal(await text(page, '[data-testid="tokens-owed"]'), '30');
    assert.equal(await page.locator('#tokens-expiry').count(), 0);
    await page.goto(`${svc.url}/`);
    await waitForText(page, BALANCE, '-30');
    assert.equal(await page.locator('[data-testid="expiring"]').isVisible(), false);
    await page.goto(`${svc.url}/billing`);
    await waitForText(page, BALANCE, '-30');
    await page.locator('#packages button').first().waitFor();
    await checkPage(page, w, 'grants-billing-debt', 1100);
    await close();
  });

  it('the admin account page grants (refusing a past expiry), lists, voids, and the ledger shows which grants a debit drew from', async () => {
    await svc.ledger.deduct({ account: 'grantee', feature: 'social_post' });
    const { page, w, close } = await open('/admin#/account/grantee', 375);
    await page.getByRole('button', { name: 'Sign in as the demo operator' }).click();
    await waitForText(page, '[data-testid="admin-balance"]', '99');
    // The plan's allocation is an included grant, ending with the cycle.
    await page.locator('#grants-list tr[data-grant]').first().waitFor();
    assert.deepEqual(await page.locator('#grants-list tbody tr td:nth-child(3)').allTextContents(), ['included']);

    await page.locator('#grant-tokens').fill('40');
    await page.getByLabel('Category').selectOption('promotional');
    await page.getByLabel('Expires (end of day, UTC; empty: never)').fill('2026-01-31');
    await page.getByLabel(/^Priority/).fill('10');
    await page.locator('#grant-reason').fill('outage compensation');
    await page.getByRole('button', { name: 'Grant tokens' }).click();
    await page
      .locator('#grant-status .error')
      .getByText(/expires_at/)
      .waitFor();

    await page.getByLabel('Expires (end of day, UTC; empty: never)').fill('2026-12-31');
    await page.getByRole('button', { name: 'Grant tokens' }).click();
    await page
      .locator('#account-notice')
      .getByText(/^Granted 40 promotional tokens as grant #\d+, expiring Dec 31, 2026, 11:59 PM\.$/)
      .waitFor();
    await waitForText(page, '[data-testid="admin-balance"]', '139');
    await waitForText(page, '[data-testid="admin-promotional"]', '40');
    const listed = (await svc.call({ as: 'admin', method: 'GET', url: '/api/admin/accounts/grantee/grants' })).json();
    const bonus = listed.grants[0];
    assert.equal(bonus.category, 'promotional');
    const row = page.locator(`#grants-list tr[data-grant="${bonus.id}"]`);
    await row.waitFor();
    assert.deepEqual((await row.locator('td').allTextContents()).slice(0, 6), [
      `#${bonus.id}`,
      'active',
      'promotional',
      '40',
      '40',
      '10',
    ]);

    // Priority 10 is spent before the plan's 50: the debit draws from the bonus.
    await svc.ledger.deduct({ account: 'grantee', feature: 'social_post' });
    await page.reload();
    await waitForText(page, '[data-testid="admin-balance"]', '138');
    await page.locator('#ledger-list tbody tr').first().waitFor();
    assert.deepEqual(
      (await page.locator('#ledger-list tbody tr').first().locator('td').allTextContents()).slice(1, 5),
      ['debit', '-1', '138', `grant\u00a0#${bonus.id}\u00a0−1`],
    );

    await page.getByRole('button', { name: `Void grant #${bonus.id}` }).click();
    await page.locator('#void-preview').getByText('its 39 remaining tokens leave the balance').waitFor();
    // The reason field has the focus: the operator types it and confirms with Enter.
    await page.keyboard.type('promotion abuse');
    await page.keyboard.press('Enter');
    await page
      .locator('#account-notice')
      .getByText(`Grant #${bonus.id} voided: 39 remaining tokens removed.`)
      .waitFor();
    await waitForText(page, '[data-testid="admin-balance"]', '99');
    await waitForText(page, `#grants-list tr[data-grant="${bonus.id}"] td:nth-child(2)`, 'voided');
    await waitForText(page, `#grants-list tr[data-grant="${bonus.id}"] td:nth-child(5)`, '0');
    assert.equal(await row.getByRole('button').count(), 0);
    await page.locator('#ledger-list tbody tr').first().waitFor();
    assert.deepEqual(
      (await page.locator('#ledger-list tbody tr').first().locator('td').allTextContents()).slice(1, 5),
      ['grant_void', '-39', '99', `grant\u00a0#${bonus.id}\u00a0−39`],
    );
    // The refused past expiry is the one failed request.
    await checkPage(
      page,
      w,
      'grants-admin-account-phone',
      375,
      /status of 400 .*\/api\/admin\/accounts\/grantee\/grants$/,
    );
    await close();
  });
});
