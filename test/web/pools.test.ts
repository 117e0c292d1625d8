// Shared pools in the web pages (issue 18 "Web", issue 19 "An account: pool membership"), in
// Chromium: the admin console lists a pool's members with their limits, use this cycle and a
// chart each, and adds, changes and removes members; a member's page shows its pool and takes
// it out; an account in none joins one. The copilot, signed in as the demo's pool member, shows
// what the pool has left and its own limit, which follow its use; a member whose limit is used
// up sees the features disabled while the pool still has tokens. Every page passes axe-core.
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
  waitForDisabled,
  waitForText,
  watch,
} from './browser-helpers.ts';

const BALANCE = '[data-testid="token-balance"]';
const FEATURES = 'button[data-feature]';
const COLLECTOR = 'button[data-feature="business_collector"]';
const CALL = 'button[data-feature="outbound_call_single"]';
/** A refused request the test causes logs one console error. */
const NOT_FOUND = /status of 404/;

describe('shared pools in the web pages, in a real browser', () => {
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

  async function open(path: string, width = 1100): Promise<{ page: Page; w: PageWatch; close: () => Promise<void> }> {
    const context = await browser.newContext({ viewport: { width, height: 900 }, timezoneId: 'UTC' });
    const page = await context.newPage();
    const w = watch(page, [svc.url]);
    await page.goto(`${svc.url}${path}`);
    return { page, w, close: () => context.close() };
  }

  async function operator(account: string, width = 1100) {
    const o = await open(`/admin#/account/${account}`, width);
    await o.page.getByRole('button', { name: 'Sign in as the demo operator' }).click();
    await o.page.getByRole('heading', { name: `Account ${account}`, level: 1 }).waitFor();
    return o;
  }

  /** The member's row once the card has loaded the members (after the page's notice). */
  async function cells(page: Page, member: string): Promise<string[]> {
    const row = page.locator(`#pool tr[data-member="${member}"]`);
    await row.waitFor();
    return row.locator('td').allTextContents();
  }

  async function notice(page: Page, text: string): Promise<void> {
    await waitForText(page, '#account-notice', text);
  }

  it('an operator adds members with limits, sees their use and a chart each, changes a limit and removes a member', async () => {
    await svc.ledger.createAccount({ account: 'org' });
    const { page, w, close } = await operator('org');
    // No members yet: the card offers to join a pool or to add a member.
    await page.getByRole('form', { name: 'Add to a pool' }).waitFor();
    await page.locator('#pool-add-account').fill('seat-1');
    await page.locator('#pool-add-limit').fill('30');
    await page.getByRole('button', { name: 'Add member' }).click();
    await notice(page, 'seat-1 is a member of pool org, with a limit of 30 tokens per cycle.');
    assert.deepEqual((await cells(page, 'seat-1')).slice(0, 5), ['seat-1', '30 per cycle', '0', '30', '0']);

    // A second member with no limit, added from the members' view.
    await page.locator('#pool-add-account').fill('seat-2');
    await page.getByRole('button', { name: 'Add member' }).click();
    await notice(page, 'seat-2 is a member of pool org, with no limit.');
    assert.deepEqual((await cells(page, 'seat-2')).slice(0, 5), ['seat-2', 'no limit', '0', 'no limit', '0']);

    // seat-1 spends from the pool (it has no tokens of its own): its use and its chart follow.
    const used = await svc.ledger.deduct({ account: 'seat-1', feature: 'business_collector' });
    assert.equal(used.ok, true);
    await page.reload();
    assert.deepEqual((await cells(page, 'seat-1')).slice(0, 5), ['seat-1', '30 per cycle', '5', '25', '0']);
    await page.locator('#pool-member-charts [data-member="seat-1"] canvas').waitFor();
    assert.match(
      (await page.locator('#pool-member-charts [data-member="seat-1"]').getAttribute('aria-label')) ?? '',
      /5 in all/,
    );
    await waitForText(
      page,
      '#pool-member-charts [data-member="seat-2"] p',
      'seat-2 drew no tokens from the pool in the last 30 days.',
    );
    await checkPage(page, w, 'pools-admin-members', 1100);

    // Change seat-1's limit to 40: 35 remain.
    await page.getByRole('button', { name: 'Change limit of seat-1' }).click();
    await page.locator('#pool-change-limit').fill('40');
    await page.getByRole('button', { name: 'Save limit' }).click();
    await notice(page, 'The limit of seat-1 in pool org is now 40 per cycle.');
    assert.deepEqual((await cells(page, 'seat-1')).slice(0, 5), ['seat-1', '40 per cycle', '5', '35', '0']);
    assert.equal((await svc.ledger.getBalance('seat-1')).pool?.limitPerCycle, 40);

    // A limit that is not a whole number is refused in the page, nothing sent.
    await page.getByRole('button', { name: 'Change limit of seat-1' }).click();
    await page.locator('#pool-change-limit').fill('2.5');
    await page.getByRole('button', { name: 'Save limit' }).click();
    await page
      .locator('#pool-change-status .error')
      .getByText(/whole number/)
      .waitFor();
    await page.getByRole('button', { name: 'Cancel' }).click();

    // Remove seat-2, after a confirmation that says what it does.
    await page.getByRole('button', { name: 'Remove seat-2' }).click();
    await page
      .locator('#pool-remove-preview')
      .getByText(/Remove seat-2 from pool org\?/)
      .waitFor();
    await checkPage(page, w, 'pools-admin-remove-confirm', 1100);
    await page.locator('#pool-remove-confirm').click();
    await notice(page, 'seat-2 was removed from pool org: from its next operation it spends only its own tokens.');
    // Once the members are listed again, seat-2 is not among them.
    assert.deepEqual((await cells(page, 'seat-1')).slice(0, 2), ['seat-1', '40 per cycle']);
    assert.equal(await page.locator('#pool tr[data-member]').count(), 1);
    assert.deepEqual(
      (await svc.ledger.poolMembers('org')).map((m) => m.member),
      ['seat-1'],
    );
    assert.equal((await svc.ledger.getBalance('seat-2')).pool, null);
    await checkPage(page, w, 'pools-admin-after-remove', 1100);

    // The accounts list: "On a pool" keeps only members, each tagged with its pool.
    await page.goto(`${svc.url}/admin#/accounts`);
    await page.getByLabel('Search accounts').fill('seat-');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'seat-2' }).waitFor();
    await page.getByLabel('On a pool').check();
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForFunction(
      `[...document.querySelectorAll('#accounts-list tbody tr td:first-child')].map((t) => t.textContent).join() === 'seat-1pool org'`,
    );
    await checkPage(page, w, 'pools-accounts-on-a-pool', 1100);
    await close();
  });

  it("a member's page shows its pool, limit and use; it leaves the pool and joins again from its page", async () => {
    await svc.ledger.createAccount({ account: 'team' });
    await svc.ledger.joinPool({ member: 'mate', pool: 'team', limitPerCycle: 20 });
    assert.equal((await svc.ledger.deduct({ account: 'mate', feature: 'crm_ai_agent' })).ok, true);
    const { page, w, close } = await operator('mate', 375);
    await waitForText(page, '[data-testid="pool-of"]', 'team');
    await waitForText(page, '[data-testid="pool-limit"]', '20 per cycle');
    await waitForText(page, '[data-testid="pool-used"]', '2');
    await waitForText(page, '[data-testid="pool-remaining"]', '18');
    await waitForText(page, '[data-testid="pool-available"]', '98');
    // The account's available counts its share of the pool: none of its own, 18 left of its limit.
    await waitForText(page, '[data-testid="admin-available"]', '18');
    await checkPage(page, w, 'pools-admin-member-phone', 375);

    // Its pool is a link to the pool's page, which lists it.
    await page.locator('[data-testid="pool-of"] a').click();
    await page.getByRole('heading', { name: 'Account team', level: 1 }).waitFor();
    assert.deepEqual((await cells(page, 'mate')).slice(0, 5), ['mate', '20 per cycle', '2', '18', '0']);
    await page.goBack();
    await page.getByRole('heading', { name: 'Account mate', level: 1 }).waitFor();

    await page.getByRole('button', { name: 'Remove from pool' }).click();
    await page.getByRole('button', { name: 'Confirm removal' }).click();
    await notice(page, 'mate was removed from pool team: from its next operation it spends only its own tokens.');
    assert.equal((await svc.ledger.getBalance('mate')).pool, null);

    // Now in no pool: joining one that does not exist is refused with the service's words.
    await page.getByRole('form', { name: 'Add to a pool' }).waitFor();
    await page.locator('#pool-join-account').fill('no-such-pool');
    await page.getByRole('button', { name: 'Add to pool' }).click();
    await page
      .locator('#pool-join-status .error')
      .getByText(/no-such-pool/)
      .waitFor();
    await page.locator('#pool-join-account').fill('team');
    await page.locator('#pool-join-limit').fill('25');
    await page.getByRole('button', { name: 'Add to pool' }).click();
    await notice(page, 'mate is a member of pool team, with a limit of 25 tokens per cycle.');
    await waitForText(page, '[data-testid="pool-limit"]', '25 per cycle');
    // Its use this cycle is kept across leaving and joining again.
    await waitForText(page, '[data-testid="pool-remaining"]', '23');
    await checkPage(page, w, 'pools-admin-member-joined-phone', 375, NOT_FOUND);
    await close();
  });

  it('the copilot, signed in as agency-client, shows the pool left and its limit, which follow its use', async () => {
    const { page, w, close } = await open('/demo/login?account=agency-client');
    // Its own tokens are none: the header's figure is its share of the pool, within its limit.
    await waitForText(page, BALANCE, '50');
    await waitForText(page, '#pool-left', 'Shared pool agency: 100 tokens left');
    await waitForText(page, '#pool-limit', 'Your limit: 50 of 50 left this cycle');
    await waitForDisabled(page, FEATURES, false);
    await checkPage(page, w, 'pools-copilot-member', 1100);

    await page.click(COLLECTOR);
    await waitForText(page, BALANCE, '45');
    await waitForText(page, '#pool-left', 'Shared pool agency: 95 tokens left');
    await waitForText(page, '#pool-limit', 'Your limit: 45 of 50 left this cycle');
    await page.click(CALL);
    await waitForText(page, '#pool-limit', 'Your limit: 44 of 50 left this cycle');
    await waitForText(page, '#pool-left', 'Shared pool agency: 94 tokens left');
    assert.equal((await svc.ledger.getBalance('agency')).balance, 94);
    await checkPage(page, w, 'pools-copilot-member-after-use', 1100);

    // Signed in as the pool itself: its own figure, and no pool line.
    await page.goto(`${svc.url}/demo/login?account=agency`);
    await waitForText(page, BALANCE, '94');
    assert.equal(await page.locator('[data-testid="pool-note"]').isVisible(), false);
    await close();
  });

  it('a member whose limit is used up sees the features disabled while the pool still has tokens', async () => {
    await svc.ledger.createAccount({ account: 'studio' });
    await svc.ledger.joinPool({ member: 'intern', pool: 'studio', limitPerCycle: 6 });
    const { page, w, close } = await open('/demo/login?account=intern', 375);
    await waitForText(page, BALANCE, '6');
    await waitForText(page, '#pool-limit', 'Your limit: 6 of 6 left this cycle');
    await page.click(COLLECTOR);
    await waitForText(page, '#pool-limit', 'Your limit: 1 of 6 left this cycle');
    await waitForText(page, BALANCE, '1');
    // One token left of its limit: what costs more is disabled, a one-token feature is not.
    await waitForDisabled(page, COLLECTOR, true);
    await waitForDisabled(page, CALL, false);
    await page.click(CALL);
    await waitForText(page, '#pool-limit', 'Your limit: 0 of 6 left this cycle');
    await waitForText(page, BALANCE, '0');
    await waitForDisabled(page, FEATURES, true);
    await page.locator('#banner').waitFor({ state: 'visible' });
    assert.match(
      (await page.locator('#banner').textContent()) ?? '',
      /Features are disabled.*Your limit in the shared pool is used up for this cycle/,
    );
    // The pool itself still has tokens: it is the limit that stops the member.
    await waitForText(page, '#pool-left', 'Shared pool studio: 94 tokens left');
    const refused = await svc.call({
      method: 'POST',
      url: '/api/tokens/deduct',
      payload: { account: 'intern', feature: 'outbound_call_single' },
    });
    assert.equal(refused.statusCode, 402, refused.body);
    await checkPage(page, w, 'pools-copilot-limit-used-up-phone', 375);
    await close();
  });
});
