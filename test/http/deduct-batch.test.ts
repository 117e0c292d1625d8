import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { KeyService } from '../../src/auth/key-service.ts';
import { SessionService } from '../../src/auth/session-service.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { buildApp } from '../../src/http/build-app.ts';
import { DEFAULT_HTTP_OPTIONS } from '../../src/http/options.ts';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import type { Store } from '../../src/store/store.ts';
import { catalog } from '../helpers/ledger.ts';
import { ADMIN_KEY, APP_KEY, type TestApp, testApp } from './http-helpers.ts';

const BATCH = '/api/tokens/deduct/batch';

interface Item {
  account: string;
  feature: string;
  quantity?: number;
  idempotency_key?: string;
}

type Result = Record<string, unknown>;

async function batch(t: TestApp, deductions: unknown, as: 'app' | 'admin' = 'app') {
  return t.call({ method: 'POST', url: BATCH, payload: { deductions }, as });
}

async function results(t: TestApp, deductions: Item[]): Promise<Result[]> {
  const res = await batch(t, deductions);
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json();
  assert.equal(body.success, true);
  assert.equal(body.results.length, deductions.length);
  return body.results;
}

async function balanceOf(t: TestApp, account: string): Promise<number> {
  return (await t.call({ method: 'GET', url: `/api/tokens/balance?account=${encodeURIComponent(account)}` })).json()
    .balance;
}

async function debitCount(t: TestApp, account: string): Promise<number> {
  const h = (await t.call({ method: 'GET', url: `/api/tokens/history?account=${encodeURIComponent(account)}` })).json();
  return (h.entries as { kind: string }[]).filter((e) => e.kind === 'debit').length;
}

