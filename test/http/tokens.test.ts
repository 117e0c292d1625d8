import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestApp, testApp } from './http-helpers.ts';

const ZERO = 'Insufficient tokens. Your balance is 0. Please purchase more tokens to continue using services.';
/** Outside demo mode the token gate runs only handlers it is given. */
const handlers = { social_post: async () => ({ posted: true }) };

describe('token API', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp({}, handlers);
  });
  afterEach(() => t.close());

  describe('happy paths', () => {
    it('GET /api/tokens/balance answers with the seed field names', async () => {
      const res = await t.call({ method: 'GET', url: '/api/tokens/balance?account=7' });
      assert.equal(res.statusCode, 200);
      const body = res.json();
      for (const field of [
        'success',
        'account',
        'exists',
        'balance',
        'tokens_balance',
        'available',
        'held',
        'usedThisMonth',
        'tokens_used_this_month',
        'package',
        'token_package',
        'monthlyAllocation',
        'tokens_rollover',
        'billing_cycle_start',
        'last_token_reset',
        'features_disabled',
        'features',
      ]) {
        assert.ok(field in body, `missing ${field}`);
      }
      assert.equal(body.exists, false, 'account 7 was never written: the default plan, nothing stored');
      assert.equal(body.balance, 100);
      assert.equal(body.package, 'free');
      assert.deepEqual(body.features.business_collector, { name: 'Business collector', cost: 5, allowed: true });
    });

    it('POST /api/tokens/deduct charges and answers with balance_before and entry_id', async () => {
      const res = await t.call({
        method: 'POST',
        url: '/api/tokens/deduct',
        payload: { account: '7', feature: 'crm_ai_agent', quantity: 2 },
      });
      assert.equal(res.statusCode, 200);
      const body = res.json();
      assert.equal(body.success, true);
      assert.equal(body.cost, 4);
      assert.equal(body.balance_before, 100);
      assert.equal(body.balance, 96);
      assert.equal(typeof body.entry_id, 'number');
    });

    it('a refused deduction is 402 with the exact message and figures', async () => {
      await t.ledger.adjust({ account: '7', setBalance: 0, reason: 'r', actor: 't' });
      const res = await t.call({
        method: 'POST',
        url: '/api/tokens/deduct',
        payload: { account: '7', feature: 'outbound_call_single' },
      });
      assert.equal(res.statusCode, 402);
      assert.deepEqual(res.json(), {
        success: false,
        code: 'insufficient_tokens',
        error: ZERO,
        account: '7',
        balance: 0,
        available: 0,
        cost: 1,
      });
    });

    it('the Idempotency-Key header replays the original response and charges once', async () => {
      const req = {
        method: 'POST' as const,
        url: '/api/tokens/deduct',
        headers: { 'idempotency-key': 'abc' },
        payload: { account: '7', feature: 'social_post' },
      };
      const first = (await t.call(req)).json();
      const again = (await t.call(req)).json();
      assert.equal(again.entry_id, first.entry_id);
      assert.equal(again.balance, 99);
      assert.equal((await t.ledger.getBalance('7')).balance, 99);
    });

    it('a body key and a different header key are a 400', async () => {
      const res = await t.call({
        method: 'POST',
        url: '/api/tokens/deduct',
        headers: { 'idempotency-key': 'a' },
        payload: { account: '7', feature: 'social_post', idempotency_key: 'b' },
      });
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().code, 'invalid_request');
    });

    it('a key reused with other parameters is 409 idempotency_conflict', async () => {
      await t.call({
        method: 'POST',
        url: '/api/tokens/deduct',
        payload: { account: '7', feature: 'social_post', idempotency_key: 'k' },
      });
      const res = await t.call({
        method: 'POST',
        url: '/api/tokens/deduct',
        payload: { account: '7', feature: 'crm_ai_agent', idempotency_key: 'k' },
      });
      assert.equal(res.statusCode, 409);
      assert.equal(res.json().code, 'idempotency_conflict');
    });

    it('check writes nothing; reserve, commit and release move held tokens', async () => {
      const check = (
        await t.call({
          method: 'POST',
          url: '/api/tokens/check',
          payload: { account: 'h', feature: 'business_collector', quantity: 21 },
        })
      ).json();
      assert.equal(check.allowed, false);
      assert.equal(check.cost, 105);
      const hold = (
        await t.call({
          method: 'POST',
          url: '/api/tokens/reserve',
          payload: { account: 'h', amount: 30, ttl_seconds: 60 },
        })
      ).json();
      assert.equal(hold.success, true);
      assert.equal(hold.available, 70);
      const commit = await t.call({
        method: 'POST',
        url: `/api/tokens/holds/${hold.hold_id}/commit`,
        payload: { amount: 12 },
      });
      assert.equal(commit.statusCode, 200);
      assert.equal(commit.json().balance, 88);
      const again = await t.call({ method: 'POST', url: `/api/tokens/holds/${hold.hold_id}/release` });
      assert.equal(again.statusCode, 409);
      assert.equal(again.json().code, 'hold_not_active');
    });

    it('history pages newest first with next_cursor', async () => {
      for (let i = 0; i < 3; i++)
        await t.call({ method: 'POST', url: '/api/tokens/deduct', payload: { account: 'p', feature: 'social_post' } });
      const page = (await t.call({ method: 'GET', url: '/api/tokens/history?account=p&limit=2' })).json();
      assert.deepEqual(
        page.entries.map((e: { balance_after: number }) => e.balance_after),
        [97, 98],
      );
      const next = (
        await t.call({ method: 'GET', url: `/api/tokens/history?account=p&limit=2&cursor=${page.next_cursor}` })
      ).json();
      assert.deepEqual(
        next.entries.map((e: { kind: string }) => e.kind),
        ['debit', 'opening_balance'],
      );
      assert.equal(next.next_cursor, null);
    });
  });

  describe('history views', () => {
    it('regression (operator internals): a user token sees an adjustment as an adjustment, without the operator’s reason or key name', async () => {
      const adjusted = await t.call({
        as: 'admin',
        method: 'POST',
        url: '/api/admin/accounts/7/adjust',
        headers: { 'idempotency-key': 'fraud-4411' },
        payload: { amount: -30, reason: 'fraud review #4411: chargeback ring' },
      });
      assert.equal(adjusted.statusCode, 200);
      await t.ledger.setPlan({ account: '7', plan: 'pro', reason: 'sales deal, 20% off', actor: 'ops@corp' });
      const history = await t.call({
        as: { token: await t.userToken('7') },
        method: 'GET',
        url: '/api/tokens/history',
      });
      assert.equal(history.statusCode, 200);
      for (const secret of ['fraud review', 'TOKENMETER_ADMIN_KEY', 'fraud-4411', 'sales deal', 'ops@corp']) {
        assert.ok(!history.body.includes(secret), `a user sees "${secret}"`);
      }
      const entries: { kind: string; amount: number; reason: unknown; actor: unknown }[] = history.json().entries;
      const adjustment = entries.find((e) => e.kind === 'adjustment');
      assert.equal(adjustment?.amount, -30);
      assert.equal(adjustment?.reason, null);
      assert.equal(adjustment?.actor, null);
      assert.ok(entries.some((e) => e.kind === 'plan_change'));
    });

    it('an app key and the admin API keep the operator’s reason and actor', async () => {
      await t.call({
        as: 'admin',
        method: 'POST',
        url: '/api/admin/accounts/7/adjust',
        payload: { amount: 5, reason: 'goodwill for outage' },
      });
      const expected = { reason: 'goodwill for outage', actor: 'admin:TOKENMETER_ADMIN_KEY' };
      for (const [as, url] of [
        ['app', '/api/tokens/history?account=7'],
        ['admin', '/api/tokens/history?account=7'],
        ['admin', '/api/admin/ledger?account=7&kind=adjustment'],
      ] as const) {
        const res = await t.call({ as, method: 'GET', url });
        const entry = res.json().entries.find((e: { kind: string }) => e.kind === 'adjustment');
        assert.deepEqual({ reason: entry?.reason, actor: entry?.actor }, expected, `${as} ${url}`);
      }
    });
  });

  describe('metrics', () => {
    it('regression (metrics outcomes): a charge, a replay, a refusal and a conflict each count under their own outcome', async () => {
      const deduct = (payload: object) => t.call({ method: 'POST', url: '/api/tokens/deduct', payload });
      assert.equal((await deduct({ account: '7', feature: 'crm_ai_agent', idempotency_key: 'k1' })).statusCode, 200);
      const replay = await deduct({ account: '7', feature: 'crm_ai_agent', idempotency_key: 'k1' });
      assert.equal(replay.json().replayed, true);
      assert.equal(
        (await deduct({ account: '7', feature: 'crm_ai_agent', quantity: 3, idempotency_key: 'k1' })).statusCode,
        409,
      );
      await t.ledger.adjust({ account: '7', setBalance: 0, reason: 'r', actor: 't' });
      assert.equal((await deduct({ account: '7', feature: 'crm_ai_agent', idempotency_key: 'k2' })).statusCode, 402);
      const text = (await t.call({ as: 'none', method: 'GET', url: '/metrics' })).body;
      const count = (outcome: string) => {
        const line = text
          .split('\n')
          .find((l) => l.startsWith(`tokenmeter_deductions_total{feature="crm_ai_agent",outcome="${outcome}"}`));
        return line === undefined ? 0 : Number(line.split(' ').at(-1));
      };
      assert.deepEqual(
        {
          charged: count('charged'),
          replayed: count('replayed'),
          refused: count('refused'),
          conflict: count('conflict'),
        },
        { charged: 1, replayed: 1, refused: 1, conflict: 1 },
      );
      assert.match(text, /# HELP tokenmeter_deductions_total .*replayed.*conflict/);
      assert.match(text, /tokenmeter_tokens_charged_total\{feature="crm_ai_agent"\} 2\n/);
    });
  });

  describe('validation', () => {
    const deduct = (payload: unknown) =>
      t.call({ method: 'POST', url: '/api/tokens/deduct', payload: payload as object });

    it('refuses unknown properties instead of dropping them (no mass assignment)', async () => {
      const res = await deduct({ account: '7', feature: 'social_post', balance: 1_000_000 });
      assert.equal(res.statusCode, 400);
      assert.match(res.json().error, /balance/);
      assert.equal((await t.ledger.getBalance('7')).exists, false);
    });

    it('does not coerce a string into a number', async () => {
      const res = await deduct({ account: '7', feature: 'social_post', quantity: '5' });
      assert.equal(res.statusCode, 400);
      assert.match(res.json().error, /quantity/);
    });

    for (const quantity of [0, -1, 1.5, 1_000_001, null]) {
      it(`refuses quantity ${quantity} with 400 naming the field`, async () => {
        const res = await deduct({ account: '7', feature: 'social_post', quantity });
        assert.equal(res.statusCode, 400);
        assert.equal(res.json().code, 'invalid_request');
        assert.match(res.json().error, /quantity/);
      });
    }

    it('an unknown feature is 404 unknown_feature', async () => {
      const res = await deduct({ account: '7', feature: 'teleport' });
      assert.equal(res.statusCode, 404);
      assert.equal(res.json().code, 'unknown_feature');
    });

    it('malformed JSON is a 400, a wrong content type a 415, an oversized body a 413', async () => {
      const bad = await t.call({
        method: 'POST',
        url: '/api/tokens/deduct',
        headers: { 'content-type': 'application/json' },
        payload: '{"account":',
      });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().code, 'invalid_request');
      const text = await t.call({
        method: 'POST',
        url: '/api/tokens/deduct',
        headers: { 'content-type': 'text/plain' },
        payload: 'hello',
      });
      assert.equal(text.statusCode, 415);
      assert.equal(text.json().code, 'unsupported_media_type');
      const big = await deduct({ account: '7', feature: 'social_post', idempotency_key: 'x'.repeat(100_000) });
      assert.equal(big.statusCode, 413);
      assert.equal(big.json().code, 'payload_too_large');
    });

    it('never answers with a stack trace, and unknown routes are 404 JSON', async () => {
      const res = await t.call({ method: 'GET', url: '/api/nope' });
      assert.equal(res.statusCode, 404);
      assert.deepEqual(Object.keys(res.json()).sort(), ['code', 'error', 'success']);
    });
  });

  describe('security', () => {
    it('no credentials is 401; a wrong or malformed key is 401', async () => {
      assert.equal((await t.call({ as: 'none', method: 'GET', url: '/api/tokens/balance?account=7' })).statusCode, 401);
      assert.equal(
        (
          await t.call({
            as: { token: 'tm_app_wrong_key_000000000000000' },
            method: 'GET',
            url: '/api/tokens/balance?account=7',
          })
        ).statusCode,
        401,
      );
      const malformed = await t.call({
        as: 'none',
        method: 'GET',
        url: '/api/tokens/balance?account=7',
        headers: { authorization: 'Basic abc' },
      });
      assert.equal(malformed.statusCode, 401);
      assert.equal(malformed.json().code, 'unauthorized');
    });

    it('a revoked key stops working at once', async () => {
      const { key, record } = await t.keys.create('backend', 'app', t.clock.now());
      const ok = await t.call({ as: { token: key }, method: 'GET', url: '/api/tokens/balance?account=7' });
      assert.equal(ok.statusCode, 200);
      assert.equal(await t.keys.revoke(record.prefix, t.clock.now()), 1);
      const after = await t.call({ as: { token: key }, method: 'GET', url: '/api/tokens/balance?account=7' });
      assert.equal(after.statusCode, 401);
    });

    it('a user token reads its own account and is forbidden from another', async () => {
      const token = await t.userToken('alice');
      const own = await t.call({ as: { token }, method: 'GET', url: '/api/tokens/balance' });
      assert.equal(own.statusCode, 200);
      assert.equal(own.json().account, 'alice');
      const other = await t.call({ as: { token }, method: 'GET', url: '/api/tokens/balance?account=bob' });
      assert.equal(other.statusCode, 403);
      assert.equal(other.json().code, 'forbidden');
    });

    it('a user token may not deduct, reserve or settle holds', async () => {
      const token = await t.userToken('alice');
      const res = await t.call({
        as: { token },
        method: 'POST',
        url: '/api/tokens/deduct',
        payload: { account: 'alice', feature: 'social_post' },
      });
      assert.equal(res.statusCode, 403);
      const hold = (
        await t.call({ method: 'POST', url: '/api/tokens/reserve', payload: { account: 'alice', amount: 5 } })
      ).json();
      const settle = await t.call({ as: { token }, method: 'POST', url: `/api/tokens/holds/${hold.hold_id}/release` });
      assert.equal(settle.statusCode, 403);
      assert.equal((await t.ledger.getBalance('alice')).held, 5);
    });

    it('an expired user token is 401', async () => {
      const token = await t.userToken('alice');
      t.clock.advance(16 * 60 * 1000);
      assert.equal((await t.call({ as: { token }, method: 'GET', url: '/api/tokens/balance' })).statusCode, 401);
    });

    it('a tampered user token is 401', async () => {
      const token = await t.userToken('alice');
      const [v, payload, sig] = token.split('.');
      const forged = Buffer.from(
        JSON.stringify({ ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()), a: 'bob' }),
      ).toString('base64url');
      assert.equal(
        (await t.call({ as: { token: `${v}.${forged}.${sig}` }, method: 'GET', url: '/api/tokens/balance' }))
          .statusCode,
        401,
      );
    });

    it('an app key must name the account', async () => {
      const res = await t.call({ method: 'GET', url: '/api/tokens/balance' });
      assert.equal(res.statusCode, 400);
      assert.match(res.json().error, /account/);
    });

    it('cookie-authenticated writes need a matching Origin', async () => {
      const token = await t.userToken('alice');
      const cookie = `tm_session=${token}`;
      const run = (origin?: string) =>
        t.call({
          as: 'none',
          method: 'POST',
          url: '/api/features/social_post/run',
          headers: { cookie, ...(origin ? { origin } : {}), host: 'localhost:80' },
          payload: {},
        });
      assert.equal((await run()).statusCode, 403);
      assert.equal((await run('https://evil.example')).statusCode, 403);
      assert.equal((await run('http://localhost:80')).statusCode, 200);
      assert.equal((await t.ledger.getBalance('alice')).balance, 99);
    });

    it('failed authentications are limited per address with 429', async () => {
      const small = await testApp({
        rateLimits: { authFailuresPerMinute: 3, userPerMinute: 600, appKeyPerMinute: null },
      });
      try {
        const statuses = [];
        for (let i = 0; i < 5; i++) {
          statuses.push(
            (
              await small.call({
                as: { token: `tm_app_wrong_${i}_0000000000000000` },
                method: 'GET',
                url: '/api/tokens/balance?account=7',
              })
            ).statusCode,
          );
        }
        assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
      } finally {
        await small.close();
      }
    });

    it('user tokens are rate limited and a limited request charges nothing', async () => {
      const small = await testApp(
        { rateLimits: { authFailuresPerMinute: 30, userPerMinute: 2, appKeyPerMinute: null } },
        handlers,
      );
      try {
        const token = await small.userToken('u');
        const run = () =>
          small.call({ as: { token }, method: 'POST', url: '/api/features/social_post/run', payload: {} });
        const headers = { authorization: `Bearer ${token}` };
        assert.equal((await run()).statusCode, 200);
        assert.equal((await run()).statusCode, 200);
        const limited = await small.app.inject({
          method: 'POST',
          url: '/api/features/social_post/run',
          headers,
          payload: {},
        });
        assert.equal(limited.statusCode, 429);
        assert.equal(limited.json().code, 'rate_limited');
        assert.equal((await small.ledger.getBalance('u')).balance, 98);
      } finally {
        await small.close();
      }
    });
  });
});
