import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type TestApp, testApp } from './http-helpers.ts';

type Json = Record<string, unknown>;

describe('admin grants API', () => {
  let t: TestApp;
  beforeEach(async () => {
    // The manual clock starts at 2026-03-10T12:00:00Z.
    t = await testApp();
  });
  afterEach(() => t.close());

  const grant = (account: string, payload: object) =>
    t.call({ as: 'admin', method: 'POST', url: `/api/admin/accounts/${encodeURIComponent(account)}/grants`, payload });
  const list = async (account: string) =>
    (await t.call({ as: 'admin', method: 'GET', url: `/api/admin/accounts/${account}/grants` })).json()
      .grants as Json[];
  const voidGrant = (id: number | string, payload: object = { reason: 'abuse' }) =>
    t.call({ as: 'admin', method: 'POST', url: `/api/admin/grants/${id}/void`, payload });
  const balance = async (account: string) =>
    (await t.call({ as: 'app', method: 'GET', url: `/api/tokens/balance?account=${account}` })).json() as Json;

  const BONUS = { tokens: 50, category: 'promotional', expires_at: '2026-04-01T00:00:00Z', reason: 'Welcome bonus' };

  it('the grant routes refuse app keys and user tokens with 403, and no credentials with 401', async () => {
    const token = await t.userToken('7');
    const routes = [
      ['POST', '/api/admin/accounts/7/grants', BONUS],
      ['GET', '/api/admin/accounts/7/grants', undefined],
      ['POST', '/api/admin/grants/1/void', { reason: 'x' }],
    ] as const;
    for (const [method, url, payload] of routes) {
      const body = payload === undefined ? {} : { payload };
      assert.equal((await t.call({ as: 'app', method, url, ...body })).statusCode, 403, url);
      assert.equal((await t.call({ as: { token }, method, url, ...body })).statusCode, 403, url);
      assert.equal((await t.call({ as: 'none', method, url, ...body })).statusCode, 401, url);
    }
    assert.equal((await t.ledger.getBalance('7')).exists, false);
  });

  it('grants promotional tokens: 201 with the grant, the admin key as actor, and the balance shows them', async () => {
    const res = await grant('7', BONUS);
    assert.equal(res.statusCode, 201);
    const body = res.json();
    assert.equal(body.success, true);
    const g = body.grant as Json;
    assert.equal(typeof g.id, 'number');
    assert.deepEqual(g, {
      id: g.id,
      account: '7',
      category: 'promotional',
      tokens: 50,
      remaining: 50,
      priority: 50,
      effective_at: '2026-03-10T12:00:00.000Z',
      expires_at: '2026-04-01T00:00:00.000Z',
      status: 'active',
    });
    const entry = (await t.ledger.history('7', { limit: 1 })).entries[0];
    assert.equal(entry?.kind, 'grant');
    assert.equal(entry?.reason, 'Welcome bonus');
    assert.equal(entry?.actor, 'admin:TOKENMETER_ADMIN_KEY');

    const b = await balance('7');
    assert.equal(b.balance, 150);
    assert.equal(b.promotional, 50);
    assert.equal(b.allocation, 100);
    assert.equal(b.debt, 0);
    assert.deepEqual(b.expiring_next, { at: '2026-04-01T00:00:00.000Z', tokens: 50 });
    const grants = b.grants as Json[];
    // Burn order: the bonus expires before the cycle's allocation, so it is spent first.
    assert.deepEqual(grants[0], {
      id: g.id,
      category: 'promotional',
      remaining: 50,
      priority: 50,
      expires_at: '2026-04-01T00:00:00.000Z',
    });
    assert.equal(grants[1]?.category, 'included');

    // The account's own user sees the same fields.
    const user = await t.call({ as: { token: await t.userToken('7') }, method: 'GET', url: '/api/tokens/balance' });
    assert.equal(user.statusCode, 200);
    assert.equal(user.json().promotional, 50);
    assert.deepEqual(user.json().expiring_next, { at: '2026-04-01T00:00:00.000Z', tokens: 50 });
  });

  it('ledger entries name the grants they moved, with promotional_delta and debt_delta', async () => {
    const g = (await grant('7', BONUS)).json().grant as Json;
    await t.ledger.deduct({ account: '7', feature: 'social_post' });
    const res = await t.call({ as: 'admin', method: 'GET', url: '/api/admin/ledger?account=7' });
    const [debit, granted] = res.json().entries as Json[];
    assert.equal(debit?.kind, 'debit');
    assert.deepEqual(debit?.grants, [{ id: g.id, delta: -1 }]);
    assert.equal(debit?.promotional_delta, -1);
    assert.equal(debit?.debt_delta, 0);
    assert.equal(granted?.kind, 'grant');
    assert.deepEqual(granted?.grants, [{ id: g.id, delta: 50 }]);
    assert.equal(granted?.promotional_delta, 50);
    assert.equal((await balance('7')).promotional, 49);
  });

  it('a paid grant without expires_at never expires; one with effective_at later is scheduled', async () => {
    const paid = await grant('8', { tokens: 30, category: 'paid', priority: 10, reason: 'compensation' });
    assert.equal(paid.statusCode, 201);
    assert.equal(paid.json().grant.expires_at, null);
    assert.equal(paid.json().grant.priority, 10);
    const later = await grant('8', {
      tokens: 20,
      category: 'promotional',
      effective_at: '2026-03-20T00:00:00Z',
      expires_at: '2026-03-30T00:00:00+02:00',
      reason: 'spring promotion',
    });
    assert.equal(later.statusCode, 201);
    assert.equal(later.json().grant.status, 'scheduled');
    assert.equal(later.json().grant.expires_at, '2026-03-29T22:00:00.000Z');
    const b = await balance('8');
    assert.equal(b.purchased, 30);
    assert.equal(b.promotional, 0);
    assert.equal(b.balance, 130);
  });

  describe('bad input is 400 invalid_request naming the field, and writes nothing', () => {
    const cases: [string, object, RegExp][] = [
      ['category included', { ...BONUS, category: 'included' }, /^category: /],
      ['an unknown category', { ...BONUS, category: 'bonus' }, /^category: /],
      ['priority 101', { ...BONUS, priority: 101 }, /^priority: /],
      ['priority -1', { ...BONUS, priority: -1 }, /^priority: /],
      ['expires_at in the past', { ...BONUS, expires_at: '2026-03-01T00:00:00Z' }, /^expires_at: .*past/],
      ['expires_at now', { ...BONUS, expires_at: '2026-03-10T12:00:00Z' }, /^expires_at: /],
      [
        'expires_at before effective_at',
        { ...BONUS, effective_at: '2026-04-15T00:00:00Z', expires_at: '2026-04-01T00:00:00Z' },
        /^expires_at: must be after effective_at/,
      ],
      ['expires_at not a time', { ...BONUS, expires_at: 'next week' }, /^expires_at: is not an ISO 8601 time/],
      ['expires_at without a zone', { ...BONUS, expires_at: '2026-04-01T00:00:00' }, /^expires_at: /],
      ['expires_at a day the month lacks', { ...BONUS, expires_at: '2026-04-31T00:00:00Z' }, /^expires_at: /],
      ['effective_at not a time', { ...BONUS, effective_at: 'tomorrow' }, /^effective_at: /],
      ['tokens 0', { ...BONUS, tokens: 0 }, /^tokens: /],
      ['tokens 1.5', { ...BONUS, tokens: 1.5 }, /^tokens: /],
      ['tokens as a string', { ...BONUS, tokens: '50' }, /^tokens: /],
      ['tokens beyond 1,000,000,000', { ...BONUS, tokens: 1_000_000_001 }, /^tokens: /],
      ['a missing reason', { tokens: 50, category: 'promotional' }, /reason/],
      ['an empty reason', { ...BONUS, reason: '' }, /^reason: /],
      ['an unknown field', { ...BONUS, bucket: 'x' }, /^bucket: is not a known field/],
    ];
    for (const [name, payload, message] of cases) {
      it(name, async () => {
        const res = await grant('7', payload);
        assert.equal(res.statusCode, 400, res.body);
        assert.equal(res.json().code, 'invalid_request');
        assert.match(res.json().error, message);
        assert.deepEqual(await t.ledger.grants('7', { includeInactive: true }), []);
        assert.equal((await t.ledger.getBalance('7')).exists, false);
      });
    }

    it('a void of an unknown grant, or one already voided, names id', async () => {
      const unknown = await voidGrant(999);
      assert.equal(unknown.statusCode, 400);
      assert.equal(unknown.json().code, 'invalid_request');
      assert.match(unknown.json().error, /^id: /);
      const notANumber = await voidGrant('abc');
      assert.equal(notANumber.statusCode, 400);
      assert.match(notANumber.json().error, /^id: /);
      const g = (await grant('7', BONUS)).json().grant as Json;
      const noReason = await voidGrant(g.id as number, {});
      assert.equal(noReason.statusCode, 400);
      assert.match(noReason.json().error, /reason/);
      assert.equal((await balance('7')).promotional, 50, 'a refused void changes nothing');
    });
  });

  describe('replays by reference', () => {
    it('the same reference and parameters answer 201 with the first grant, granted once', async () => {
      const payload = { ...BONUS, reference: 'outage-2026-03-09' };
      const first = await grant('7', payload);
      assert.equal(first.statusCode, 201);
      const again = await grant('7', payload);
      assert.equal(again.statusCode, 201);
      assert.deepEqual(again.json(), first.json());
      assert.equal((await balance('7')).balance, 150);
      assert.equal((await list('7')).filter((g) => g.category === 'promotional').length, 1);
    });

    it('the same reference with other parameters is 409 idempotency_conflict and writes nothing', async () => {
      const payload = { ...BONUS, reference: 'outage-2026-03-09' };
      assert.equal((await grant('7', payload)).statusCode, 201);
      for (const other of [
        { ...payload, tokens: 51 },
        { ...payload, category: 'paid' },
        { ...payload, priority: 10 },
        { ...payload, expires_at: '2026-05-01T00:00:00Z' },
      ]) {
        const res = await grant('7', other);
        assert.equal(res.statusCode, 409, JSON.stringify(other));
        assert.equal(res.json().code, 'idempotency_conflict');
      }
      assert.equal((await balance('7')).balance, 150);
      assert.equal((await t.ledger.history('7')).entries.filter((e) => e.kind === 'grant').length, 1);
    });

    it('a reference is per account', async () => {
      const payload = { ...BONUS, reference: 'r-1' };
      const a = (await grant('7', payload)).json().grant as Json;
      const b = (await grant('8', payload)).json().grant as Json;
      assert.notEqual(a.id, b.id);
      assert.equal(b.account, '8');
    });
  });

  it('voids a grant once: 200 with the voided grant and the balance without it; a second void is 400', async () => {
    const g = (await grant('7', BONUS)).json().grant as Json;
    const res = await voidGrant(g.id as number, { reason: 'promotion abuse' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json().success, true);
    assert.equal(res.json().grant.status, 'voided');
    assert.equal(res.json().grant.remaining, 0);
    assert.equal(res.json().grant.tokens, 50);
    const entry = (await t.ledger.history('7', { limit: 1 })).entries[0];
    assert.equal(entry?.kind, 'grant_void');
    assert.equal(entry?.amount, -50);
    assert.equal(entry?.reason, 'promotion abuse');
    assert.equal(entry?.actor, 'admin:TOKENMETER_ADMIN_KEY');
    const b = await balance('7');
    assert.equal(b.balance, 100);
    assert.equal(b.promotional, 0);
    assert.ok(!(b.grants as Json[]).some((x) => x.id === g.id), 'a voided grant is not in the balance');

    const twice = await voidGrant(g.id as number);
    assert.equal(twice.statusCode, 400);
    assert.equal(twice.json().code, 'invalid_request');
    assert.match(twice.json().error, /^id: .*not active/);
    assert.equal((await balance('7')).balance, 100);
  });

  it('lists every grant, newest first, with expired and voided ones and their status as a read sees it', async () => {
    const first = (await grant('7', BONUS)).json().grant as Json;
    const second = (await grant('7', { tokens: 5, category: 'paid', reason: 'goodwill' })).json().grant as Json;
    const third = (await grant('7', { ...BONUS, expires_at: '2026-03-11T00:00:00Z' })).json().grant as Json;
    await voidGrant(second.id as number);
    t.clock.set('2026-03-12T00:00:00Z');

    const grants = await list('7');
    const ids = grants.map((g) => g.id as number);
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => b - a),
      'newest first',
    );
    assert.deepEqual(ids.slice(0, 3), [third.id, second.id, first.id]);
    const byId = new Map(grants.map((g) => [g.id, g]));
    assert.equal(byId.get(third.id)?.status, 'expired');
    assert.equal(byId.get(third.id)?.remaining, 0);
    assert.equal(byId.get(second.id)?.status, 'voided');
    assert.equal(byId.get(first.id)?.status, 'active');
    assert.equal(grants.at(-1)?.category, 'included', "the plan's allocation is a grant too");

    const b = await balance('7');
    assert.equal(b.promotional, 50);
    assert.deepEqual(b.expiring_next, { at: '2026-04-01T00:00:00.000Z', tokens: 50 });
  });

  it('the balance loses an expired grant at its expiry, without a write', async () => {
    await grant('7', BONUS);
    t.clock.set('2026-04-01T00:00:00Z');
    const b = await balance('7');
    assert.equal(b.promotional, 0);
    assert.equal(b.balance, 100);
    assert.ok(!(b.grants as Json[]).some((g) => g.category === 'promotional'));
  });

  it('the OpenAPI document lists the grant routes', async () => {
    const doc = (await t.call({ as: 'none', method: 'GET', url: '/openapi.json' })).json();
    const paths = doc.paths as Record<string, Record<string, { summary?: string }>>;
    assert.ok(paths['/api/admin/accounts/{id}/grants']?.post?.summary);
    assert.ok(paths['/api/admin/accounts/{id}/grants']?.get?.summary);
    assert.ok(paths['/api/admin/grants/{id}/void']?.post?.summary);
  });
});
