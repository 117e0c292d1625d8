// Automatic top-up in the web pages (issue 17), in Chromium against a real service on SQLite
// with the offline test provider and the top-up worker beside it: the billing page's section
// at zero balance (no card: enabling is refused and says how to save one), a card saved by a
// real test checkout with the save box ticked, enabling that persists, a suspension after a
// declined off-session charge and its re-enabling, and the console's account page reading and
// changing the same settings with its admin key. Each page passes axe-core and fits 375 px.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ManualClock } from '../../src/core/clock.ts';
import { TopupWorker } from '../../src/events/topup-worker.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { TEST_PROVIDER, TestProvider } from '../../src/payments/test-provider.ts';
import { ADMIN_KEY } from '../http/http-helpers.ts';
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

const CARD = '[data-testid="auto-topup-card"]';
const STATUS = '[data-testid="auto-topup-status"]';
const USED = '[data-testid="auto-topup-used"]';
const SAVED = '#auto-topup-form-status .ok';
const SAVE_LABEL = 'Save this card for automatic top-ups';

interface AutoTopupWire {
  enabled: boolean;
  threshold: number;
  package: string;
  monthly_limit: number;
  status: string;
  payment_method: { brand: string; last4: string } | null;
  last_error: string | null;
}

/** The top-up worker as `serve` runs it, charging through the test provider on the service's clock. */
function topupWorker(clock: ManualClock) {
  return (ledger: TokenLedger) => {
    const provider = new TestProvider({ charges: ledger.payments.testCharges, clock });
    const worker = new TopupWorker({
      autoTopup: ledger.autoTopup,
      provider: (name) => (name === TEST_PROVIDER ? provider : null),
      clock,
      logger: silentLogger,
      leaseMs: 120_000,
      recheckMs: 1_000,
    });
    let stopSignal = () => {};
    return {
      start() {
        stopSignal = ledger.onTopupIntents(() => worker.wake());
        worker.start();
      },
      async stop() {
        stopSignal();
        await worker.stop();
      },
    };
  };
}