describe('POST /api/tokens/deduct/batch', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp();
  });
  afterEach(() => t.close());

  describe('happy paths', () => {
    it('answers one result per item, in order, each exactly what /api/tokens/deduct answers for it', async () => {
      const items: Item[] = [
        { account: 'a', feature: 'outbound_call_single' },
        { account: 'b', feature: 'crm_ai_agent', quantity: 3, idempotency_key: 'b-1' },
        { account: 'a', feature: 'business_collector', quantity: 50 },
        { account: 'a', feature: 'crm_ai_agent', idempotency_key: 'a-1' },
        { account: 'b', feature: 'crm_ai_agent', quantity: 3, idempotency_key: 'b-1' },
        { account: 'b', feature: 'social_post', idempotency_key: 'b-1' },
      ];
      const got = await results(t, items);

      // The same items one at a time through the single route, on a twin service.
      const twin = await testApp();
      try {
        const singles: Result[] = [];
        for (const item of items) {
          const res = await twin.call({ method: 'POST', url: '/api/tokens/deduct', payload: item });
          singles.push(res.json());
        }
        assert.deepEqual(got, singles);
      } finally {
        await twin.close();
      }
      assert.deepEqual(
        got.map((r) => r.success === true || r.code),
        [true, true, 'insufficient_tokens', true, true, 'idempotency_conflict'],
      );
      assert.equal(got[0]?.balance, 99);
      assert.equal(got[3]?.balance, 97);
      assert.equal(got[4]?.replayed, true);
      assert.equal(got[4]?.entry_id, got[1]?.entry_id);
    });

    it('a repeated key within one request charges once; the same key in a later request replays it', async () => {
      const item = { account: 'k', feature: 'crm_ai_agent', idempotency_key: 'job-1' };
      const first = await results(t, [item, item, { ...item, account: 'k2' }]);
      assert.equal(first[0]?.replayed, false);
      assert.equal(first[1]?.replayed, true);
      assert.deepEqual({ ...first[1], replayed: false }, first[0]);
      // Keys are per account: the same key on another account is its own deduction.
      assert.equal(first[2]?.replayed, false);

      const again = await results(t, [item]);
      assert.deepEqual(again[0], first[1]);
      assert.equal(await balanceOf(t, 'k'), 98);
      assert.equal(await debitCount(t, 'k'), 1);
      // And across the two routes: the single route replays what the batch charged.
      const single = await t.call({ method: 'POST', url: '/api/tokens/deduct', payload: item });
      assert.deepEqual(single.json(), first[1]);
    });

    it('1,000 items with 255-character keys and 128-character account ids fit the body limit', async () => {
      const account = 'x'.repeat(128);
      const items = Array.from({ length: 1000 }, (_, i) => ({
        account,
        feature: 'outbound_call_single',
        idempotency_key: `${String(i).padStart(5, '0')}${'k'.repeat(250)}`,
      }));
      assert.ok(JSON.stringify({ deductions: items }).length > 64 * 1024);
      const got = await results(t, items);
      assert.equal(got.filter((r) => r.success === true).length, 100);
      assert.equal(got.filter((r) => r.code === 'insufficient_tokens').length, 900);
      assert.equal(await balanceOf(t, account), 0);
    });

    it('counts every item in tokenmeter_deductions_total like a single deduction', async () => {
      await t.ledger.adjust({ account: 'm', setBalance: 3, reason: 'r', actor: 't' });
      await results(t, [
        { account: 'm', feature: 'crm_ai_agent', idempotency_key: 'm1' },
        { account: 'm', feature: 'crm_ai_agent', idempotency_key: 'm1' },
        { account: 'm', feature: 'crm_ai_agent' },
        { account: 'm', feature: 'social_post', idempotency_key: 'm1' },
      ]);
      const metrics = (await t.call({ method: 'GET', url: '/metrics', as: 'admin' })).body;
      const count = (feature: string, outcome: string) =>
        Number(
          new RegExp(`^tokenmeter_deductions_total\\{feature="${feature}",outcome="${outcome}"\\} (\\d+)$`, 'm').exec(
            metrics,
          )?.[1] ?? 0,
        );
      assert.equal(count('crm_ai_agent', 'charged'), 1);
      assert.equal(count('crm_ai_agent', 'replayed'), 1);
      assert.equal(count('crm_ai_agent', 'refused'), 1);
      assert.equal(count('social_post', 'conflict'), 1);
      assert.match(metrics, /^tokenmeter_tokens_charged_total\{feature="crm_ai_agent"\} 2$/m);
    });

    it('the OpenAPI document shows the route', async () => {
      const doc = (await t.call({ method: 'GET', url: '/openapi.json', as: 'none' })).json();
      const op = doc.paths['/api/tokens/deduct/batch']?.post;
      assert.ok(op, 'the batch route is in /openapi.json');
      assert.equal(op.requestBody.content['application/json'].schema.properties.deductions.maxItems, 1000);
    });
  });

  describe('the request is validated whole: one malformed item refuses it and charges nothing', () => {
    const good = { account: 'v', feature: 'outbound_call_single', idempotency_key: 'v-1' };
    const cases: [string, unknown, number, string, string][] = [
      [
        'a zero quantity',
        { account: 'v', feature: 'outbound_call_single', quantity: 0 },
        400,
        'invalid_request',
        'deductions[2].quantity',
      ],
      [
        'a quantity sent as text',
        { account: 'v', feature: 'outbound_call_single', quantity: '2' },
        400,
        'invalid_request',
        'deductions[2].quantity',
      ],
      [
        'an unknown field',
        { account: 'v', feature: 'outbound_call_single', cost: 0 },
        400,
        'invalid_request',
        'deductions[2].cost',
      ],
      ['a missing feature', { account: 'v' }, 400, 'invalid_request', 'deductions[2]'],
      [
        'an account padded with spaces',
        { account: ' v', feature: 'outbound_call_single' },
        400,
        'invalid_request',
        'deductions[2].account',
      ],
      [
        'a key with a lone surrogate',
        { account: 'v', feature: 'outbound_call_single', idempotency_key: 'k\uD800' },
        400,
        'invalid_request',
        'deductions[2].idempotency_key',
      ],
      [
        'an unknown feature (the single route’s 404)',
        { account: 'v', feature: 'teleport' },
        404,
        'unknown_feature',
        'deductions[2].feature',
      ],
    ];
    for (const [what, bad, status, code, field] of cases) {
      it(`${what}: ${status} ${code} naming ${field}`, async () => {
        const res = await batch(t, [good, { ...good, account: 'w' }, bad, good]);
        assert.equal(res.statusCode, status, res.body);
        const body = res.json();
        assert.equal(body.code, code);
        assert.ok(String(body.error).startsWith(field), body.error);
        assert.equal(await debitCount(t, 'v'), 0);
        assert.equal(await debitCount(t, 'w'), 0);
        // The key was not spent: the same item charges now.
        assert.equal((await results(t, [good]))[0]?.replayed, false);
      });
    }

    it('1,001 items are refused with 400 naming deductions, and nothing is charged', async () => {
      const items = Array.from({ length: 1001 }, () => ({ account: 'n', feature: 'outbound_call_single' }));
      const res = await batch(t, items);
      assert.equal(res.statusCode, 400);
      assert.equal(res.json().code, 'invalid_request');
      assert.match(res.json().error, /^deductions: /);
      assert.equal(await debitCount(t, 'n'), 0);
    });

    it('an empty list, or no list, is 400 naming deductions', async () => {
      const empty = await batch(t, []);
      assert.equal(empty.statusCode, 400);
      assert.match(empty.json().error, /^deductions: /);
      const none = await t.call({ method: 'POST', url: BATCH, payload: {} });
      assert.equal(none.statusCode, 400);
      assert.match(none.json().error, /deductions/);
    });

    it('an Idempotency-Key header is refused: each item carries its own key', async () => {
      const res = await t.call({
        method: 'POST',
        url: BATCH,
        headers: { 'idempotency-key': 'whole' },
        payload: { deductions: [good] },
      });
      assert.equal(res.statusCode, 400);
      assert.match(res.json().error, /^idempotency-key: /);
      assert.equal(await debitCount(t, 'v'), 0);
    });
  });

  describe('security: the auth rules of /api/tokens/deduct', () => {
    const items = [{ account: 'z', feature: 'outbound_call_single' }];

    it('app and admin keys may call it', async () => {
      assert.equal((await batch(t, items, 'app')).statusCode, 200);
      assert.equal((await batch(t, items, 'admin')).statusCode, 200);
      assert.equal(await balanceOf(t, 'z'), 98);
    });

    it('a user token may not, not even for its own account; no credentials is 401', async () => {
      const token = await t.userToken('z');
      const user = await t.call({ method: 'POST', url: BATCH, payload: { deductions: items }, as: { token } });
      assert.equal(user.statusCode, 403);
      assert.equal(user.json().code, 'forbidden');
      const none = await t.call({ method: 'POST', url: BATCH, payload: { deductions: items }, as: 'none' });
      assert.equal(none.statusCode, 401);
      assert.equal(await debitCount(t, 'z'), 0);
    });

    it('a stored key works until it is revoked, and is refused on the very next request', async () => {
      const { key, record } = await t.keys.create('batcher', 'app', t.clock.now());
      const send = () =>
        t.app.inject({
          method: 'POST',
          url: BATCH,
          headers: { authorization: `Bearer ${key}` },
          payload: { deductions: items },
        });
      assert.equal((await send()).statusCode, 200);
      assert.equal(await t.keys.revoke(record.prefix, t.clock.now()), 1);
      assert.equal((await send()).statusCode, 401);
      assert.equal(await balanceOf(t, 'z'), 99);
    });

    it('a body without a valid key is refused before it is read: 401 on the headers alone', async () => {
      // Only a backend key can make the service hold a body up to 512 KiB: the request below
      // announces one and sends none, and is answered at once (were the body awaited, the
      // answer would be a 408 after the request timeout).
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const address = t.app.server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const socket = connect(port, '127.0.0.1');
      let received = '';
      const answered = new Promise<void>((resolve) => {
        socket.on('data', (chunk: Buffer) => {
          received += chunk.toString('latin1');
          if (received.includes('\r\n\r\n{')) resolve();
        });
      });
      socket.write(
        `POST ${BATCH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${500 * 1024}\r\n\r\n`,
      );
      await answered;
      socket.destroy();
      assert.match(received, /^HTTP\/1\.1 401 /);
      assert.match(received, /"code":"unauthorized"/);
    });

    it('a body past 512 KiB is 413', async () => {
      const huge = Array.from({ length: 1000 }, (_, i) => ({
        account: 'z'.repeat(128),
        feature: 'outbound_call_single',
        idempotency_key: `${i}`.padEnd(255, 'k'),
      }));
      const res = await t.call({
        method: 'POST',
        url: BATCH,
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ deductions: huge }).replace('[', `[${' '.repeat(150 * 1024)}`),
      });
      assert.equal(res.statusCode, 413);
      assert.equal(res.json().code, 'payload_too_large');
    });
  });

  describe('property: the batch answers what the same items sent one by one would', () => {
    it('for any items on a few accounts, results equal sequential single deductions on a twin service', async () => {
      const item = fc.record(
        {
          account: fc.constantFrom('p1', 'p2', 'p3'),
          feature: fc.constantFrom('outbound_call_single', 'crm_ai_agent', 'business_collector'),
          quantity: fc.integer({ min: 1, max: 30 }),
          idempotency_key: fc.constantFrom('a', 'b', 'c', 'd'),
        },
        { requiredKeys: ['account', 'feature'] },
      );
      await fc.assert(
        fc.asyncProperty(fc.array(item, { minLength: 1, maxLength: 40 }), async (items) => {
          const [left, right] = await Promise.all([testApp(), testApp()]);
          try {
            const got = await results(left, items);
            const singles: Result[] = [];
            for (const i of items) {
              singles.push((await right.call({ method: 'POST', url: '/api/tokens/deduct', payload: i })).json());
            }
            assert.deepEqual(got, singles);
            assert.deepEqual((await left.ledger.reconcile()).drift, []);
          } finally {
            await Promise.all([left.close(), right.close()]);
          }
        }),
        { numRuns: 25 },
      );
    });
  });
});

