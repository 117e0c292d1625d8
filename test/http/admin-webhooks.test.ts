import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { EVENT_TYPES } from '../../src/core/event.ts';
import { ADMIN_KEY, servedApp, type TestApp } from './http-helpers.ts';

type Json = Record<string, unknown>;

const URL_OK = 'https://hooks.example.com/tokenmeter';

describe('admin webhooks API', () => {
  let t: TestApp;
  let call: Awaited<ReturnType<typeof servedApp>>['call'];
  beforeEach(async () => {
    // The manual clock starts at 2026-03-10T12:00:00Z.
    ({ t, call } = await servedApp({}, 'admin'));
  });
  afterEach(() => t.close());

  const add = (body: unknown) => call('POST', '/api/admin/webhooks', { body });
  const list = async () => (await call('GET', '/api/admin/webhooks')).body.webhooks as Json[];
  /** Takes account 7 (free plan: 100 tokens, threshold 10) below its threshold: one balance.low. */
  const makeLow = async (account = '7') => {
    const res = await call('POST', `/api/admin/accounts/${account}/adjust`, { body: { amount: -91, reason: 'test' } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
  };

  describe('security', () => {
    it('every route refuses app keys and user tokens with 403, and no credentials with 401, writing nothing', async () => {
      const token = await t.userToken('7');
      const routes: [string, string, unknown][] = [
        ['POST', '/api/admin/webhooks', { url: URL_OK }],
        ['GET', '/api/admin/webhooks', undefined],
        ['DELETE', '/api/admin/webhooks/whe_1', undefined],
        ['POST', '/api/admin/webhooks/whe_1/rotate-secret', undefined],
        ['GET', '/api/admin/webhooks/whe_1/deliveries', undefined],
        ['POST', '/api/admin/webhooks/whe_1/deliveries/1/retry', undefined],
        ['PUT', '/api/admin/accounts/7/alerts', { low_balance_threshold: 5 }],
      ];
      for (const [method, url, body] of routes) {
        const options = body === undefined ? {} : { body };
        assert.equal((await call(method, url, { ...options, as: 'app' })).status, 403, `${method} ${url}`);
        assert.equal((await call(method, url, { ...options, as: { token } })).status, 403, `${method} ${url}`);
        const none = await call(method, url, { ...options, as: 'none' });
        assert.equal(none.status, 401, `${method} ${url}`);
        assert.equal(none.body.code, 'unauthorized');
      }
      assert.deepEqual(await list(), []);
      assert.equal(await t.ledger.store.getAccount('7'), undefined);
    });

    it('a wrong admin key is 401', async () => {
      const res = await fetch(`http://127.0.0.1:${portOf(t)}/api/admin/webhooks`, {
        headers: { authorization: `Bearer ${ADMIN_KEY}x` },
      });
      assert.equal(res.status, 401);
    });
  });

  describe('happy paths', () => {
    it('adds an endpoint: 201 with its secret once; the list never shows a secret', async () => {
      const res = await add({ url: URL_OK, events: ['balance.low', 'balance.depleted'], description: 'billing' });
      assert.equal(res.status, 201);
      assert.equal(res.body.success, true);
      const w = res.body.webhook as Json;
      assert.match(String(w.id), /^whe_[0-9a-f]{24}$/);
      assert.match(String(w.secret), /^whsec_[A-Za-z0-9+/]{32}$/);
      assert.deepEqual(w, {
        id: w.id,
        url: URL_OK,
        events: ['balance.low', 'balance.depleted'],
        description: 'billing',
        secret: w.secret,
        created_at: '2026-03-10T12:00:00.000Z',
      });

      // The list is oldest first; ties on the same millisecond fall back to the (random) id.
      t.clock.advance(1_000);
      const all = await add({ url: 'http://hooks.example.org/x' });
      assert.equal(all.status, 201);
      assert.equal((all.body.webhook as Json).events, null, 'no events: every type');
      assert.equal((all.body.webhook as Json).description, null);

      const listed = await list();
      assert.deepEqual(listed, [
        {
          id: w.id,
          url: URL_OK,
          events: ['balance.low', 'balance.depleted'],
          description: 'billing',
          created_at: w.created_at,
        },
        {
          id: (all.body.webhook as Json).id,
          url: 'http://hooks.example.org/x',
          events: null,
          description: null,
          created_at: '2026-03-10T12:00:01.000Z',
        },
      ]);
      const text = JSON.stringify(await call('GET', '/api/admin/webhooks'));
      assert.ok(!text.includes('whsec_'), 'no secret in the list');
    });

    it('removes an endpoint: 200, gone from the list; removing it again (or an unknown one) is 404', async () => {
      const id = String(((await add({ url: URL_OK })).body.webhook as Json).id);
      const keep = String(((await add({ url: `${URL_OK}/2` })).body.webhook as Json).id);
      const res = await call('DELETE', `/api/admin/webhooks/${id}`);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { success: true });
      assert.deepEqual(
        (await list()).map((w) => w.id),
        [keep],
      );
      for (const unknown of [id, 'whe_nope']) {
        const again = await call('DELETE', `/api/admin/webhooks/${unknown}`);
        assert.equal(again.status, 404);
        assert.equal(again.body.code, 'not_found');
      }
    });

    it('rotates a secret: a new one, once, and deliveries are signed with it from then on', async () => {
      const created = (await add({ url: URL_OK })).body.webhook as Json;
      const res = await call('POST', `/api/admin/webhooks/${created.id}/rotate-secret`);
      assert.equal(res.status, 200);
      assert.equal(res.body.success, true);
      assert.match(String(res.body.secret), /^whsec_/);
      assert.notEqual(res.body.secret, created.secret);
      await makeLow();
      const now = t.clock.now();
      const claimed = await t.ledger.store.service.claimDeliveries(now, now + 60_000, 10, []);
      assert.equal(claimed.length, 1);
      assert.equal(claimed[0]?.secret, res.body.secret);
      const unknown = await call('POST', '/api/admin/webhooks/whe_nope/rotate-secret');
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.code, 'not_found');
    });

    it('lists an endpoint’s deliveries for the events it wants, and retries one', async () => {
      const lowOnly = (await add({ url: URL_OK, events: ['balance.low'] })).body.webhook as Json;
      const depletedOnly = (await add({ url: `${URL_OK}/d`, events: ['balance.depleted'] })).body.webhook as Json;
      await makeLow();
      const feed = (await call('GET', '/api/events')).body.events as Json[];
      assert.equal(feed.length, 1);

      const res = await call('GET', `/api/admin/webhooks/${lowOnly.id}/deliveries`);
      assert.equal(res.status, 200);
      const deliveries = res.body.deliveries as Json[];
      assert.equal(deliveries.length, 1);
      const d = deliveries[0] as Json;
      assert.deepEqual(d, {
        id: d.id,
        event_id: feed[0]?.id,
        type: 'balance.low',
        status: 'pending',
        attempts: 0,
        response_status: null,
        next_attempt_at: '2026-03-10T12:00:00.000Z',
        delivered_at: null,
        error: null,
      });
      assert.equal(typeof d.id, 'number');
      const none = await call('GET', `/api/admin/webhooks/${depletedOnly.id}/deliveries`);
      assert.deepEqual(none.body.deliveries, [], 'a type the endpoint did not ask for is not delivered to it');

      t.clock.advance(5_000);
      const retry = await call('POST', `/api/admin/webhooks/${lowOnly.id}/deliveries/${d.id}/retry`);
      assert.equal(retry.status, 200);
      assert.deepEqual(retry.body, { success: true });
      const after = (await call('GET', `/api/admin/webhooks/${lowOnly.id}/deliveries?limit=1`)).body
        .deliveries as Json[];
      assert.equal(after[0]?.status, 'pending');
      assert.equal(after[0]?.next_attempt_at, '2026-03-10T12:00:05.000Z', 'due again now');

      const wrongEndpoint = await call('POST', `/api/admin/webhooks/${depletedOnly.id}/deliveries/${d.id}/retry`);
      assert.equal(wrongEndpoint.status, 404);
      assert.equal(wrongEndpoint.body.code, 'not_found');
      assert.equal((await call('POST', `/api/admin/webhooks/whe_nope/deliveries/${d.id}/retry`)).status, 404);
      assert.equal((await call('GET', '/api/admin/webhooks/whe_nope/deliveries')).status, 404);
    });

    it('the deliveries list is newest first and honours limit', async () => {
      const w = (await add({ url: URL_OK })).body.webhook as Json;
      await makeLow('7');
      await makeLow('8');
      await makeLow('9');
      const all = (await call('GET', `/api/admin/webhooks/${w.id}/deliveries`)).body.deliveries as Json[];
      assert.equal(all.length, 3);
      const ids = all.map((d) => d.id as number);
      assert.deepEqual(
        ids,
        [...ids].sort((a, b) => b - a),
      );
      const two = (await call('GET', `/api/admin/webhooks/${w.id}/deliveries?limit=2`)).body.deliveries as Json[];
      assert.deepEqual(
        two.map((d) => d.id),
        ids.slice(0, 2),
      );
    });

    it('sets and clears an account’s low-balance threshold; an unknown account is 404', async () => {
      await makeLow('7');
      const res = await call('PUT', '/api/admin/accounts/7/alerts', { body: { low_balance_threshold: 25 } });
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { success: true, alerts: { low_balance_threshold: 25 } });
      assert.equal((await t.ledger.store.getAccount('7'))?.lowBalanceThreshold, 25);
      const cleared = await call('PUT', '/api/admin/accounts/7/alerts', { body: { low_balance_threshold: null } });
      assert.deepEqual(cleared.body, { success: true, alerts: { low_balance_threshold: null } });
      assert.equal((await t.ledger.store.getAccount('7'))?.lowBalanceThreshold ?? null, null);
      const unknown = await call('PUT', '/api/admin/accounts/nobody/alerts', { body: { low_balance_threshold: 5 } });
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.code, 'not_found');
      assert.equal(await t.ledger.store.getAccount('nobody'), undefined);
    });
  });

  describe('bad input is 400 invalid_request naming the field, and writes nothing', () => {
    const cases: [string, unknown, RegExp][] = [
      ['an ftp URL', { url: 'ftp://x' }, /^url: /],
      ['a loopback address', { url: 'http://127.0.0.1/' }, /^url: .*private/],
      ['a private address', { url: 'https://10.1.2.3/hook' }, /^url: .*private/],
      ['an IPv6 loopback', { url: 'http://[::1]:8080/' }, /^url: /],
      [
        'a hostname that resolves to loopback',
        { url: 'http://localhost:4002/hook' },
        /^url: localhost resolves to .*private/,
      ],
      ['not a URL', { url: 'hooks.example.com' }, /^url: /],
      ['credentials in the URL', { url: 'https://u:p@hooks.example.com/' }, /^url: /],
      ['a URL that is not a string', { url: 5 }, /^url: /],
      ['no URL', { events: ['balance.low'] }, /url/],
      ['an unknown event type', { url: URL_OK, events: ['balance.low', 'balance.lower'] }, /^events: .*balance\.lower/],
      ['an empty event list', { url: URL_OK, events: [] }, /^events: /],
      ['events as a string', { url: URL_OK, events: 'balance.low' }, /^events: /],
      ['a description too long', { url: URL_OK, description: 'x'.repeat(501) }, /^description: /],
      ['a description with a control character', { url: URL_OK, description: 'a\u0007b' }, /^description: /],
      ['an unknown field', { url: URL_OK, secret: 'whsec_mine' }, /^secret: is not a known field/],
    ];
    for (const [name, body, message] of cases) {
      it(name, async () => {
        const res = await add(body);
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.code, 'invalid_request');
        assert.match(String(res.body.error), message);
        assert.deepEqual(await list(), []);
      });
    }

    it('any event type outside the list is refused, naming events (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.string({ maxLength: 30 }).filter((x) => !(EVENT_TYPES as readonly string[]).includes(x)),
          fc.subarray([...EVENT_TYPES]),
          async (bad, good) => {
            const res = await add({ url: URL_OK, events: [...good, bad] });
            assert.equal(res.status, 400);
            assert.match(String(res.body.error), /^events(\.\d+)?: /);
          },
        ),
        { numRuns: 40 },
      );
      assert.deepEqual(await list(), []);
    });

    const thresholds: [string, unknown][] = [
      ['-1', { low_balance_threshold: -1 }],
      ['1.5', { low_balance_threshold: 1.5 }],
      ['"5"', { low_balance_threshold: '5' }],
      ['true', { low_balance_threshold: true }],
      ['beyond a safe integer', { low_balance_threshold: 2 ** 53 }],
      ['an unknown field', { low_balance_threshold: 5, high_balance_threshold: 9 }],
    ];
    for (const [name, body] of thresholds) {
      it(`a threshold of ${name}`, async () => {
        await makeLow('7');
        assert.equal(
          (await call('PUT', '/api/admin/accounts/7/alerts', { body: { low_balance_threshold: 30 } })).status,
          200,
        );
        const res = await call('PUT', '/api/admin/accounts/7/alerts', { body });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.code, 'invalid_request');
        assert.match(String(res.body.error), /^(low_balance_threshold|high_balance_threshold): /);
        assert.equal((await t.ledger.store.getAccount('7'))?.lowBalanceThreshold, 30, 'unchanged');
      });
    }

    it('a missing threshold names it', async () => {
      const res = await call('PUT', '/api/admin/accounts/7/alerts', { body: {} });
      assert.equal(res.status, 400);
      assert.match(String(res.body.error), /low_balance_threshold/);
    });

    it('a bad delivery id or limit names it', async () => {
      const w = (await add({ url: URL_OK })).body.webhook as Json;
      const retry = await call('POST', `/api/admin/webhooks/${w.id}/deliveries/abc/retry`);
      assert.equal(retry.status, 400);
      assert.match(String(retry.body.error), /^delivery_id: /);
      for (const limit of ['0', '501', 'x', '1.5']) {
        const res = await call('GET', `/api/admin/webhooks/${w.id}/deliveries?limit=${limit}`);
        assert.equal(res.status, 400, limit);
        assert.match(String(res.body.error), /^limit: /, limit);
      }
    });
  });

  it("an account's events newest first, a page at a time, and its alert setting in the account answer", async () => {
    await call('POST', '/api/admin/accounts/ev/adjust', { body: { amount: -1, reason: 'test' } }); // 99
    assert.equal(
      (await call('PUT', '/api/admin/accounts/ev/alerts', { body: { low_balance_threshold: 95 } })).status,
      200,
    );
    for (const amount of [-10, -90, 50]) {
      const r = await call('POST', '/api/admin/accounts/ev/adjust', { body: { amount, reason: 'test' } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
    }
    const first = await call('GET', '/api/admin/accounts/ev/events?limit=2');
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const types = (page: Json) => (page.events as Json[]).map((e) => e.type);
    assert.deepEqual(types(first.body), ['balance.recovered', 'balance.depleted']);
    const second = await call('GET', `/api/admin/accounts/ev/events?limit=2&before=${first.body.next_before}`);
    assert.deepEqual(types(second.body), ['balance.low']);
    assert.equal(second.body.next_before, null);
    const account = await call('GET', '/api/admin/accounts/ev');
    assert.deepEqual(account.body.alerts, { low_balance_threshold: 95, effective_low_balance_threshold: 95 });
    const other = await call('GET', '/api/admin/accounts/nobody-yet');
    assert.deepEqual(other.body.alerts, { low_balance_threshold: null, effective_low_balance_threshold: 10 });
    assert.equal((await call('GET', '/api/admin/accounts/ev/events', { as: 'app' })).status, 403);
  });

  it('with allowPrivateWebhooks a private address is accepted', async () => {
    const open = await servedApp({ allowPrivateWebhooks: true }, 'admin');
    try {
      const res = await open.call('POST', '/api/admin/webhooks', { body: { url: 'http://127.0.0.1:9/hook' } });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal((res.body.webhook as Json).url, 'http://127.0.0.1:9/hook');
    } finally {
      await open.t.close();
    }
  });

  it('the OpenAPI document lists the webhook and alert routes', async () => {
    const doc = (await call('GET', '/openapi.json', { as: 'none' })).body;
    const paths = doc.paths as Record<string, Record<string, { summary?: string }>>;
    assert.ok(paths['/api/admin/webhooks']?.post?.summary);
    assert.ok(paths['/api/admin/webhooks']?.get?.summary);
    assert.ok(paths['/api/admin/webhooks/{id}']?.delete?.summary);
    assert.ok(paths['/api/admin/webhooks/{id}/rotate-secret']?.post?.summary);
    assert.ok(paths['/api/admin/webhooks/{id}/deliveries']?.get?.summary);
    assert.ok(paths['/api/admin/webhooks/{id}/deliveries/{delivery_id}/retry']?.post?.summary);
    assert.ok(paths['/api/admin/accounts/{id}/alerts']?.put?.summary);
  });
});

function portOf(t: TestApp): number {
  const address = t.app.server.address();
  return typeof address === 'object' && address ? address.port : 0;
}
