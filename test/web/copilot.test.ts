import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  type AxeImpact,
  axeViolations,
  buildAssets,
  launchBrowser,
  type PageWatch,
  type Service,
  screenshot,
  startService,
  waitForDisabled,
  waitForText,
  watch,
} from './browser-helpers.ts';

const BALANCE = '[data-testid="token-balance"]';
const FEATURES = 'button[data-feature]';
const CALL = 'button[data-feature="outbound_call_single"]';

describe('copilot demo in a real browser', () => {
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

  async function signIn(account: string, viewport = { width: 1100, height: 800 }) {
    const context: BrowserContext = await browser.newContext({ viewport });
    const page: Page = await context.newPage();
    const w: PageWatch = watch(page, [svc.url]);
    await page.goto(`${svc.url}/demo/login?account=${account}`);
    await waitForText(page, BALANCE, '100');
    return { context, page, w };
  }

  async function setBalance(account: string, balance: number) {
    const res = await svc.call({
      as: 'admin',
      method: 'POST',
      url: `/api/admin/accounts/${account}/adjust`,
      payload: { balance, reason: 'browser test: as in the seed, balance set to zero' },
    });
    assert.equal(res.statusCode, 200, res.body);
  }

  async function accessible(page: Page, name: string, impacts?: readonly AxeImpact[]): Promise<void> {
    assert.deepEqual(await axeViolations(page, impacts), [], `axe: ${name}`);
  }

  function clean(w: PageWatch, allowed: RegExp[] = []) {
    assert.deepEqual(
      w.errors.filter((e) => !allowed.some((a) => a.test(e))),
      [],
    );
    assert.deepEqual(w.foreign, []);
  }

  it('the seed story: 100, each call lowers the shown balance by 1, disabled at 0 with the banner, billing works, a purchase enables them', async () => {
    const { context, page, w } = await signIn('seed-7');
    assert.equal(await page.locator(FEATURES).count(), 5);
    assert.equal(await page.locator('#banner').isVisible(), false);
    await waitForDisabled(page, FEATURES, false);
    await accessible(page, 'copilot at 100, desktop');
    await screenshot(page, 'copilot-fresh-100');

    await page.click(CALL);
    await waitForText(page, BALANCE, '99');
    await page.click(CALL);
    await waitForText(page, BALANCE, '98');
    await waitForText(page, '#used', '2');
    assert.match((await page.locator('#result').textContent()) ?? '', /Simulated outbound call/);
    await screenshot(page, 'copilot-after-two-calls');

    await setBalance('seed-7', 0);
    // The page refreshes when the tab regains focus.
    await page.evaluate('window.dispatchEvent(new Event("focus"))');
    await waitForText(page, BALANCE, '0');
    await waitForDisabled(page, FEATURES, true);
    await page.locator('#banner').waitFor({ state: 'visible' });
    assert.match((await page.locator('#banner').textContent()) ?? '', /Features are disabled.*Billing still works/);
    await accessible(page, 'copilot at zero with the banner, desktop');
    await screenshot(page, 'copilot-zero-banner');

    await page.getByRole('link', { name: 'buy tokens' }).click();
    await page.waitForURL(`${svc.url}/billing`);
    await waitForText(page, BALANCE, '0');
    await page.locator('#packages > *').first().waitFor();
    await page.locator('#packages').getByText('$25.00').waitFor();
    await screenshot(page, 'billing-at-zero');
    await page.locator('[data-package="tokens_100"] button').click();
    await page.waitForURL(/\/pay\/test\//);
    await page.getByText('TEST PAYMENT').first().waitFor();
    // The test provider's checkout is a step of the story: its card field, save box and table
    // of test cards pass axe at desktop width and on a phone, down to its moderate rules (its
    // content sits in a main landmark).
    const everything: AxeImpact[] = ['minor', 'moderate', 'serious', 'critical'];
    await page.getByLabel('Card number').waitFor();
    await page.getByLabel('Save this card for automatic top-ups').waitFor();
    await page.getByRole('table', { name: /Test cards/ }).waitFor();
    await accessible(page, 'test checkout, desktop', everything);
    await screenshot(page, 'billing-test-checkout');
    await page.setViewportSize({ width: 375, height: 740 });
    assert.ok(
      await page.evaluate('document.documentElement.scrollWidth <= 375'),
      'the test checkout overflows at 375 px',
    );
    await accessible(page, 'test checkout, 375 px', everything);
    await screenshot(page, 'phone-test-checkout');
    await page.setViewportSize({ width: 1100, height: 800 });
    // A mistyped card number: the page comes back with the error, the field marked invalid and
    // focused, and still passes axe; the buyer then types a test card and completes.
    await page.getByLabel('Card number').fill('1234');
    await page.getByRole('button', { name: 'Complete test payment' }).click();
    await page
      .getByRole('alert')
      .getByText(/not a card number/)
      .waitFor();
    await page.waitForFunction('document.activeElement?.id === "card"');
    assert.equal(await page.getByLabel('Card number').getAttribute('aria-invalid'), 'true');
    await accessible(page, 'test checkout after a mistyped card', everything);
    await screenshot(page, 'billing-test-checkout-card-error');
    await page.getByLabel('Card number').fill('4242 4242 4242 4242');
    await page.getByRole('button', { name: 'Complete test payment' }).click();
    // Back on billing by itself, as after Stripe's Checkout (issue 19).
    await page.waitForURL(`${svc.url}/billing?payment=success`);
    await page.getByText('Payment complete').waitFor();
    await waitForText(page, BALANCE, '100');
    await screenshot(page, 'billing-test-completed');
    await page.locator('#history table').getByRole('cell', { name: '100 tokens' }).waitFor();
    await screenshot(page, 'billing-history');
    await page.goto(`${svc.url}/`);
    await waitForText(page, BALANCE, '100');
    await waitForDisabled(page, FEATURES, false);
    assert.equal(await page.locator('#banner').isVisible(), false);
    await screenshot(page, 'copilot-after-purchase');
    // The 400 is the mistyped card number's answer, the page that says what to fix.
    clean(w, [/status of 400 .*\/pay\/test\/[^/]+\/complete$/]);
    await context.close();
  });

  it('a signed-out visit asks for nothing it cannot have; the account picker signs in', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const w = watch(page, [svc.url]);
    await page.goto(`${svc.url}/`);
    await waitForText(page, BALANCE, 'Not signed in');
    await page.getByText('Sign in as an account to use the features.').waitFor();
    await page.getByLabel('Account').fill('picker-1');
    await page.keyboard.press('Enter');
    await waitForText(page, BALANCE, '100');
    await waitForText(page, '#account-name', 'picker-1');
    await waitForDisabled(page, FEATURES, false);
    await screenshot(page, 'copilot-signed-in-by-picker');
    clean(w);
    await context.close();
  });

  it('a signed-out visit to billing asks for nothing it cannot have (no 401 in the console)', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const w = watch(page, [svc.url]);
    await page.goto(`${svc.url}/billing`);
    await waitForText(page, BALANCE, 'Not signed in');
    await page.getByText('Sign in to buy tokens.').waitFor();
    await screenshot(page, 'billing-signed-out');
    clean(w);
    await context.close();
  });

  it('a refused attempt (the balance changed elsewhere) opens an alertdialog with the server message and a Buy tokens link', async () => {
    const { context, page, w } = await signIn('refused-1');
    await waitForDisabled(page, FEATURES, false);
    await setBalance('refused-1', 0); // elsewhere: the page still shows 100
    await page.click(CALL);
    const dialog = page.getByRole('alertdialog');
    await dialog.waitFor({ state: 'visible' });
    assert.match((await dialog.textContent()) ?? '', /Insufficient tokens\. Your balance is 0\./);
    const buy = dialog.getByRole('link', { name: 'Buy tokens' });
    assert.equal(await buy.getAttribute('href'), '/billing');
    await waitForText(page, BALANCE, '0');
    await accessible(page, 'copilot refused dialog, desktop');
    await screenshot(page, 'copilot-refused-dialog');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    await waitForDisabled(page, FEATURES, true);
    // The 402 itself is the expected refusal, reported by the browser as a failed resource.
    clean(w, [/status of 402/]);
    await context.close();
  });

  it('the CRM prerequisite toggled off disables the buttons, back on enables them (keyboard only, phone width)', async () => {
    const { context, page, w } = await signIn('crm-1', { width: 375, height: 740 });
    await waitForDisabled(page, FEATURES, false);
    const crm = page.getByLabel('CRM connected');
    await crm.focus();
    await page.keyboard.press('Space');
    await waitForDisabled(page, FEATURES, true);
    assert.equal(await crm.isChecked(), false);
    await screenshot(page, 'copilot-crm-off-phone');
    const settings = await svc.call({
      as: { token: await svc.userToken('crm-1') },
      method: 'GET',
      url: '/demo/settings',
    });
    assert.equal(settings.json().crm_connected, false);
    await page.reload();
    await waitForText(page, BALANCE, '100');
    await waitForDisabled(page, FEATURES, true);
    await page.getByLabel('CRM connected').check();
    await waitForDisabled(page, FEATURES, false);
    // Still 100: toggling costs nothing; the balance header fits a phone screen.
    await waitForText(page, BALANCE, '100');
    const width = await page.evaluate('document.documentElement.scrollWidth');
    assert.ok(typeof width === 'number' && width <= 375, `page is ${String(width)}px wide at phone width`);
    clean(w);
    await context.close();
  });
});