describe('POST /api/tokens/deduct/batch when the service cannot queue every item', () => {
  let open: Gated | undefined;
  afterEach(async () => {
    open?.release();
    await open?.close();
    open = undefined;
  });

  it('an item that could not be queued is a per-item unavailable in a 200; the others are charged', async () => {
    open = await gatedService(3);
    const g = open;
    // One deduction holds the only writer; while it waits, the queue takes 3 more.
    const holding = g.ledger.deduct({ account: 'q', feature: 'outbound_call_single' });
    await g.entered;
    const items = Array.from({ length: 5 }, (_, i) => ({
      account: 'q',
      feature: 'outbound_call_single',
      idempotency_key: `q-${i}`,
    }));
    const pending = g.app.inject({
      method: 'POST',
      url: BATCH,
      headers: { authorization: `Bearer ${APP_KEY}` },
      payload: { deductions: items },
    });
    while (g.ledger.groupCommitStats().rejected < 2) await new Promise((r) => setImmediate(r));
    g.release();
    await holding;
    const res = await pending;
    assert.equal(res.statusCode, 200);
    const got: Result[] = res.json().results;
    assert.deepEqual(
      got.map((r) => r.success === true || r.code),
      [true, true, true, 'unavailable', 'unavailable'],
    );
    assert.equal(
      Object.keys(got[3] ?? {})
        .sort()
        .join(),
      'code,error,success',
    );
    // Retrying the unavailable ones with their keys charges them; the others replay: nothing twice.
    const send = (deductions: typeof items) =>
      g.app.inject({
        method: 'POST',
        url: BATCH,
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
        payload: { deductions },
      });
    const retried = await send(items.slice(3));
    assert.deepEqual(
      retried.json().results.map((r: Result) => r.replayed),
      [false, false],
    );
    const again = await send(items.slice(0, 3));
    assert.deepEqual(
      again.json().results.map((r: Result) => r.replayed),
      [true, true, true],
    );
    assert.equal((await g.ledger.getBalance('q')).balance, 94);
  });

  it('when no item could be queued the whole request is 503 unavailable', async () => {
    open = await gatedService(2);
    const g = open;
    const holding = [g.ledger.deduct({ account: 'q', feature: 'outbound_call_single' })];
    await g.entered;
    holding.push(
      g.ledger.deduct({ account: 'q', feature: 'outbound_call_single' }),
      g.ledger.deduct({ account: 'q', feature: 'outbound_call_single' }),
    );
    const res = await g.app.inject({
      method: 'POST',
      url: BATCH,
      headers: { authorization: `Bearer ${APP_KEY}` },
      payload: {
        deductions: [
          { account: 'q', feature: 'outbound_call_single' },
          { account: 'r', feature: 'social_post' },
        ],
      },
    });
    assert.equal(res.statusCode, 503);
    assert.equal(res.json().code, 'unavailable');
    g.release();
    await Promise.all(holding);
    assert.equal((await g.ledger.getBalance('q')).balance, 97);
    assert.equal((await g.ledger.getBalance('r')).balance, 100);
  });
});

