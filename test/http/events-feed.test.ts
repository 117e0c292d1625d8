import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { type CallAs, servedApp, type TestApp } from './http-helpers.ts';

type Json = Record<string, unknown>;

describe('GET /api/events', () => {
  let t: TestApp;
  let call: Awaited<ReturnType<typeof servedApp>>['call'];
  beforeEach(async () => {
    // The manual clock starts at 2026-03-10T12:00:00Z; the free plan gives 100 tokens, threshold 10.
    ({ t, call } = await servedApp({}, 'app'));
  });
  afterEach(() => t.close());

  const adjust = async (account: string, body: Json) => {
    const res = await call('POST', `/api/admin/accounts/${account}/adjust`, {
      as: 'admin',
      body: { reason: 'test', ...body },
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  };
  const feed = async (query = '', as: CallAs = 'app') => {
    const res = await call('GET', `/api/events${query}`, { as });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { success: boolean; events: Json[]; next_cursor: string };
  };
  /** Every event after `after`, a page of `limit` at a time, and the cursor it ends on. */
  const readAll = async (limit: number, after = '0', extra = '') => {
    const events: Json[] = [];
    let cursor = after;
    for (;;) {
      const page = await feed(`?after=${cursor}&limit=${limit}${extra}`);
      assert.equal(typeof page.next_cursor, 'string');
      events.push(...page.events);
      if (page.events.length === 0) {
        assert.equal(page.next_cursor, cursor, 'an empty page keeps the cursor');
        return { events, cursor };
      }
      assert.ok(page.events.length <= limit);
      cursor = page.next_cursor;
    }
  };

  describe('events from real operations', () => {
    it('an adjust below the threshold is balance.low, to zero balance.depleted, back up balance.recovered', async () => {
      await adjust('7', { amount: -91 });
      await adjust('7', { balance: 0 });
      await adjust('7', { amount: 40 });
      const page = await feed();
      assert.equal(page.success, true);
      const [low, depleted, recovered] = page.events;
      assert.equal(page.events.length, 3);
      assert.match(String(low?.id), /^evt_[0-9a-f]{32}$/);
      assert.deepEqual(low, {
        id: low?.id,
        type: 'balance.low',
        timestamp: '2026-03-10T12:00:00.000Z',
        account: '7',
        sequence: 1,
        data: { account: '7', available: 9, threshold: 10 },
      });
      assert.deepEqual(depleted?.data, { account: '7', available: 0 });
      assert.equal(depleted?.type, 'balance.depleted');
      assert.equal(depleted?.sequence, 2);
      assert.equal(recovered?.type, 'balance.recovered');
      assert.deepEqual(recovered?.data, { account: '7', available: 40 });
      assert.equal(recovered?.sequence, 3);
      assert.equal(new Set(page.events.map((e) => e.id)).size, 3);
    });

    it('PUT alerts moves the threshold balance.low fires at; null goes back to the plan’s', async () => {
      await adjust('7', { amount: -1 }); // 99: no event, the account exists now
      const put = await call('PUT', '/api/admin/accounts/7/alerts', {
        as: 'admin',
        body: { low_balance_threshold: 60 },
      });
      assert.equal(put.status, 200);
      await adjust('7', { balance: 55 });
      const [low] = (await feed()).events;
      assert.equal(low?.type, 'balance.low');
      assert.deepEqual(low?.data, { account: '7', available: 55, threshold: 60 });

      await adjust('7', { balance: 100 });
      await call('PUT', '/api/admin/accounts/7/alerts', { as: 'admin', body: { low_balance_threshold: null } });
      await adjust('7', { balance: 55 }); // above the plan's 10: nothing
      await adjust('7', { balance: 9 });
      const lows = (await feed()).events.filter((e) => e.type === 'balance.low');
      assert.deepEqual(
        lows.map((e) => e.data),
        [
          { account: '7', available: 55, threshold: 60 },
          { account: '7', available: 9, threshold: 10 },
        ],
      );
    });
  });

  describe('paging', () => {
    /** Three accounts, interleaved: 9 events. */
    const makeEvents = async () => {
      for (const account of ['7', '8', '9']) await adjust(account, { amount: -91 });
      for (const account of ['8', '7', '9']) await adjust(account, { balance: 0 });
      for (const account of ['9', '8', '7']) await adjust(account, { amount: 5 });
    };

    it('pages with after/next_cursor miss nothing and repeat nothing, for any page size (property)', async () => {
      await makeEvents();
      const whole = await feed('?limit=1000');
      assert.equal(whole.events.length, 9);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: 10 }), async (limit) => {
          const { events, cursor } = await readAll(limit);
          assert.deepEqual(events, whole.events);
          assert.equal(cursor, whole.next_cursor);
        }),
        { numRuns: 10 },
      );
      // Per account, sequences run 1, 2, 3 in feed order.
      for (const account of ['7', '8', '9']) {
        const mine = whole.events.filter((e) => e.account === account);
        assert.deepEqual(
          mine.map((e) => e.sequence),
          [1, 2, 3],
        );
        assert.deepEqual(
          mine.map((e) => e.type),
          ['balance.low', 'balance.depleted', 'balance.recovered'],
        );
      }
    });

    it('polling from the last cursor gets exactly what happened since', async () => {
      await adjust('7', { amount: -91 });
      const first = await feed();
      assert.equal(first.events.length, 1);
      const idle = await feed(`?after=${first.next_cursor}`);
      assert.deepEqual(idle.events, []);
      assert.equal(idle.next_cursor, first.next_cursor);
      await adjust('7', { balance: 0 });
      await adjust('8', { amount: -95 });
      const next = await feed(`?after=${first.next_cursor}`);
      assert.deepEqual(
        next.events.map((e) => [e.type, e.account]),
        [
          ['balance.depleted', '7'],
          ['balance.low', '8'],
        ],
      );
    });

    it('without after, from the start; limit defaults to 100', async () => {
      for (let i = 0; i < 55; i += 1) {
        await adjust(`a${i}`, { amount: -91 });
        await adjust(`a${i}`, { balance: 0 });
      }
      const page = await feed();
      assert.equal(page.events.length, 100);
      const rest = await feed(`?after=${page.next_cursor}`);
      assert.equal(rest.events.length, 10);
      assert.equal(new Set([...page.events, ...rest.events].map((e) => e.id)).size, 110);
    });

    it('account narrows a key’s feed to one account; pages of it miss nothing', async () => {
      await makeEvents();
      const whole = await feed('?limit=1000');
      const only8 = await readAll(2, '0', '&account=8');
      assert.deepEqual(
        only8.events,
        whole.events.filter((e) => e.account === '8'),
      );
      assert.deepEqual((await feed('?account=nobody')).events, []);
    });
  });

  describe('security', () => {
    it('a user token sees only its own account, with or without naming it; another is 403', async () => {
      await adjust('7', { amount: -91 });
      await adjust('8', { amount: -91 });
      const token = await t.userToken('7');
      for (const query of ['', '?account=7']) {
        const page = await feed(query, { token });
        assert.deepEqual(
          page.events.map((e) => e.account),
          ['7'],
          query,
        );
      }
      const other = await call('GET', '/api/events?account=8', { as: { token } });
      assert.equal(other.status, 403);
      assert.equal(other.body.code, 'forbidden');
      assert.ok(!JSON.stringify(other.body).includes('evt_'));
    });

    it('app and admin keys see every account; no credentials is 401', async () => {
      await adjust('7', { amount: -91 });
      await adjust('8', { amount: -91 });
      for (const as of ['app', 'admin'] as const) {
        assert.deepEqual(
          (await feed('', as)).events.map((e) => e.account),
          ['7', '8'],
        );
      }
      const none = await call('GET', '/api/events', { as: 'none' });
      assert.equal(none.status, 401);
      assert.equal(none.body.code, 'unauthorized');
    });
  });

  describe('bad input is 400 invalid_request naming the field', () => {
    const cases: [string, RegExp][] = [
      ['?after=abc', /^after: /],
      ['?after=-1', /^after: /],
      ['?after=1.5', /^after: /],
      ['?after=01', /^after: /],
      ['?after=', /^after: /],
      ['?after=99999999999999999999', /^after: /],
      ['?limit=0', /^limit: /],
      ['?limit=1001', /^limit: /],
      ['?limit=ten', /^limit: /],
      ['?cursor=5', /^cursor: is not a known field/],
    ];
    for (const [query, message] of cases) {
      it(query, async () => {
        const res = await call('GET', `/api/events${query}`);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.code, 'invalid_request');
        assert.match(String(res.body.error), message);
      });
    }

    it('any text that is not a decimal cursor is refused (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.string({ minLength: 1, maxLength: 20 }).filter((x) => !/^(0|[1-9][0-9]*)$/.test(x)),
          async (after) => {
            const res = await call('GET', `/api/events?after=${encodeURIComponent(after)}`);
            assert.equal(res.status, 400, after);
            assert.match(String(res.body.error), /^after: /);
          },
        ),
        { numRuns: 40 },
      );
    });
  });

  it('the OpenAPI document lists the feed', async () => {
    const doc = (await call('GET', '/openapi.json', { as: 'none' })).body;
    const paths = doc.paths as Record<string, Record<string, { summary?: string }>>;
    assert.ok(paths['/api/events']?.get?.summary);
  });
});
