import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { TokenMeterApiError, TokenMeterClient } from '../../src/sdk/index.ts';
import { type LiveService, liveService } from './sdk-helpers.ts';

const ZERO = 'Insufficient tokens. Your balance is 0. Please purchase more tokens to continue using services.';

/** Runs `fn`, expecting a TokenMeterApiError; answers it. */
async function apiError(fn: () => Promise<unknown>): Promise<TokenMeterApiError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof TokenMeterApiError, `expected TokenMeterApiError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the call to throw');
}

describe('TokenMeterClient against the real service', () => {
  let s: LiveService;
  beforeEach(async () => {
    s = await liveService();
  });
  afterEach(() => s.close());

  describe('happy paths: token API', () => {
    it('getBalance answers with the seed field names', async () => {
      const b = await s.app.getBalance('7');
      assert.equal(b.success, true);
      assert.equal(b.balance, 100);
      assert.equal(b.tokens_balance, 100);
      assert.equal(b.package, 'free');
      assert.equal(b.features_disabled, false);
      assert.deepEqual(b.features.business_collector, { name: 'Business collector', cost: 5, allowed: true });
    });

    it('check writes nothing', async () => {
      const c = await s.app.check({ account: 'h', feature: 'business_collector', quantity: 21 });
      assert.equal(c.allowed, false);
      assert.equal(c.cost, 105);
      assert.equal(typeof c.message, 'string');
      assert.equal((await s.t.ledger.getBalance('h')).exists, false);
    });

    it('deduct charges and answers ok: true with the service fields', async () => {
      const r = await s.app.deduct({ account: '7', feature: 'crm_ai_agent', quantity: 2 });
      assert.ok(r.ok);
      assert.equal(r.success, true);
      assert.equal(r.cost, 4);
      assert.equal(r.balance_before, 100);
      assert.equal(r.balance, 96);
      assert.equal(r.replayed, false);
      assert.equal(typeof r.entry_id, 'number');
    });

    it('deduct with the caller’s idempotency key replays instead of charging twice', async () => {
      const first = await s.app.deduct({ account: '7', feature: 'social_post', idempotency_key: 'order-1' });
      const again = await s.app.deduct({ account: '7', feature: 'social_post', idempotency_key: 'order-1' });
      assert.ok(first.ok && again.ok);
      assert.equal(again.entry_id, first.entry_id);
      assert.equal(again.replayed, true);
      assert.equal((await s.app.getBalance('7')).balance, 99);
    });

    it('two deducts without a key are two charges (each call gets its own generated key)', async () => {
      await s.app.deduct({ account: '7', feature: 'social_post' });
      await s.app.deduct({ account: '7', feature: 'social_post' });
      assert.equal((await s.app.getBalance('7')).balance, 98);
    });

    it('reserve, commitHold and releaseHold move held tokens', async () => {
      const hold = await s.app.reserve({ account: 'h', amount: 30, ttl_seconds: 60 });
      assert.ok(hold.ok);
      assert.equal(hold.available, 70);
      assert.equal(Date.parse(hold.expires_at) - s.t.clock.now(), 60_000);
      const committed = await s.app.commitHold(hold.hold_id, 12);
      assert.equal(committed.status, 'committed');
      assert.equal(committed.charged, 12);
      assert.equal(committed.balance, 88);
      const byFeature = await s.app.reserve({ account: 'h', feature: 'business_collector', quantity: 2 });
      assert.ok(byFeature.ok);
      assert.equal(byFeature.amount, 10);
      const released = await s.app.releaseHold(byFeature.hold_id);
      assert.equal(released.status, 'released');
      assert.equal(released.available, 88);
    });

    it('history pages newest first with next_cursor', async () => {
      for (let i = 0; i < 3; i++) await s.app.deduct({ account: 'p', feature: 'social_post' });
      const page = await s.app.history({ account: 'p', limit: 2 });
      assert.deepEqual(
        page.entries.map((e) => e.balance_after),
        [97, 98],
      );
      assert.ok(page.next_cursor);
      const next = await s.app.history({ account: 'p', limit: 2, cursor: page.next_cursor });
      assert.deepEqual(
        next.entries.map((e) => e.kind),
        ['debit', 'opening_balance'],
      );
      assert.equal(next.next_cursor, null);
    });

    it('runFeature runs the gate, charges once, and replays a retried run', async () => {
      const run = await s.app.runFeature('business_collector', {
        account: 'a',
        input: { q: 'dentists' },
        idempotency_key: 'run-1',
      });
      assert.ok(run.ok && !run.replayed);
      assert.equal(run.cost, 5);
      assert.equal(run.balance, 95);
      assert.deepEqual((run.result as { simulated: boolean }).simulated, true);
      const again = await s.app.runFeature('business_collector', { account: 'a', idempotency_key: 'run-1' });
      assert.ok(again.ok && again.replayed === true);
      assert.equal(again.cost, 5);
      assert.equal((await s.app.getBalance('a')).balance, 95);
    });

    it('createSession issues a user token that reads and runs on its own account only', async () => {
      const session = await s.app.createSession('alice');
      assert.equal(session.account, 'alice');
      assert.equal(Date.parse(session.expires_at) - s.t.clock.now(), 15 * 60 * 1000);
      const user = s.client({ apiKey: undefined, token: session.token });
      assert.equal((await user.getBalance()).account, 'alice');
      const run = await user.runFeature('social_post');
      assert.ok(run.ok);
      assert.equal((await user.check({ feature: 'social_post' })).balance, 99);
      assert.equal((await user.history()).entries.length, 2);
    });
  });

  describe('happy paths: admin API', () => {
    it('adjust by amount and to a balance, with the admin key as actor', async () => {
      const up = await s.admin.adjust('7', { amount: 25, reason: 'goodwill' });
      assert.equal(up.delta, 25);
      assert.equal(up.balance, 125);
      const to = await s.admin.adjust('7', { balance: 40, reason: 'restore', expected_balance: 125 });
      assert.equal(to.balance_before, 125);
      assert.equal(to.balance, 40);
    });

    it('setPlan, getAccount with holds, listAccounts with paging', async () => {
      const plan = await s.admin.setPlan('acme-1', { plan: 'pro', reason: 'sales deal' });
      assert.equal(plan.plan, 'pro');
      assert.equal(plan.package, 'pro');
      await s.app.reserve({ account: 'acme-1', amount: 25 });
      for (const id of ['acme-2', 'acme-3']) await s.app.deduct({ account: id, feature: 'social_post' });
      const detail = await s.admin.getAccount('acme-1');
      assert.equal(detail.exists, true);
      assert.equal(detail.package, 'pro');
      assert.equal(detail.held, 25);
      assert.equal(detail.holds[0]?.amount, 25);
      const page1 = await s.admin.listAccounts({ query: 'acme', limit: 2 });
      assert.deepEqual(
        page1.accounts.map((a) => a.account),
        ['acme-1', 'acme-2'],
      );
      assert.ok(page1.next_cursor);
      const page2 = await s.admin.listAccounts({ query: 'acme', limit: 2, cursor: page1.next_cursor });
      assert.deepEqual(
        page2.accounts.map((a) => a.account),
        ['acme-3'],
      );
    });

    it('ledger, stats and balanceSeries take Dates or ISO strings', async () => {
      await s.app.deduct({ account: 'a', feature: 'business_collector' });
      s.t.clock.advance(24 * 3600 * 1000);
      await s.app.deduct({ account: 'a', feature: 'business_collector', quantity: 2 });
      const debits = await s.admin.ledger({ account: 'a', kind: 'debit', from: new Date('2026-03-01T00:00:00Z') });
      assert.deepEqual(
        debits.entries.map((e) => e.amount),
        [-10, -5],
      );
      const stats = await s.admin.stats({ from: '2026-03-01T00:00:00Z', to: new Date('2026-03-31T00:00:00Z') });
      assert.deepEqual(stats.usage, [
        { day: '2026-03-10', feature: 'business_collector', tokens: 5, uses: 1 },
        { day: '2026-03-11', feature: 'business_collector', tokens: 10, uses: 1 },
      ]);
      const byAccount = await s.admin.statsByAccount({ from: '2026-03-01T00:00:00Z', top: 1 });
      assert.deepEqual(
        [byAccount.by, byAccount.accounts, byAccount.others],
        ['account', [{ account: 'a', tokens: 15, uses: 2 }], null],
      );
      const series = await s.admin.balanceSeries('a', { from: new Date('2026-03-01T00:00:00Z') });
      assert.equal(series.account, 'a');
      assert.deepEqual(
        series.points.map((p) => p.balance),
        // From the account's first entry, not a made-up 0 before it existed (issue 19).
        [100, 95, 85],
      );
    });

    it('reconcile answers an empty drift list when the ledger holds', async () => {
      await s.app.deduct({ account: 'a', feature: 'social_post' });
      const report = await s.admin.reconcile();
      assert.equal(report.accounts_checked, 1);
      assert.deepEqual(report.drift, []);
    });
  });

  describe('refusals are values', () => {
    beforeEach(async () => {
      await s.admin.adjust('7', { balance: 0, reason: 'empty' });
    });

    it('deduct at zero answers ok: false with the service’s 402 body and charges nothing', async () => {
      const r = await s.app.deduct({ account: '7', feature: 'outbound_call_single' });
      assert.deepEqual(r, {
        ok: false,
        success: false,
        code: 'insufficient_tokens',
        error: ZERO,
        account: '7',
        balance: 0,
        available: 0,
        cost: 1,
      });
      assert.equal((await s.t.ledger.history('7')).entries.length, 2);
    });

    it('reserve and runFeature at zero answer ok: false as well', async () => {
      const hold = await s.app.reserve({ account: '7', feature: 'social_post' });
      assert.equal(hold.ok, false);
      assert.equal(hold.ok ? null : hold.code, 'insufficient_tokens');
      const run = await s.app.runFeature('crm_ai_agent', { account: '7' });
      assert.ok(!run.ok);
      assert.equal(run.cost, 2);
      assert.equal(run.error, ZERO);
      assert.equal((await s.t.ledger.getBalance('7')).held, 0);
    });
  });

  describe('errors are thrown', () => {
    it('no key: 401 unauthorized', async () => {
      const err = await apiError(() => s.client({ apiKey: undefined }).getBalance('7'));
      assert.equal(err.status, 401);
      assert.equal(err.code, 'unauthorized');
      assert.deepEqual(err.body, { success: false, code: 'unauthorized', error: err.message });
    });

    it('a wrong key: 401 unauthorized, and nothing is charged', async () => {
      const err = await apiError(() =>
        s.client({ apiKey: 'tm_app_wrong_000000000000000000' }).deduct({ account: '7', feature: 'social_post' }),
      );
      assert.equal(err.status, 401);
      assert.equal(err.code, 'unauthorized');
      assert.equal((await s.t.ledger.getBalance('7')).exists, false);
    });

    it('an app key on an admin route: 403 forbidden', async () => {
      const err = await apiError(() => s.app.adjust('7', { amount: 1_000, reason: 'free money' }));
      assert.equal(err.status, 403);
      assert.equal(err.code, 'forbidden');
      assert.equal((await s.t.ledger.getBalance('7')).exists, false);
    });

    it('a user token naming another account: 403 forbidden', async () => {
      const { token } = await s.app.createSession('alice');
      const user = s.client({ apiKey: undefined, token });
      const err = await apiError(() => user.runFeature('social_post', { account: 'bob' }));
      assert.equal(err.code, 'forbidden');
      assert.equal((await apiError(() => user.getBalance('bob'))).status, 403);
      assert.equal((await s.t.ledger.getBalance('bob')).exists, false);
    });

    it('404 unknown_feature, 400 invalid_request, 409 hold_not_active and balance_changed', async () => {
      assert.equal((await apiError(() => s.app.runFeature('teleport', { account: 'a' }))).code, 'unknown_feature');
      const bad = await apiError(() => s.app.deduct({ account: '7', feature: 'social_post', quantity: 0 }));
      assert.equal(bad.status, 400);
      assert.equal(bad.code, 'invalid_request');
      const hold = await s.app.reserve({ account: 'h', amount: 3 });
      assert.ok(hold.ok);
      await s.app.releaseHold(hold.hold_id);
      assert.equal((await apiError(() => s.app.releaseHold(hold.hold_id))).code, 'hold_not_active');
      const stale = await apiError(() => s.admin.adjust('h', { amount: -1, reason: 'r', expected_balance: 42 }));
      assert.equal(stale.status, 409);
      assert.equal(stale.code, 'balance_changed');
    });

    it('the constructor refuses both a key and a token, and a relative baseUrl', () => {
      assert.throws(() => new TokenMeterClient({ baseUrl: s.url, apiKey: 'k', token: 't' }), TypeError);
      assert.throws(() => new TokenMeterClient({ baseUrl: '/api' }), TypeError);
    });
  });
});
