import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { saveCard } from '../helpers/saved-card.ts';
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
      ['GET', '/api/admin/accounts.csv'],
      ['GET', '/api/admin/plans'],
      ['GET', '/api/admin/payments'],
      ['GET', '/api/admin/accounts/7/payments'],
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
    // From the account's first entry: no made-up 0 from before it existed (issue 19).
    assert.deepEqual(
      series.points.map((p: { balance: number }) => p.balance),
      [100, 95, 85],
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

describe('admin console API (issue 19)', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp();
  });
  afterEach(() => t.close());
  const get = (url: string) => t.call({ as: 'admin', method: 'GET', url });

  it('regression (the plan change was a free-text box): GET /api/admin/plans lists the configured plans with their allocation', async () => {
    const res = await get('/api/admin/plans');
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.equal(body.default_plan, 'free');
    assert.deepEqual(
      body.plans.map((p: { id: string; monthly_allocation: number }) => [p.id, p.monthly_allocation]),
      [...t.ledger.catalog.plans.values()].map((p) => [p.id, p.monthlyAllocation]),
    );
  });

  it('accounts: sort by balance or available, filter features disabled and negative balance, page with a cursor', async () => {
    for (const [account, balance] of [
      ['a-rich', 500],
      ['a-zero', 0],
      ['a-mid', 50],
      ['b-neg', -20],
    ] as const) {
      await t.ledger.adjust({ account, amount: balance - 100, reason: 'setup', actor: 't' });
    }
    const ids = (body: { accounts: { account: string }[] }) => body.accounts.map((a) => a.account);
    const byBalance = (await get('/api/admin/accounts?sort=balance&order=desc')).json();
    assert.deepEqual(ids(byBalance), ['a-rich', 'a-mid', 'a-zero', 'b-neg']);
    const disabled = (await get('/api/admin/accounts?features_disabled=true')).json();
    assert.deepEqual(ids(disabled), ['a-zero', 'b-neg']);
    assert.equal(disabled.accounts[0].features_disabled, true);
    const negative = (await get('/api/admin/accounts?negative_balance=true&query=b-')).json();
    assert.deepEqual(ids(negative), ['b-neg']);
    // With automatic top-up enabled: only a-mid (a-rich has a card but left it off).
    for (const account of ['a-mid', 'a-rich']) {
      await saveCard(t.ledger, account);
    }
    await t.ledger.autoTopup.put({
      account: 'a-mid',
      enabled: true,
      threshold: 10,
      packageId: 'tokens_100',
      monthlyLimit: 3,
    });
    await t.ledger.autoTopup.put({
      account: 'a-rich',
      enabled: false,
      threshold: 10,
      packageId: 'tokens_100',
      monthlyLimit: 3,
    });
    assert.deepEqual(ids((await get('/api/admin/accounts?auto_topup=true')).json()), ['a-mid']);
    const first = (await get('/api/admin/accounts?sort=available&order=asc&limit=3')).json();
    assert.deepEqual(ids(first), ['b-neg', 'a-zero', 'a-mid']);
    const second = (
      await get(`/api/admin/accounts?sort=available&order=asc&limit=3&cursor=${first.next_cursor}`)
    ).json();
    assert.deepEqual(ids(second), ['a-rich']);
    assert.equal(second.next_cursor, null);
    // A cursor belongs to its sort: reused with another, it is refused, not misread.
    const mixed = await get(`/api/admin/accounts?sort=balance&limit=3&cursor=${first.next_cursor}`);
    assert.equal(mixed.statusCode, 400);
    assert.equal(mixed.json().code, 'invalid_request');
  });

  it('accounts.csv exports the filtered list, and defuses cells a spreadsheet would run as formulas', async () => {
    await t.ledger.adjust({ account: '=cmd|calc', amount: -100, reason: 'setup', actor: 't' });
    await t.ledger.adjust({ account: 'plain,comma', amount: 5, reason: 'setup', actor: 't' });
    const res = await get('/api/admin/accounts.csv?sort=balance&order=desc');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^text\/csv/);
    assert.match(String(res.headers['content-disposition']), /attachment; filename="tokenmeter-accounts.csv"/);
    const lines = res.body.trimEnd().split('\r\n');
    assert.equal(
      lines[0],
      'account,plan,balance,available,held,used_this_cycle,features_disabled,created_at,updated_at',
    );
    assert.match(lines[1] ?? '', /^"plain,comma",free,105,105,0,0,false,/);
    assert.match(lines[2] ?? '', /^'=cmd\|calc,free,0,0,0,0,true,/);
    const filtered = await get('/api/admin/accounts.csv?features_disabled=true');
    assert.equal(filtered.body.trimEnd().split('\r\n').length, 2);
  });

  /** Buys the starter plan through a checkout for `account`; its invoice, if any, is the caller's. */
  async function subscribe(account: string, subscriptionId: string) {
    const pkg = t.ledger.payments.findPackage('plan_starter');
    const reference = `cs_${subscriptionId}`;
    await t.ledger.payments.startPayment({ provider: 'test', reference, account, package: pkg });
    await t.ledger.payments.applyEvent({
      provider: 'test',
      eventId: `evt_paid_${subscriptionId}`,
      eventType: 'checkout.session.completed',
      command: {
        type: 'checkout_paid',
        reference,
        account,
        packageId: 'plan_starter',
        paymentIntent: null,
        subscriptionId,
        customerId: null,
        amount: pkg.priceCents,
        currency: pkg.currency,
      },
    });
    return pkg;
  }

  async function invoicePaid(subscriptionId: string, periodEnd: number) {
    const pkg = t.ledger.payments.findPackage('plan_starter');
    await t.ledger.payments.applyEvent({
      provider: 'test',
      eventId: `evt_invoice_${subscriptionId}`,
      eventType: 'invoice.paid',
      command: {
        type: 'invoice_paid',
        invoiceId: `in_${subscriptionId}`,
        subscriptionId,
        periodStart: t.clock.now(),
        periodEnd,
        billingReason: 'subscription_create',
        paymentIntent: `pi_${subscriptionId}`,
        amount: pkg.priceCents,
        currency: pkg.currency,
      },
    });
  }

  it('regression (a plan bought through a checkout showed "Next reset —"): the next reset is the subscription’s period end', async () => {
    await subscribe('sub-1', 'sub_1');
    const periodEnd = Date.parse('2026-04-09T12:00:00Z');
    await invoicePaid('sub_1', periodEnd);
    const body = (await get('/api/admin/accounts/sub-1')).json();
    assert.equal(body.package, 'starter');
    assert.equal(body.next_token_reset, new Date(periodEnd).toISOString());
    assert.equal(body.next_token_reset_overdue, false);
    assert.equal(body.next_token_reset_note, null);
    assert.equal(body.cycle_driver, 'subscription');
    assert.equal(body.subscription.subscription_id, 'sub_1');
  });

  it('regression (a checkout-only subscription showed "Next reset —"): before its first invoice the reset is "at the first paid invoice"', async () => {
    await subscribe('sub-2', 'sub_2');
    const body = (await get('/api/admin/accounts/sub-2')).json();
    assert.equal(body.package, 'starter');
    assert.equal(body.cycle_driver, 'subscription');
    assert.equal(body.subscription.period_end, null);
    assert.equal(body.next_token_reset, null);
    assert.equal(body.next_token_reset_overdue, false);
    assert.equal(body.next_token_reset_note, 'at the first paid invoice');
  });

  it('a subscription whose period ended without a paid renewal shows its period end as overdue, with its status', async () => {
    await subscribe('sub-3', 'sub_3');
    const periodEnd = t.clock.now() + 30 * 86_400_000;
    await invoicePaid('sub_3', periodEnd);
    t.clock.set(new Date(periodEnd));
    const atEnd = (await get('/api/admin/accounts/sub-3')).json();
    // The period end itself is past: the reset is due, not to come.
    assert.equal(atEnd.next_token_reset, new Date(periodEnd).toISOString());
    assert.equal(atEnd.next_token_reset_overdue, true);
    assert.match(atEnd.next_token_reset_note, /renewal invoice/);
    await t.ledger.payments.applyEvent({
      provider: 'test',
      eventId: 'evt_failed_sub_3',
      eventType: 'invoice.payment_failed',
      command: { type: 'invoice_failed', invoiceId: 'in_sub_3_renewal', subscriptionId: 'sub_3' },
    });
    t.clock.advance(86_400_000);
    const body = (await get('/api/admin/accounts/sub-3')).json();
    assert.equal(body.subscription.status, 'past_due');
    assert.equal(body.next_token_reset, new Date(periodEnd).toISOString());
    assert.equal(body.next_token_reset_overdue, true);
    assert.match(body.next_token_reset_note, /past_due/);
  });

  it('a calendar cycle’s next reset is its end, never overdue and without a note', async () => {
    await t.ledger.deduct({ account: 'cal-1', feature: 'social_post' });
    const body = (await get('/api/admin/accounts/cal-1')).json();
    assert.equal(body.cycle_driver, 'calendar');
    assert.ok(Date.parse(body.next_token_reset) > t.clock.now());
    assert.equal(body.next_token_reset_overdue, false);
    assert.equal(body.next_token_reset_note, null);
  });

  it('ledger from/to keep only the entries inside the range, both ends included', async () => {
    const at: string[] = [];
    for (const feature of ['social_post', 'crm_ai_agent', 'business_collector', 'outbound_call_single']) {
      await t.ledger.deduct({ account: 'range', feature });
      at.push(new Date(t.clock.now()).toISOString());
      t.clock.advance(3_600_000);
    }
    const amounts = async (query: string) => {
      const res = await get(`/api/admin/ledger?account=range&kind=debit&${query}`);
      assert.equal(res.statusCode, 200, res.body);
      return res.json().entries.map((e: { amount: number }) => e.amount);
    };
    // Newest first: the second and third debits lie in [at[1], at[2]]; the first and last do not.
    assert.deepEqual(await amounts(`from=${at[1]}&to=${at[2]}`), [-5, -2]);
    assert.deepEqual(await amounts(`from=${at[2]}`), [-1, -5]);
    assert.deepEqual(await amounts(`to=${at[0]}`), [-1]);
    const before = new Date(Date.parse(at[0] ?? '') - 1).toISOString();
    assert.deepEqual(await amounts(`to=${before}`), []);
    assert.deepEqual(await amounts(''), [-1, -5, -2, -1]);
    const bad = await get('/api/admin/ledger?from=not-a-time');
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'invalid_request');
  });

  it('regression (no view of money needing a decision): /api/admin/payments lists payments, refunds, disputes, unmatched and pending events with their reason', async () => {
    const pkg = t.ledger.payments.findPackage('tokens_100');
    await t.ledger.payments.startPayment({ provider: 'test', reference: 'cs_1', account: 'pay-1', package: pkg });
    const apply = (eventId: string, command: Parameters<typeof t.ledger.payments.applyEvent>[0]['command']) =>
      t.ledger.payments.applyEvent({ provider: 'test', eventId, eventType: command.type, command });
    await apply('evt_1', {
      type: 'checkout_paid',
      reference: 'cs_1',
      account: 'pay-1',
      packageId: 'tokens_100',
      paymentIntent: 'pi_1',
      subscriptionId: null,
      customerId: null,
      amount: pkg.priceCents,
      currency: pkg.currency,
    });
    await apply('evt_2', {
      type: 'charge_refunded',
      paymentIntent: 'pi_1',
      chargeId: 'ch_1',
      amountRefunded: 100,
      receiptUrl: null,
    });
    await apply('evt_3', {
      type: 'dispute_changed',
      paymentIntent: 'pi_1',
      disputeId: 'dp_1',
      status: 'open',
      amount: 300,
    });
    await apply('evt_4', {
      type: 'checkout_paid',
      reference: 'cs_nobody',
      account: null,
      packageId: null,
      paymentIntent: null,
      subscriptionId: null,
      customerId: null,
      amount: 500,
      currency: 'usd',
    });
    await apply('evt_5', {
      type: 'charge_refunded',
      paymentIntent: 'pi_later',
      chargeId: 'ch_2',
      amountRefunded: 100,
      receiptUrl: null,
    });
    const res = await get('/api/admin/payments');
    assert.equal(res.statusCode, 200);
    const body = res.json();
    assert.deepEqual(
      body.payments.map((p: { checkout_id: string; account: string }) => [p.checkout_id, p.account]),
      [['cs_1', 'pay-1']],
    );
    assert.equal(body.refunds[0].amount_refunded, 100);
    assert.deepEqual(
      body.disputes.map((d: { dispute_id: string; account: string; status: string }) => [
        d.dispute_id,
        d.account,
        d.status,
      ]),
      [['dp_1', 'pay-1', 'open']],
    );
    assert.equal(body.needs_decision.open_disputes.length, 1);
    const unmatched = body.needs_decision.unmatched_events;
    assert.deepEqual(
      unmatched.map((e: { event_id: string }) => e.event_id),
      ['evt_4'],
    );
    assert.equal(typeof unmatched[0].reason, 'string');
    const pending = body.needs_decision.pending_events;
    assert.deepEqual(
      pending.map((e: { event_id: string; status: string }) => [e.event_id, e.status]),
      [['evt_5', 'pending']],
    );
    assert.ok(pending[0].reason.length > 0);
    const mine = (await get('/api/admin/accounts/pay-1/payments')).json();
    assert.equal(mine.payments.length, 1);
  });

  it('regression (the balance chart started months before the account existed): the series starts at the first entry', async () => {
    t.clock.advance(5 * 86_400_000);
    await t.ledger.deduct({ account: 'late', feature: 'social_post' });
    const series = (await get('/api/admin/accounts/late/balance-series')).json();
    assert.equal(series.points[0].at, new Date(t.clock.now()).toISOString());
    assert.equal(series.from, series.points[0].at);
    const none = (await get('/api/admin/accounts/never/balance-series')).json();
    assert.deepEqual(none.points, []);
  });

  it('stats: per account, over the window asked for, which the answer echoes for the chart’s axis', async () => {
    await t.ledger.deduct({ account: 'u-1', feature: 'social_post' });
    await t.ledger.deduct({ account: 'u-2', feature: 'social_post', quantity: 3 });
    const from = new Date(t.clock.now() - 7 * 86_400_000).toISOString();
    const body = (await get(`/api/admin/stats?account=u-2&from=${from}`)).json();
    assert.equal(body.from, from);
    assert.equal(body.to, new Date(t.clock.now()).toISOString());
    assert.deepEqual(
      body.usage.map((u: { tokens: number; uses: number }) => [u.tokens, u.uses]),
      [[3, 1]],
    );
  });

  it('stats by=account: the top accounts with their totals, most first, per day, and the others summed', async () => {
    for (let i = 1; i <= 12; i += 1) {
      await t.ledger.deduct({ account: `acct-${String(i).padStart(2, '0')}`, feature: 'social_post', quantity: i });
    }
    const firstDay = new Date(t.clock.now()).toISOString();
    t.clock.advance(25 * 3_600_000);
    await t.ledger.deduct({ account: 'late', feature: 'business_collector', quantity: 10 });

    const from = '2026-03-01T00:00:00.000Z';
    const narrow = (await get(`/api/admin/stats?by=account&top=3&from=${from}&to=${firstDay}`)).json();
    assert.equal(narrow.by, 'account');
    assert.equal(narrow.from, from);
    assert.equal(narrow.to, firstDay);
    assert.deepEqual(narrow.accounts, [
      { account: 'acct-12', tokens: 12, uses: 1 },
      { account: 'acct-11', tokens: 11, uses: 1 },
      { account: 'acct-10', tokens: 10, uses: 1 },
    ]);
    assert.deepEqual(narrow.others, { accounts: 9, tokens: 45, uses: 9 });
    assert.deepEqual(narrow.usage, [
      { day: '2026-03-10', account: 'acct-12', tokens: 12, uses: 1 },
      { day: '2026-03-10', account: 'acct-11', tokens: 11, uses: 1 },
      { day: '2026-03-10', account: 'acct-10', tokens: 10, uses: 1 },
      { day: '2026-03-10', account: null, tokens: 45, uses: 9 },
    ]);

    // By default the top 10 over the last 30 days, which now include the later day.
    const month = (await get('/api/admin/stats?by=account')).json();
    assert.equal(month.accounts.length, 10);
    assert.deepEqual(month.accounts[0], { account: 'late', tokens: 50, uses: 1 });
    assert.deepEqual(month.others, { accounts: 3, tokens: 6, uses: 3 });
    assert.deepEqual(
      month.usage.filter((u: { day: string }) => u.day === '2026-03-11'),
      [{ day: '2026-03-11', account: 'late', tokens: 50, uses: 1 }],
    );
    // The last day alone: one account, nobody else.
    const today = (await get('/api/admin/stats?by=account&days=1')).json();
    assert.deepEqual(today.accounts, [{ account: 'late', tokens: 50, uses: 1 }]);
    assert.equal(today.others, null);
    // by=feature is the default answer, said explicitly.
    const features = (await get('/api/admin/stats?by=feature&days=30')).json();
    assert.equal(features.by, 'feature');
    assert.deepEqual(features.usage, (await get('/api/admin/stats?days=30')).json().usage);
  });

  it('stats: by is feature or account; account and top each go with one of them', async () => {
    for (const [url, field] of [
      ['/api/admin/stats?by=plan', 'by'],
      ['/api/admin/stats?by=', 'by'],
      ['/api/admin/stats?by=account&account=u-1', 'account'],
      ['/api/admin/stats?top=3', 'top'],
      ['/api/admin/stats?by=feature&top=3', 'top'],
      ['/api/admin/stats?by=account&top=0', 'top'],
      ['/api/admin/stats?by=account&top=51', 'top'],
      ['/api/admin/stats?by=account&top=ten', 'top'],
      ['/api/admin/stats?by=account&days=2&from=2026-03-01T00:00:00Z', 'days'],
    ] as const) {
      const res = await get(url);
      assert.equal(res.statusCode, 400, url);
      assert.equal(res.json().code, 'invalid_request', url);
      assert.match(res.json().error, new RegExp(`^${field}\\b`), url);
    }
  });
});
