// Webhooks and events in the admin console (issue 16), in Chromium against a real service whose
// dispatcher sends to a real receiver on 127.0.0.1: an endpoint added in the console shows its
// secret once and gets deliveries signed with it; a delivery the receiver refused is sent again
// with Retry; rotating and removing are confirmed first; a refused URL is explained next to the
// form. The account page lists the account's events newest first and sets its low-balance
// threshold. Each page passes axe-core.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { verifyWebhook } from '../../src/sdk/verify-webhook.ts';
import { ADMIN_KEY } from '../http/http-helpers.ts';
import { buildAssets, checkPage, launchBrowser, type PageWatch, waitForText, watch } from './browser-helpers.ts';
import { startReceiver, type WebhookReceiver } from './webhook-receiver.ts';
import { startWebhookService, type WebhookService } from './webhook-service.ts';

const SECRET = '[data-testid="webhook-secret"]';

describe('webhooks and events in the admin console, in a real browser', () => {
  let assets: Awaited<ReturnType<typeof buildAssets>>;
  let browser: Browser;
  let svc: WebhookService;
  let receiver: WebhookReceiver;

  before(async () => {
    assets = await buildAssets();
    browser = await launchBrowser();
    svc = await startWebhookService(assets.root, true);
    receiver = await startReceiver();
  });
  after(async () => {
    await browser?.close();
    await svc?.close();
    await receiver?.close();
    assets?.remove();
  });

  /** Signed in with the admin key: the event feed (`/api/events`) takes a key, not the operator cookie. */
  async function open(
    path: string,
    width = 1100,
    service: WebhookService = svc,
  ): Promise<{ page: Page; w: PageWatch; close: () => Promise<void> }> {
    const context = await browser.newContext({ viewport: { width, height: 900 }, timezoneId: 'UTC' });
    const page = await context.newPage();
    const w = watch(page, [service.url]);
    await page.goto(`${service.url}${path}`);
    await page.getByLabel('Admin key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('navigation', { name: 'Console' }).waitFor();
    return { page, w, close: () => context.close() };
  }

  async function cells(page: Page, row: string): Promise<string[]> {
    return (await page.locator(`${row} td`).allTextContents()).map((t) => t.trim());
  }

  async function adjust(account: string, amount: number): Promise<void> {
    const res = await svc.call({
      as: 'admin',
      method: 'POST',
      url: `/api/admin/accounts/${account}/adjust`,
      payload: { amount, reason: 'webhook test' },
    });
    assert.equal(res.statusCode, 200, res.body);
  }

  it('an endpoint added in the console shows its secret once, gets signed deliveries, retries a refused one, rotates and is removed', async () => {
    const { page, w, close } = await open('/admin#/webhooks');
    await page.getByRole('heading', { name: 'Webhooks', level: 1 }).waitFor();
    await page
      .locator('#webhooks-list')
      .getByText(/^No endpoints yet/)
      .waitFor();
    assert.equal(await page.locator('.console-nav a[aria-current="page"]').textContent(), 'Webhooks');

    await page.getByLabel('Endpoint URL').fill(receiver.url);
    for (const t of ['balance.low', 'balance.depleted', 'balance.recovered'])
      await page.getByLabel(t, { exact: true }).check();
    await page.getByLabel('Description (optional)').fill('billing app');
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await page.locator(SECRET).waitFor();
    const secret = ((await page.locator(SECRET).textContent()) ?? '').trim();
    assert.match(secret, /^whsec_[A-Za-z0-9+/=]+$/);
    await page.locator('#webhook-secret-box').getByText('Copy it now: it is not shown again.').waitFor();
    assert.equal(await page.evaluate('document.activeElement?.id'), 'webhook-secret-box');
    const listed = (await svc.call({ as: 'admin', method: 'GET', url: '/api/admin/webhooks' })).json();
    assert.equal(listed.webhooks.length, 1);
    const hook = listed.webhooks[0];
    const row = `#webhooks-list tr[data-webhook="${hook.id}"]`;
    await page.locator(row).waitFor();
    assert.deepEqual((await cells(page, row)).slice(0, 3), [
      receiver.url,
      'balance.low, balance.depleted, balance.recovered',
      'billing app',
    ]);
    await checkPage(page, w, 'webhooks-added', 1100);

    // Shown once: drawn again, the page has no secret anywhere.
    await page.reload();
    await page.locator(row).waitFor();
    assert.equal(await page.locator(SECRET).count(), 0);
    assert.ok(!(await page.content()).includes(secret));

    // A real operation crosses the free plan's threshold (10 of 100): the receiver gets
    // balance.low, signed with the secret the page showed.
    await adjust('hook-1', -91);
    const [first] = await receiver.waitFor(1);
    assert.ok(first);
    const low = verifyWebhook(first.body, first.headers, secret);
    assert.equal(low.type, 'balance.low');
    assert.deepEqual(low.data, { account: 'hook-1', available: 9, threshold: 10 });
    const [delivered] = await svc.outcomes(1);
    assert.equal(delivered?.status, 'delivered');

    await page.getByRole('link', { name: receiver.url }).click();
    await page.getByRole('heading', { name: 'Webhook deliveries', level: 1 }).waitFor();
    const d1 = `#deliveries-list tr[data-delivery="${delivered?.delivery}"]`;
    await page.locator(d1).waitFor();
    const c1 = await cells(page, d1);
    assert.deepEqual(c1.slice(0, 6), [`#${delivered?.delivery}`, 'balance.low', low.id, 'delivered', '1', '200']);
    assert.match(c1[6] ?? '', /^delivered \w{3} \d{1,2}, \d{4}, \d{1,2}:\d{2} [AP]M$/);
    assert.equal(c1[7], '—');

    // The receiver is down for the next event: the attempt is recorded with its answer and a next attempt.
    receiver.answer(500);
    await adjust('hook-1', -9);
    await receiver.waitFor(2);
    const refused = (await svc.outcomes(2))[1];
    assert.equal(refused?.status, 'pending');
    await page.getByRole('button', { name: 'Refresh' }).click();
    const d2 = `#deliveries-list tr[data-delivery="${refused?.delivery}"]`;
    await waitForText(page, `${d2} td:nth-child(6)`, '500');
    const c2 = await cells(page, d2);
    assert.deepEqual(c2.slice(1, 6), ['balance.depleted', c2[2], 'pending', '1', '500']);
    assert.match(c2[6] ?? '', /^next attempt /);
    assert.equal(c2[7], 'HTTP 500');
    // Newest first.
    assert.equal(
      await page.locator('#deliveries-list tbody tr').first().getAttribute('data-delivery'),
      `${refused?.delivery}`,
    );

    // It recovers; Retry sends the same event again now.
    receiver.answer(200);
    await page.getByRole('button', { name: `Retry delivery #${refused?.delivery}` }).click();
    await waitForText(page, '#deliveries-status', `Delivery #${refused?.delivery} is due again now.`);
    const again = await receiver.waitFor(3);
    assert.equal(again[2]?.headers['webhook-id'], again[1]?.headers['webhook-id']);
    assert.equal(verifyWebhook(again[2]?.body ?? '', again[2]?.headers ?? {}, secret).type, 'balance.depleted');
    assert.equal((await svc.outcomes(3))[2]?.status, 'delivered');
    await page.getByRole('button', { name: 'Refresh' }).click();
    await waitForText(page, `${d2} td:nth-child(4)`, 'delivered');
    assert.deepEqual((await cells(page, d2)).slice(3, 6), ['delivered', '2', '200']);
    assert.equal((await cells(page, d2))[7], '—');
    await checkPage(page, w, 'webhook-deliveries', 1100);

    // Rotation is confirmed first; the new secret is shown once, and only it signs from now on.
    await page.getByRole('link', { name: '← Webhooks' }).click();
    await page.getByRole('button', { name: `Rotate secret of ${receiver.url}` }).click();
    await page
      .locator('#webhook-confirm-text')
      .getByText(/stops working at once/)
      .waitFor();
    assert.equal(await page.locator(SECRET).count(), 0, 'nothing rotates before the confirmation');
    await page.getByRole('button', { name: 'Rotate secret', exact: true }).click();
    await page.locator(SECRET).waitFor();
    const rotated = ((await page.locator(SECRET).textContent()) ?? '').trim();
    assert.match(rotated, /^whsec_/);
    assert.notEqual(rotated, secret);
    await waitForText(page, '#webhook-secret-title', `New secret for ${receiver.url}`);
    await adjust('hook-1', 50);
    const recovered = (await receiver.waitFor(4))[3];
    assert.ok(recovered);
    assert.equal(verifyWebhook(recovered.body, recovered.headers, rotated).type, 'balance.recovered');
    assert.throws(() => verifyWebhook(recovered.body, recovered.headers, secret));
    await page.getByRole('button', { name: 'I have copied it' }).click();
    assert.equal(await page.locator(SECRET).count(), 0);

    // Removal: Cancel keeps it; the confirmation removes it.
    await page.getByRole('button', { name: `Remove ${receiver.url}` }).click();
    await page.locator('#webhook-confirm').getByRole('button', { name: 'Cancel' }).click();
    assert.equal(await page.locator('#webhook-confirm').isVisible(), false);
    assert.equal(
      (await svc.call({ as: 'admin', method: 'GET', url: '/api/admin/webhooks' })).json().webhooks.length,
      1,
    );
    await page.getByRole('button', { name: `Remove ${receiver.url}` }).click();
    await page
      .locator('#webhook-confirm-text')
      .getByText(`Remove the endpoint ${receiver.url}? It gets no more events, and its pending deliveries fail.`)
      .waitFor();
    await page.getByRole('button', { name: 'Remove endpoint' }).click();
    await waitForText(page, '#webhooks-status', `Removed ${receiver.url}.`);
    await page
      .locator('#webhooks-list')
      .getByText(/^No endpoints yet/)
      .waitFor();
    assert.deepEqual((await svc.call({ as: 'admin', method: 'GET', url: '/api/admin/webhooks' })).json().webhooks, []);
    await checkPage(page, w, 'webhooks-removed', 1100);
    await close();
  });

  it('a URL the service refuses is explained next to the form, naming the field (a private address without ALLOW_PRIVATE)', async () => {
    const strict = await startWebhookService(assets.root, false);
    try {
      const { page, w, close } = await open('/admin#/webhooks', 375, strict);
      await page.getByLabel('Endpoint URL').fill('http://10.0.0.1/hooks');
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      await waitForText(page, '#webhook-form-status .error', 'url: address 10.0.0.1 is private');
      assert.equal(await page.getByLabel('Endpoint URL').getAttribute('aria-invalid'), 'true');
      assert.equal(await page.locator(SECRET).count(), 0);
      assert.equal(await page.getByRole('alert').count(), 0, 'not an alert box');

      await page.getByLabel('Endpoint URL').fill('https://ops:hunter2@hooks.example.com/in');
      await page.getByRole('button', { name: 'Add endpoint' }).click();
      await waitForText(
        page,
        '#webhook-form-status .error',
        'url: credentials in the URL (user:password@) are not accepted',
      );
      assert.deepEqual(
        (await strict.call({ as: 'admin', method: 'GET', url: '/api/admin/webhooks' })).json().webhooks,
        [],
      );
      await checkPage(page, w, 'webhooks-refused-url-phone', 375, /status of 400 .*\/api\/admin\/webhooks$/);
      await close();
    } finally {
      await strict.close();
    }
  });

  it('the account page lists its events newest first and sets the low-balance threshold, showing what the service refuses', async () => {
    await adjust('alerts-1', -91); // 9 left: balance.low (threshold 10)
    await adjust('alerts-1', -9); // 0: balance.depleted
    await adjust('alerts-1', 5); // 5: balance.recovered
    const { page, w, close } = await open('/admin#/account/alerts-1', 375);
    await waitForText(page, '[data-testid="admin-balance"]', '5');
    await page.locator('#events-list tbody tr').first().waitFor();
    const column = (n: number) => page.locator(`#events-list tbody tr td:nth-child(${n})`).allTextContents();
    assert.deepEqual(await column(1), ['3', '2', '1']);
    assert.deepEqual(await column(3), ['balance.recovered', 'balance.depleted', 'balance.low']);
    assert.deepEqual(await column(4), ['available 5', 'available 0', 'available 9 (threshold 10)']);

    await page.getByLabel(/^Low-balance threshold/).fill('50');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await waitForText(page, '#alerts-status .ok', 'Saved: balance.low fires when available falls below 50 tokens.');
    // The setting is the one the engine uses: from 65 to 45 crosses 50.
    await adjust('alerts-1', 60);
    await adjust('alerts-1', -20);
    await page.reload();
    await waitForText(page, '#events-list tbody tr:first-child td:nth-child(4)', 'available 45 (threshold 50)');

    await page.getByLabel(/^Low-balance threshold/).fill('-1');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page
      .locator('#alerts-status .error')
      .getByText(/^low_balance_threshold: /)
      .waitFor();
    assert.equal(await page.getByLabel(/^Low-balance threshold/).getAttribute('aria-invalid'), 'true');

    await page.getByLabel(/^Low-balance threshold/).fill('');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await waitForText(page, '#alerts-status .ok', "Saved: the plan's low-balance threshold applies.");
    assert.equal(await page.getByLabel(/^Low-balance threshold/).getAttribute('aria-invalid'), null);
    await checkPage(
      page,
      w,
      'account-events-alerts-phone',
      375,
      /status of 400 .*\/api\/admin\/accounts\/alerts-1\/alerts$/,
    );
    await close();
  });

  it('with more than 50 events the newest 50 show first and "Older events" shows the rest', async () => {
    // Provisioned on free, a plan change, then 26 times to zero and back: 53 events, the plan change the oldest.
    await adjust('busy-1', 1);
    const plan = await svc.call({
      as: 'admin',
      method: 'PUT',
      url: '/api/admin/accounts/busy-1/plan',
      payload: { plan: 'starter', reason: 'upgrade' },
    });
    assert.equal(plan.statusCode, 200, plan.body);
    for (let i = 0; i < 26; i++) {
      await adjust('busy-1', -2000);
      await adjust('busy-1', 2000);
    }
    const { page, w, close } = await open('/admin#/account/busy-1');
    const rows = page.locator('#events-list tbody tr');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 50);
    assert.equal(await page.locator('#events-list tbody tr:first-child td:first-child').textContent(), '53');
    await page.getByRole('button', { name: 'Older events' }).click();
    await waitForText(page, '#events-list tbody tr:last-child td:first-child', '1');
    assert.equal(await rows.count(), 53);
    assert.deepEqual(
      await page
        .locator('#events-list tbody tr:last-child td')
        .allTextContents()
        .then((c) => [c[2], c[3]]),
      ['plan.changed', 'free → starter'],
    );
    assert.equal(await page.getByRole('button', { name: 'Older events' }).count(), 0);
    await checkPage(page, w, 'account-events-paged', 1100);
    await close();
  });

  it('signed in as the demo operator, the account page lists its events (read through the admin API)', async () => {
    await adjust('operator-1', -91);
    const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await context.newPage();
    const w = watch(page, [svc.url]);
    await page.goto(`${svc.url}/admin#/account/operator-1`);
    await page.getByRole('button', { name: 'Sign in as the demo operator' }).click();
    await page.locator('#events-list tr[data-event]').first().waitFor();
    assert.deepEqual(
      await page
        .locator('#events-list tr[data-event] td')
        .allTextContents()
        .then((c) => [c[2], c[3]]),
      ['balance.low', 'available 9 (threshold 10)'],
    );
    assert.deepEqual(w.errors, []);
    await context.close();
  });
});