describe('automatic top-up on the billing page and the admin account page, in a real browser', () => {
  let assets: Awaited<ReturnType<typeof buildAssets>>;
  let browser: Browser;
  let svc: Service;

  before(async () => {
    assets = await buildAssets();
    browser = await launchBrowser();
    const clock = new ManualClock('2026-03-10T12:00:00Z');
    svc = await startService(assets.root, { clock, beside: topupWorker(clock) });
  });
  after(async () => {
    await browser?.close();
    await svc?.close();
    assets?.remove();
  });

  async function read(account: string): Promise<AutoTopupWire> {
    const res = await svc.call({ method: 'GET', url: `/api/payment/auto-topup?account=${account}` });
    assert.equal(res.statusCode, 200, res.body);
    return (res.json() as { auto_topup: AutoTopupWire }).auto_topup;
  }

  async function adjust(account: string, change: { amount: number } | { balance: number }): Promise<void> {
    const res = await svc.call({
      as: 'admin',
      method: 'POST',
      url: `/api/admin/accounts/${account}/adjust`,
      payload: { ...change, reason: 'auto top-up browser test' },
    });
    assert.equal(res.statusCode, 200, res.body);
  }

  /** A card saved the way a provider reports one (Stripe's checkout, the test provider's completion). */
  async function saveCard(account: string, brand: string, last4: string): Promise<void> {
    await svc.ledger.payments.applyEvent({
      provider: TEST_PROVIDER,
      eventId: `saved-${account}-${last4}`,
      eventType: 'payment_method.saved',
      command: { type: 'payment_method_saved', account, customerId: null, methodId: `pm_${last4}`, brand, last4 },
    });
  }

  /** Resolves once `check` holds, tested now and after every commit that records events. */
  function until(check: () => Promise<boolean>): Promise<void> {
    return new Promise((resolve, reject) => {
      let stop = () => {};
      const test = () =>
        check().then((done) => {
          if (done) {
            stop();
            resolve();
          }
        }, reject);
      stop = svc.ledger.onEventsCommitted(() => void test());
      void test();
    });
  }

  async function billing(
    account: string,
    width = 1100,
  ): Promise<{ page: Page; w: PageWatch; close: () => Promise<void> }> {
    const context = await browser.newContext({ viewport: { width, height: 900 }, timezoneId: 'UTC' });
    const page = await context.newPage();
    const w = watch(page, [svc.url]);
    await page.goto(`${svc.url}/demo/login?account=${account}`);
    await page.goto(`${svc.url}/billing`);
    return { page, w, close: () => context.close() };
  }

  const field = {
    enabled: (p: Page) => p.getByRole('switch', { name: 'Top up automatically' }),
    threshold: (p: Page) => p.getByLabel('When available tokens fall below'),
    package: (p: Page) => p.getByLabel(/^Package to buy/),
    limit: (p: Page) => p.getByLabel(/^At most this many times a month/),
    save: (p: Page) => p.getByRole('button', { name: 'Save automatic top-up' }),
  };

  it('at zero balance: "No card saved", and enabling is refused with the way to save a card; plans never send save_card', async () => {
    const { page, w, close } = await billing('topup-nocard', 375);
    await adjust('topup-nocard', { balance: 0 });
    await page.reload();
    await waitForText(page, '[data-testid="token-balance"]', '0');
    await waitForText(page, CARD, 'No card saved');
    await waitForText(page, STATUS, 'Off');
    // A never-configured account shows the defaults: off, the plan's low-balance threshold, the first top-up.
    assert.equal(await field.enabled(page).isChecked(), false);
    assert.equal(await field.threshold(page).inputValue(), '10');
    assert.equal(await field.package(page).inputValue(), 'tokens_100');
    assert.equal(await field.limit(page).inputValue(), '3');
    assert.deepEqual(await page.locator('#auto-topup-package option').allTextContents(), [
      '100 tokens for $5.00',
      '500 tokens for $25.00',
      '2,000 tokens for $100.00',
    ]);

    await field.enabled(page).check();
    await field.threshold(page).fill('50');
    await field.package(page).selectOption('tokens_500');
    await field.save(page).click();
    await waitForText(
      page,
      '#auto-topup-card-required',
      `No card is saved yet: buy a top-up package above with “${SAVE_LABEL}” ticked, then turn automatic top-up on. Tick the box`,
    );
    // Nothing was saved: the switch shows what is in force, and the service agrees.
    assert.equal(await field.enabled(page).isChecked(), false);
    await waitForText(page, STATUS, 'Off');
    assert.equal((await read('topup-nocard')).enabled, false);

    await page.getByRole('button', { name: 'Tick the box' }).click();
    assert.equal(await page.getByLabel(SAVE_LABEL).isChecked(), true);
    assert.ok(await page.evaluate(`document.activeElement?.id === 'save-card'`), 'focus moves to the save box');
    await checkPage(page, w, 'auto-topup-billing-no-card-phone', 375, /status of 409 .*\/api\/payment\/auto-topup$/);

    // A plan pays by subscription: the ticked box adds nothing to its checkout.
    const bodies: unknown[] = [];
    await page.route('**/api/payment/checkout', async (route) => {
      bodies.push(route.request().postDataJSON());
      await route.fulfill({
        contentType: 'application/json',
        body: JSON.stringify({ success: true, url: `${svc.url}/billing?checkout=plan` }),
      });
    });
    await page.getByRole('button', { name: 'Buy Starter plan for $49.00' }).click();
    await page.waitForURL(`${svc.url}/billing?checkout=plan`);
    assert.deepEqual(bodies, [{ package: 'plan_starter' }]);
    await close();
  });

  it('a top-up bought on the test checkout with the save box ticked saves the card; enabling then works and persists across a reload', async () => {
    const { page, w, close } = await billing('topup-saver');
    await adjust('topup-saver', { balance: 0 });
    await page.reload();
    await waitForText(page, CARD, 'No card saved');
    const checkouts: unknown[] = [];
    page.on('request', (r) => {
      if (r.method() === 'POST' && r.url().endsWith('/api/payment/checkout')) checkouts.push(r.postDataJSON());
    });
    await page.getByLabel(SAVE_LABEL).check();
    await page.getByRole('button', { name: 'Buy 100 tokens for $5.00' }).click();
    await page.waitForURL(/\/pay\/test\/[^/]+\?save_card=1$/);
    assert.deepEqual(checkouts, [{ package: 'tokens_100', save_card: true }]);
    // The provider's own page carries the choice over; the default test card succeeds on and off session.
    assert.equal(await page.getByLabel(SAVE_LABEL).isChecked(), true);
    await page.getByRole('button', { name: 'Complete test payment' }).click();
    await page.waitForURL(`${svc.url}/billing?payment=success`);
    await waitForText(page, '[data-testid="token-balance"]', '100');
    await waitForText(page, CARD, 'Visa •••• 4242');
    await waitForText(page, USED, '0 of 3');

    await field.enabled(page).check();
    await field.threshold(page).fill('50');
    await field.package(page).selectOption('tokens_500');
    await field.limit(page).fill('5');
    await field.save(page).click();
    await waitForText(
      page,
      SAVED,
      'Saved: when available tokens fall below 50, 500 tokens for $25.00 is bought, at most 5 times a month.',
    );
    await waitForText(page, STATUS, 'Active');
    await waitForText(page, USED, '0 of 5');

    await page.reload();
    await waitForText(page, STATUS, 'Active');
    assert.equal(await field.enabled(page).isChecked(), true);
    assert.equal(await field.threshold(page).inputValue(), '50');
    assert.equal(await field.package(page).inputValue(), 'tokens_500');
    assert.equal(await field.limit(page).inputValue(), '5');
    const stored = await read('topup-saver');
    assert.deepEqual(
      [stored.enabled, stored.threshold, stored.package, stored.monthly_limit, stored.payment_method],
      [true, 50, 'tokens_500', 5, { brand: 'visa', last4: '4242' }],
    );

    // A value the service refuses is shown with its message, on the field it names.
    await field.limit(page).fill('101');
    await field.save(page).click();
    await page
      .locator('#auto-topup-form-status .error')
      .getByText(/^monthly_limit/)
      .waitFor();
    assert.equal(await field.limit(page).getAttribute('aria-invalid'), 'true');
    assert.equal((await read('topup-saver')).monthly_limit, 5);
    await checkPage(page, w, 'auto-topup-billing-active', 1100, /status of 400 .*\/api\/payment\/auto-topup$/);
    await close();
  });

  it('a declined off-session charge suspends it: the page says why and what the bank wants; re-enabling makes it active', async () => {
    // 3184 needs authentication: an automatic charge to it is declined and suspends at once.
    await adjust('topup-suspend', { amount: 5 });
    await saveCard('topup-suspend', 'visa', '3184');
    const put = await svc.call({
      method: 'PUT',
      url: '/api/payment/auto-topup',
      payload: { account: 'topup-suspend', enabled: true, threshold: 50, package: 'tokens_100', monthly_limit: 3 },
    });
    assert.equal(put.statusCode, 200, put.body);
    await adjust('topup-suspend', { balance: 20 });
    await until(async () => (await read('topup-suspend')).status === 'suspended');

    const { page, w, close } = await billing('topup-suspend', 375);
    await waitForText(page, STATUS, 'Suspended');
    await waitForText(page, '#auto-topup-suspended', 'Stopped after failed charges — save a new card or re-enable.');
    assert.match(
      (await page.locator('[data-testid="auto-topup-error"]').textContent()) ?? '',
      /\(authentication_required\)\.$/,
    );
    await waitForText(page, CARD, 'Visa •••• 3184');
    await checkPage(page, w, 'auto-topup-billing-suspended-phone', 375);

    // Saving it enabled re-enables it: active, the error forgotten.
    await field.save(page).click();
    await waitForText(
      page,
      SAVED,
      'Saved: when available tokens fall below 50, 100 tokens for $5.00 is bought, at most 3 times a month.',
    );
    await waitForText(page, STATUS, 'Active');
    assert.equal(await page.locator('#auto-topup-suspended').isVisible(), false);
    assert.equal(await page.locator('[data-testid="auto-topup-error"]').count(), 0);
    await close();
  });

  it('the admin account page shows the same settings and changes them with its admin key', async () => {
    await adjust('topup-admin', { amount: 5 });
    await saveCard('topup-admin', 'mastercard', '4444');
    const put = await svc.call({
      method: 'PUT',
      url: '/api/payment/auto-topup',
      payload: { account: 'topup-admin', enabled: true, threshold: 20, package: 'tokens_100', monthly_limit: 2 },
    });
    assert.equal(put.statusCode, 200, put.body);

    const context = await browser.newContext({ viewport: { width: 375, height: 900 }, timezoneId: 'UTC' });
    const page = await context.newPage();
    const w = watch(page, [svc.url]);
    await page.goto(`${svc.url}/admin#/account/topup-admin`);
    await page.getByLabel('Admin key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Automatic top-up', level: 2 }).waitFor();
    await waitForText(page, CARD, 'Mastercard •••• 4444');
    await waitForText(page, STATUS, 'Active');
    await waitForText(page, USED, '0 of 2');
    assert.equal(await field.enabled(page).isChecked(), true);
    assert.equal(await field.threshold(page).inputValue(), '20');
    assert.equal(await field.package(page).inputValue(), 'tokens_100');

    await field.threshold(page).fill('80');
    await field.package(page).selectOption('tokens_2000');
    await field.limit(page).fill('10');
    await field.save(page).click();
    await waitForText(
      page,
      SAVED,
      'Saved: when available tokens fall below 80, 2,000 tokens for $100.00 is bought, at most 10 times a month.',
    );
    const changed = await read('topup-admin');
    assert.deepEqual(
      [changed.enabled, changed.threshold, changed.package, changed.monthly_limit],
      [true, 80, 'tokens_2000', 10],
    );

    await field.enabled(page).uncheck();
    await field.save(page).click();
    await waitForText(page, SAVED, 'Saved: automatic top-up is off.');
    await waitForText(page, STATUS, 'Off');
    await page.reload();
    await waitForText(page, STATUS, 'Off');
    assert.equal(await field.enabled(page).isChecked(), false);
    assert.equal(await field.threshold(page).inputValue(), '80');
    assert.equal((await read('topup-admin')).enabled, false);
    await checkPage(page, w, 'auto-topup-admin-account-phone', 375);
    await context.close();
  });

  it('signed in as the demo operator (no key), the console reads and changes the settings through the operator API', async () => {
    await adjust('topup-operator', { amount: 5 });
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    const w = watch(page, [svc.url]);
    await page.goto(`${svc.url}/admin#/account/topup-operator`);
    await page.getByRole('button', { name: 'Sign in as the demo operator' }).click();
    await page.getByRole('heading', { name: 'Automatic top-up', level: 2 }).waitFor();
    await waitForText(page, STATUS, 'Off');
    await field.threshold(page).fill('70');
    await page.getByRole('button', { name: 'Save automatic top-up' }).click();
    await page
      .locator('#auto-topup-body')
      .getByText(/^Saved: automatic top-up is off/)
      .first()
      .waitFor();
    assert.equal((await read('topup-operator')).threshold, 70);
    await checkPage(page, w, 'auto-topup-admin-operator', 1100);
    await context.close();
  });
});
