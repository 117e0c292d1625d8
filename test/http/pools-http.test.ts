import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { JoinPoolInput, MembershipView, PoolStanding } from '../../src/index.ts';
import { type TestApp, testApp } from './http-helpers.ts';

type Json = Record<string, unknown>;

// The manual clock starts here; accounts opened now start their cycle here.
const START = '2026-03-10T12:00:00.000Z';
const HOUR_MS = 3_600_000;

/** The library's standing of a member, as the wire spells it: what the HTTP answer must equal. */
function standingJson(s: PoolStanding): Json {
  return {
    id: s.id,
    available: s.available,
    limit_per_cycle: s.limitPerCycle,
    used_this_cycle: s.usedThisCycle,
    remaining_this_cycle: s.remainingThisCycle,
  };
}

/** The library's membership, as the wire spells it. */
function membershipJson(m: MembershipView): Json {
  return {
    pool: m.pool,
    member: m.member,
    limit_per_cycle: m.limitPerCycle,
    used_this_cycle: m.usedThisCycle,
    held: m.held,
    remaining_this_cycle: m.remainingThisCycle,
    cycle_start: new Date(m.cycleStart).toISOString(),
    joined_at: new Date(m.joinedAt).toISOString(),
  };
}

function ok(res: LightMyRequestResponse): Json {
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json() as Json;
  assert.equal(body.success, true);
  return body;
}

/** 400 invalid_request whose message is about `field`: `field: ...`, or the schema's missing `'field'`. */
function assertInvalid(res: LightMyRequestResponse, field: string): void {
  const error = failure(res, 400, 'invalid_request');
  assert.ok(
    error.startsWith(`${field}: `) || error.includes(`required property '${field}'`),
    `the error is about ${field}: ${error}`,
  );
}

/** 404 not_found naming the account that is not there. */
function assertNotFound(res: LightMyRequestResponse, account: string): void {
  const error = failure(res, 404, 'not_found');
  assert.match(error, new RegExp(`\\b${account}\\b`), `the error names ${account}: ${error}`);
}

function failure(res: LightMyRequestResponse, status: number, code: string): string {
  assert.equal(res.statusCode, status, res.body);
  const body = res.json() as Json;
  assert.equal(body.success, false);
  assert.equal(body.code, code);
  return String(body.error);
}