interface Gated {
  app: FastifyInstance;
  ledger: TokenLedger;
  /** Resolves when the first write is waiting at the gate. */
  entered: Promise<void>;
  release(): void;
  close(): Promise<void>;
}

/**
 * A service whose store lets no write start until `release()`, with a group-commit queue of
 * `maxQueue`: the first write holds the (only) SQLite writer, so what arrives next waits in the
 * queue, and what arrives past `maxQueue` is refused unavailable.
 */
async function gatedService(maxQueue: number): Promise<Gated> {
  const dir = mkdtempSync(join(tmpdir(), 'tm-batch-'));
  const inner = new SqliteStore({ path: join(dir, 'tokens.db') });
  await inner.migrate();
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let enter = () => {};
  const entered = new Promise<void>((resolve) => {
    enter = resolve;
  });
  const store = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'write') {
        return async (run: Parameters<Store['write']>[0]) => {
          enter();
          await gate;
          return target.write(run);
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as Store;
  const clock = new ManualClock('2026-03-10T12:00:00Z');
  const ledger = new TokenLedger({ store, catalog, clock, groupCommit: { maxBatch: 1024, maxWaitMs: 0, maxQueue } });
  const keys = new KeyService({ store: inner.service, bootstrap: { app: APP_KEY, admin: ADMIN_KEY } });
  const sessions = new SessionService({ store: inner.service, clock });
  const app = await buildApp({ ledger, keys, sessions, clock, logger: silentLogger, options: DEFAULT_HTTP_OPTIONS });
  return {
    app,
    ledger,
    entered,
    release,
    async close() {
      await app.close();
      await ledger.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
