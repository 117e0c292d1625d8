import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestApp, testApp } from './http-helpers.ts';

describe('admin API', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp();
  });
  afterEach(() => t.close());

  it('every admin route refuses user tokens and app keys with 403, and no credentials with 401', async () => {
    const token = await t.userToken('7');
    const routes = [
      ['GET', '/api/admin/accounts'],
      ['GET', '/api/admin/accounts/7'],
      ['POST', '/api/admin/accounts/7/adjust'],
      ['PUT', '/api/admin/accounts/7/plan'],
      ['GET', '/api/admin/accounts/7/balance-series'],
      ['GET', '/api/admin/ledger'],
      ['GET', '/api/admin/reconcile'],
      ['GET', '/api/admin/stats'],
    ] as const;
    for (const [method, url] of routes) {
      const payload = method === 'GET' ? undefined : { amount: 5, reason: 'x', plan: 'pro' };
      assert.equal((await t.call({ as: 'app', method, url, ...(payload ? { payload } : {}) })).statusCode, 403, url);
      assert.equal(
        (await t.call({ as: { token }, method, url, ...(payload ? { payload } : {}) })).statusCode,
        403,
        url,
      );
      assert.equal((await t.call({ as: 'none', method, url, ...(payload ? { payload } : {}) })).statusCode, 401, url);
    }
    assert.equal((await t.ledger.getBalance('7')).exists, false);
  });

  it('adjust sets a balance with a reason, records the admin key as actor, and provisions an unknown account', async () => {
    const res = await t.call({
      as: 'admin',
      method: 'POST',
      url: '/api/admin/accounts/7/adjust',
      payload: { balance: 42, reason: 'restore after incident' },
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().balance, 42);
    const [entry] = (await t.ledger.history('7', { limit: 1 })).entries;
    assert.equal(entry?.reason, 'restore after incident');
    assert.equal(entry?.actor, 'admin:TOKENMETER_ADMIN_KEY');
  });

  it('adjust with a stale expected_balance is 409 balance_changed and changes nothing', async () => {
    await t.ledger.deduct({ account: '7', feature: 'social_post' });
    const res = await t.call({
      as: 'admin',
      method: 'POST',
      url: '/api/admin/accounts/7/adjust',
      payload: { amount: -10, reason: 'r', expected_balance: 100 },
    });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().code, 'balance_changed');
    assert.equal((await t.ledger.getBalance('7')).balance, 99);
  });

  it('adjust with an Idempotency-Key happens once; a repeat replays it', async () => {
    const req = {
      as: 'admin' as const,
      method: 'POST' as const,
      url: '/api/admin/accounts/7/adjust',
      headers: { 'idempotency-key': 'fix-42' },
      payload: { amount: -10, reason: 'correction' },
    };
    assert.equal((await t.call(req)).statusCode, 200);
    const again = await t.call(req);
    assert.equal(again.statusCode, 200);
    assert.equal(again.json().replayed, true);
    assert.equal((await t.ledger.getBalance('7')).balance, 90);
  });

  describe('adjust idempotency', () => {
    const adjust = (account: string, key: string, payload: object) =>
      t.call({
        as: 'admin',
        method: 'POST',
        url: `/api/admin/accounts/${encodeURIComponent(account)}/adjust`,
        headers: { 'idempotency-key': key },
        payload,
      });

    it('regression (adjust key collision): account acme with key 2824:k does not replay account acme:2824 with key k', async () => {
      const first = await adjust('acme:2824', 'k', { amount: 10, reason: 'goodwill' });
      assert.equal(first.statusCode, 200);
      const other = await adjust('acme', '2824:k', { amount: 10, reason: 'goodwill' });
      assert.equal(other.statusCode, 200);
      assert.equal(other.json().replayed, false);
      assert.equal(other.json().account, 'acme');
      assert.equal((await t.ledger.getBalance('acme')).balance, 110);
      assert.equal((await t.ledger.getBalance('acme:2824')).balance, 110);
    });

    it('regression (adjust key reuse): the same key with another amount is 409 idempotency_conflict and changes nothing', async () => {
      assert.equal((await adjust('7', 'fix-1', { amount: -10, reason: 'correction' })).statusCode, 200);
      for (const payload of [
        { amount: -20, reason: 'correction' },
        { balance: 90, reason: 'correction' },
        { amount: -10, reason: 'another reason' },
        { amount: -10, reason: 'correction', expected_balance: 100 },
      ]) {
        const res = await adjust('7', 'fix-1', payload);
        assert.equal(res.statusCode, 409, JSON.stringify(payload));
        assert.equal(res.json().code, 'idempotency_conflict');
      }
      const replay = await adjust('7', 'fix-1', { amount: -10, reason: 'correction' });
      assert.equal(replay.statusCode, 200);
      assert.equal(replay.json().replayed, true);
      assert.equal((await t.ledger.getBalance('7')).balance, 90);
      assert.equal((await t.ledger.history('7')).entries.filter((e) => e.kind === 'adjustment').length, 1);
    });

    it('two accounts may use the same key; a set-balance replay does not set the balance again', async () => {
      assert.equal((await adjust('a', 'same', { balance: 40, reason: 'r' })).statusCode, 200);
      assert.equal((await adjust('b', 'same', { balance: 40, reason: 'r' })).statusCode, 200);
      await t.ledger.deduct({ account: 'a', feature: 'social_post' });
      const replay = await adjust('a', 'same', { balance: 40, reason: 'r' });
      assert.equal(replay.json().replayed, true);
      assert.equal((await t.ledger.getBalance('a')).balance, 39);
      assert.equal((await t.ledger.getBalance('b')).balance, 40);
    });

    it('the key may come in the body as idempotency_key; body and header that differ are a 400', async () => {
      const url = '/api/admin/accounts/7/adjust';
      const body = { amount: 5, reason: 'r', idempotency_key: 'body-key' };
      assert.equal((await t.call({ as: 'admin', method: 'POST', url, payload: body })).statusCode, 200);
      const again = await t.call({ as: 'admin', method: 'POST', url, payload: body });
      assert.equal(again.json().replayed, true);
      const both = await t.call({
        as: 'admin',
        method: 'POST',
        url,
        headers: { 'idempotency-key': 'x' },
        payload: body,
      });
      assert.equal(both.statusCode, 400);
      assert.equal((await t.ledger.getBalance('7')).balance, 105);
    });

    it('an adjustment with a key written before keys were scoped (reference account:key) still reads back', async () => {
      await t.ledger.adjust({
        account: '7',
        amount: 3,
        reason: 'old format',
        actor: 'admin:ops',
        source: 'admin-api',
        reference: '7:old-key',
      });
      const res = await t.call({ as: 'admin', method: 'GET', url: '/api/admin/ledger?account=7' });
      assert.equal(res.statusCode, 200);
      const [entry] = res.json().entries;
      assert.equal(entry.source, 'admin-api');
      assert.equal(entry.reference, '7:old-key');
      assert.equal(entry.reason, 'old format');
    });
  });

  it('adjust needs a reason and exactly one of amount or balance', async () => {
    const post = (payload: object) =>
      t.call({ as: 'admin', method: 'POST', url: '/api/admin/accounts/7/adjust', payload });
    assert.equal((await post({ amount: 5 })).statusCode, 400);
    assert.equal((await post({ amount: 5, balance: 5, reason: 'r' })).statusCode, 400);
    assert.equal((await post({ reason: 'r' })).statusCode, 400);
    assert.equal((await post({ amount: 5, reason: '' })).statusCode, 400);
    assert.equal((await t.ledger.getBalance('7')).exists, false);
  });

  it('plan change, account detail with holds, search with paging', async () => {
    const plan = await t.call({
      as: 'admin',
      method: 'PUT',
      url: '/api/admin/accounts/acme-1/plan',
      payload: { plan: 'pro', reason: 'sales deal' },
    });
    assert.equal(plan.statusCode, 200);
    await t.ledger.reserve({ account: 'acme-1', amount: 25 });
    for (const id of ['acme-2', 'acme-3', 'other']) await t.ledger.deduct({ account: id, feature: 'social_post' });
    const detail = (await t.call({ as: 'admin', method: 'GET', url: '/api/admin/accounts/acme-1' })).json();
    assert.equal(detail.package, 'pro');
    assert.equal(detail.held, 25);
    assert.equal(detail.holds.length, 1);
    const page1 = (await t.call({ as: 'admin', method: 'GET', url: '/api/admin/accounts?query=acme&limit=2' })).json();
    assert.deepEqual(
      page1.accounts.map((a: { account: string }) => a.account),
      ['acme-1', 'acme-2'],
    );
    const page2 = (
      await t.call({
        as: 'admin',
        method: 'GET',
        url: `/api/admin/accounts?query=acme&limit=2&cursor=${page1.next_cursor}`,
      })
    ).json();
    assert.deepEqual(
      page2.accounts.map((a: { account: string }) => a.account),
      ['acme-3'],
    );
    assert.equal(page2.next_cursor, null);
  });

  it('ledger filters by kind and account; stats count tokens per feature per day; series follow the balance', async () => {
    await t.ledger.deduct({ account: 'a', feature: 'business_collector' });
    t.clock.advance(24 * 3600 * 1000);
    await t.ledger.deduct({ account: 'a', feature: 'business_collector', quantity: 2 });
    await t.ledger.deduct({ account: 'b', feature: 'social_post' });
    const debits = (await t.call({ as: 'admin', method: 'GET', url: '/api/admin/ledger?kind=debit&account=a' })).json();
    assert.deepEqual(
      debits.entries.map((e: { amount: number }) => e.amount),
      [-10, -5],
    );
    const stats = (
      await t.call({
        as: 'admin',
        method: 'GET',
        url: '/api/admin/stats?from=2026-03-01T00:00:00Z&to=2026-03-31T00:00:00Z',
      })
    ).json();
    assert.deepEqual(stats.usage, [
      { day: '2026-03-10', feature: 'business_collector', tokens: 5, uses: 1 },
      { day: '2026-03-11', feature: 'business_collector', tokens: 10, uses: 1 },
      { day: '2026-03-11', feature: 'social_post', tokens: 1, uses: 1 },
    ]);
    const series = (
      await t.call({
        as: 'admin',
        method: 'GET',
        url: '/api/admin/accounts/a/balance-series?from=2026-03-01T00:00:00Z',
      })
    ).json();
    assert.deepEqual(
      series.points.map((p: { balance: number }) => p.balance),
      [0, 100, 95, 85],
    );
    const bad = await t.call({ as: 'admin', method: 'GET', url: '/api/admin/ledger?kind=bogus' });
    assert.equal(bad.statusCode, 400);
    const badTime = await t.call({ as: 'admin', method: 'GET', url: '/api/admin/stats?from=yesterday' });
    assert.equal(badTime.statusCode, 400);
  });

  it('regression (router param limit): a 128-character unicode account id works in admin paths', async () => {
    const id = 'ü'.repeat(128);
    const res = await t.call({
      as: 'admin',
      method: 'POST',
      url: `/api/admin/accounts/${encodeURIComponent(id)}/adjust`,
      payload: { amount: 5, reason: 'r' },
    });
    assert.equal(res.statusCode, 200);
    const detail = await t.call({ as: 'admin', method: 'GET', url: `/api/admin/accounts/${encodeURIComponent(id)}` });
    assert.equal(detail.json().balance, 105);
    const tooLong = await t.call({ as: 'admin', method: 'GET', url: `/api/admin/accounts/${'x'.repeat(3000)}` });
    assert.ok([400, 414].includes(tooLong.statusCode));
    assert.equal(tooLong.json().success, false);
  });

  it('reconcile answers accounts_checked and an empty drift list when the invariant holds', async () => {
    await t.ledger.deduct({ account: 'a', feature: 'social_post' });
    const res = (await t.call({ as: 'admin', method: 'GET', url: '/api/admin/reconcile' })).json();
    assert.equal(res.success, true);
    assert.equal(res.accounts_checked, 1);
    assert.deepEqual(res.drift, []);
  });
});