describe('shared pools over HTTP', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp();
    await t.ledger.createAccount({ account: 'agency' }); // the free plan's 100 tokens
  });
  afterEach(() => t.close());

  const path = (account: string) => `/api/admin/accounts/${encodeURIComponent(account)}`;
  const join = (member: string, payload: Json, as: 'admin' | 'app' | 'none' = 'admin') =>
    t.call({ as, method: 'PUT', url: `${path(member)}/pool`, payload });
  const leave = (member: string) => t.call({ as: 'admin', method: 'DELETE', url: `${path(member)}/pool` });
  const members = async (pool: string) =>
    ok(await t.call({ as: 'admin', method: 'GET', url: `${path(pool)}/members` })).members as Json[];
  const balance = async (account: string) =>
    ok(await t.call({ method: 'GET', url: `/api/tokens/balance?account=${encodeURIComponent(account)}` }));
  const deduct = (account: string, feature: string) =>
    t.call({ method: 'POST', url: '/api/tokens/deduct', payload: { account, feature } });
  const history = async (account: string) =>
    ok(await t.call({ method: 'GET', url: `/api/tokens/history?account=${encodeURIComponent(account)}` }))
      .entries as Json[];

  describe('happy path', () => {
    it('joining answers the membership; the member’s balance shows the pool and counts its share', async () => {
      const joined = ok(await join('client', { pool: 'agency', limit_per_cycle: 30 }));
      assert.deepEqual(joined.membership, {
        pool: 'agency',
        member: 'client',
        limit_per_cycle: 30,
        used_this_cycle: 0,
        held: 0,
        remaining_this_cycle: 30,
        cycle_start: START,
        joined_at: START,
      });

      const view = await balance('client');
      assert.deepEqual(view.pool, {
        id: 'agency',
        available: 100,
        limit_per_cycle: 30,
        used_this_cycle: 0,
        remaining_this_cycle: 30,
      });
      // A new member has no tokens of its own: everything it may spend is its share of the pool.
      assert.equal(view.balance, 0);
      assert.equal(view.available, 30);
      assert.equal(view.features_disabled, false);
      const library = (await t.ledger.getBalance('client')).pool;
      assert.ok(library);
      assert.deepEqual(view.pool, standingJson(library));

      // The member's own user token sees the same; an account in no pool reads pool null.
      const token = await t.userToken('client');
      const own = ok(await t.call({ as: { token }, method: 'GET', url: '/api/tokens/balance' }));
      assert.deepEqual(own.pool, view.pool);
      assert.equal((await balance('agency')).pool, null);
      assert.equal((await balance('loner')).pool, null);
    });

    it('a member’s deduction answers pooled; its entry names the pool, the pool’s entry names the member', async () => {
      ok(await join('client', { pool: 'agency', limit_per_cycle: null }));
      const charged = ok(await deduct('client', 'crm_ai_agent'));
      assert.equal(charged.cost, 2);
      assert.equal(charged.pooled, 2);
      assert.equal(charged.balance, 0);
      assert.equal(charged.available, 98);

      const [mine] = await history('client');
      assert.equal(mine?.kind, 'debit');
      assert.equal(mine?.amount, 0, 'the member’s amount is its own part only');
      assert.equal(mine?.pool, 'agency');
      assert.equal(mine?.pooled, 2);
      assert.equal(mine?.member, null);
      const [pools] = await history('agency');
      assert.equal(pools?.amount, -2);
      assert.equal(pools?.member, 'client');
      assert.equal(pools?.pool, null);
      assert.equal(pools?.pooled, 0);
      assert.equal((await balance('agency')).balance, 98);

      // An account in no pool: no pooled field, and its entries name no pool.
      const alone = ok(await deduct('loner', 'crm_ai_agent'));
      assert.equal('pooled' in alone, false);
      const [own] = await history('loner');
      assert.deepEqual([own?.pool, own?.pooled, own?.member], [null, 0, null]);
    });

    it('a member spends its own tokens first, then the pool’s within its limit, and is refused past it', async () => {
      ok(await join('client', { pool: 'agency', limit_per_cycle: 4 }));
      await t.ledger.adjust({ account: 'client', amount: 3, reason: 'goodwill', actor: 'ops' });
      const first = ok(await deduct('client', 'business_collector')); // 5: 3 own, 2 from the pool
      assert.equal(first.pooled, 2);
      assert.equal(first.balance, 0);
      assert.equal(first.available, 2);
      const refused = await deduct('client', 'business_collector');
      assert.equal(refused.statusCode, 402);
      assert.equal(refused.json().code, 'insufficient_tokens');
      assert.equal(refused.json().available, 2);
      assert.equal((await balance('agency')).balance, 98);
    });

    it('a second PUT changes the limit and keeps usage and join time; members lists each by id', async () => {
      ok(await join('client-b', { pool: 'agency', limit_per_cycle: null }));
      ok(await join('client-a', { pool: 'agency', limit_per_cycle: 20 }));
      ok(await deduct('client-a', 'business_collector'));
      t.clock.advance(HOUR_MS);
      const changed = ok(await join('client-a', { pool: 'agency', limit_per_cycle: 8 })).membership as Json;
      assert.equal(changed.limit_per_cycle, 8);
      assert.equal(changed.used_this_cycle, 5);
      assert.equal(changed.remaining_this_cycle, 3);
      assert.equal(changed.joined_at, START);

      const listed = await members('agency');
      assert.deepEqual(
        listed.map((m) => [m.member, m.limit_per_cycle, m.used_this_cycle, m.remaining_this_cycle]),
        [
          ['client-a', 8, 5, 3],
          ['client-b', null, 0, null],
        ],
      );
      assert.deepEqual(listed, (await t.ledger.poolMembers('agency')).map(membershipJson));
      assert.deepEqual(await members('client-a'), [], 'an existing account with no members lists none');
    });

    it('leaving takes effect for the next operation; leaving again is 404', async () => {
      ok(await join('client', { pool: 'agency', limit_per_cycle: null }));
      ok(await deduct('client', 'outbound_call_single'));
      assert.deepEqual(ok(await leave('client')).membership, { pool: 'agency', member: 'client' });

      assert.equal((await balance('client')).pool, null);
      assert.deepEqual(await members('agency'), []);
      // It has no tokens of its own until its plan renews it: its next deduction is refused.
      const refused = await deduct('client', 'outbound_call_single');
      assert.equal(refused.statusCode, 402);
      // What was charged stays where it was.
      assert.equal((await balance('agency')).balance, 99);
      assertNotFound(await leave('client'), 'client');
    });

    it('usage by day counts only what the member drew from the pool, per UTC day, within `days`', async () => {
      ok(await join('client', { pool: 'agency', limit_per_cycle: null }));
      await t.ledger.adjust({ account: 'client', amount: 1, reason: 'goodwill', actor: 'ops' });
      ok(await deduct('client', 'crm_ai_agent')); // 2 on 2026-03-10: 1 own, 1 from the pool
      t.clock.advance(36 * HOUR_MS); // 2026-03-12T00:00Z
      ok(await deduct('client', 'crm_ai_agent'));
      ok(await deduct('client', 'outbound_call_single'));

      const usage = (days?: number) =>
        t.call({
          as: 'admin',
          method: 'GET',
          url: `${path('agency')}/members/client/usage${days === undefined ? '' : `?days=${days}`}`,
        });
      const all = ok(await usage());
      assert.deepEqual(all, {
        success: true,
        pool: 'agency',
        member: 'client',
        // The window by the server's clock: the default 30 days up to now.
        from: '2026-02-10T00:00:00.000Z',
        to: '2026-03-12T00:00:00.000Z',
        days: [
          { day: '2026-03-10', tokens: 1 },
          { day: '2026-03-12', tokens: 3 },
        ],
      });
      assert.deepEqual(ok(await usage(1)).days, [{ day: '2026-03-12', tokens: 3 }]);
      assertInvalid(await usage(0), 'days');
    });

    it('the accounts list with pool=true keeps only members; every row names its pool or null', async () => {
      ok(await join('m1', { pool: 'agency', limit_per_cycle: 10 }));
      // Joined through the library: the list reads the stored membership, whoever made it.
      const input: JoinPoolInput = { member: 'm2', pool: 'agency', limitPerCycle: null };
      await t.ledger.joinPool(input);
      await t.ledger.createAccount({ account: 'loner' });
      await t.ledger.createAccount({ account: 'ex-member' });
      ok(await join('ex-member', { pool: 'agency', limit_per_cycle: null }));
      ok(await leave('ex-member'));

      const list = async (query: string) =>
        ok(await t.call({ as: 'admin', method: 'GET', url: `/api/admin/accounts${query}` })).accounts as Json[];
      const rows = (accounts: Json[]) => accounts.map((a) => [a.account, a.pool]);
      assert.deepEqual(rows(await list('?pool=true')), [
        ['m1', 'agency'],
        ['m2', 'agency'],
      ]);
      assert.deepEqual(rows(await list('')), [
        ['agency', null],
        ['ex-member', null],
        ['loner', null],
        ['m1', 'agency'],
        ['m2', 'agency'],
      ]);
      assert.deepEqual(rows(await list('?pool=false')), rows(await list('')), 'pool=false filters nothing');
      // Filters combine with the search.
      assert.deepEqual(rows(await list('?pool=true&query=2')), [['m2', 'agency']]);
      assertInvalid(await t.call({ as: 'admin', method: 'GET', url: '/api/admin/accounts?pool=yes' }), 'pool');
    });
  });

  describe('bad input: 400 naming the field, 404, nothing written', () => {
    it('a limit that is negative, fractional, a string or missing is refused naming limit_per_cycle', async () => {
      for (const limit of [-1, 1.5, '5']) {
        assertInvalid(await join('client', { pool: 'agency', limit_per_cycle: limit }), 'limit_per_cycle');
      }
      assertInvalid(await join('client', { pool: 'agency' }), 'limit_per_cycle');
      assertInvalid(await join('client', { limit_per_cycle: 5 }), 'pool');
      assert.deepEqual(await members('agency'), []);
      assert.equal((await t.ledger.getBalance('client')).exists, false);
    });

    it('the one-level rule: joining itself, a pool that is a member, a member that has members', async () => {
      assertInvalid(await join('agency', { pool: 'agency', limit_per_cycle: null }), 'pool');

      ok(await join('client', { pool: 'agency', limit_per_cycle: null }));
      await t.ledger.createAccount({ account: 'other' });
      // `client` is a member, so it cannot be a pool.
      assertInvalid(await join('other', { pool: 'client', limit_per_cycle: null }), 'pool');
      // `agency` has members, so it cannot be a member.
      assertInvalid(await join('agency', { pool: 'other', limit_per_cycle: null }), 'member');

      assert.deepEqual(await members('other'), []);
      assert.deepEqual(await members('client'), []);
      assert.equal((await balance('agency')).pool, null);
      assert.equal((await balance('other')).pool, null);
    });

    it('a pool that does not exist is 404 not_found, and so are the members of one', async () => {
      assertNotFound(await join('client', { pool: 'nowhere', limit_per_cycle: null }), 'nowhere');
      assert.equal((await t.ledger.getBalance('nowhere')).exists, false);
      assert.equal((await balance('client')).pool, null);
      assertNotFound(await t.call({ as: 'admin', method: 'GET', url: `${path('nowhere')}/members` }), 'nowhere');
    });
  });

  describe('security', () => {
    it('every pool route needs an admin key: 401 without credentials, 403 with an app key', async () => {
      const routes = [
        ['PUT', `${path('client')}/pool`, { pool: 'agency', limit_per_cycle: null }],
        ['DELETE', `${path('client')}/pool`, undefined],
        ['GET', `${path('agency')}/members`, undefined],
        ['GET', `${path('agency')}/members/client/usage`, undefined],
      ] as const;
      for (const [method, url, payload] of routes) {
        const body = payload === undefined ? {} : { payload };
        assert.equal((await t.call({ as: 'none', method, url, ...body })).statusCode, 401, `${method} ${url}`);
        assert.equal((await t.call({ as: 'app', method, url, ...body })).statusCode, 403, `${method} ${url}`);
      }
      assert.equal((await t.ledger.getBalance('client')).exists, false, 'nothing was written');
    });
  });
});
