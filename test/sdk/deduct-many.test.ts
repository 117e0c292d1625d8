import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { type DeductManyResult, TokenMeterApiError, TokenMeterClient } from '../../src/sdk/index.ts';
import { APP_KEY, closeNode, type LiveService, listenNode, liveService, UUID_V7 as UUID } from './sdk-helpers.ts';

const BATCH = '/api/tokens/deduct/batch';

interface Sent {
  path: string;
  body: { deductions: { account: string; idempotency_key?: string }[] };
  headerKey: string | undefined;
}

/** A fetch that goes to the real service and records what was sent; `loseAnswer(n)` loses the nth answer after the service processed it. */
function recordingFetch(loseAnswers: ReadonlySet<number> = new Set()) {
  const sent: Sent[] = [];
  const fetcher: typeof fetch = async (input, init) => {
    const url = new URL(String(input));
    const headers = new Headers(init?.headers);
    sent.push({
      path: url.pathname,
      body: JSON.parse(String(init?.body ?? 'null')),
      headerKey: headers.get('idempotency-key') ?? undefined,
    });
    const res = await fetch(input, init);
    const text = await res.text();
    if (loseAnswers.has(sent.length)) throw new TypeError('fetch failed (the answer was lost on the way back)');
    return new Response(text, { status: res.status, headers: res.headers });
  };
  return { sent, fetcher };
}

async function debits(live: LiveService, account: string): Promise<number> {
  return (await live.t.ledger.history(account)).entries.filter((e) => e.kind === 'debit').length;
}

describe('SDK: deductMany and coalesced deduct', () => {
  let live: LiveService;
  beforeEach(async () => {
    live = await liveService();
  });
  afterEach(() => live.close());

  describe('deductMany', () => {
    it('answers one result per item in order, each as deduct answers it, with the key it was sent with', async () => {
      await live.t.ledger.adjust({ account: 'poor', setBalance: 1, reason: 'r', actor: 't' });
      const { sent, fetcher } = recordingFetch();
      const tm = live.client({ fetch: fetcher });
      const results = await tm.deductMany([
        { account: 'a', feature: 'crm_ai_agent' },
        { account: 'poor', feature: 'crm_ai_agent' },
        { account: 'a', feature: 'social_post', idempotency_key: 'mine' },
        { account: 'a', feature: 'social_post', idempotency_key: 'mine' },
      ]);
      assert.equal(sent.length, 1);
      assert.equal(sent[0]?.path, BATCH);
      assert.equal(sent[0]?.headerKey, undefined);
      const keys = sent[0]?.body.deductions.map((d) => d.idempotency_key) ?? [];
      assert.match(keys[0] ?? '', UUID);
      assert.match(keys[1] ?? '', UUID);
      assert.notEqual(keys[0], keys[1]);
      assert.deepEqual(keys.slice(2), ['mine', 'mine']);
      assert.deepEqual(
        results.map((r) => r.idempotency_key),
        keys,
      );

      const [charged, refused, mine, again] = results;
      assert.ok(charged?.ok);
      assert.equal(charged.balance, 98);
      assert.equal(refused?.ok, false);
      assert.equal(refused?.code, 'insufficient_tokens');
      assert.ok(mine?.ok && again?.ok);
      assert.equal(again.replayed, true);
      assert.equal(again.entry_id, mine.entry_id);

      // The same shape deduct gives: the replay through the single route equals the item's result.
      const single = await live.app.deduct({ account: 'a', feature: 'social_post', idempotency_key: 'mine' });
      const { idempotency_key: _k, ...item } = again;
      assert.deepEqual(single, item);
    });

    it('keys are given before the first send: a lost answer resends every item with the same keys, charging nothing twice', async () => {
      const { sent, fetcher } = recordingFetch(new Set([1]));
      const tm = live.client({ fetch: fetcher });
      const items = Array.from({ length: 20 }, (_, i) => ({ account: `l${i % 4}`, feature: 'outbound_call_single' }));
      const results = await tm.deductMany(items);
      assert.equal(sent.length, 2);
      assert.deepEqual(sent[1]?.body, sent[0]?.body);
      assert.ok(results.every((r) => r.ok && r.replayed));
      for (let a = 0; a < 4; a++) {
        assert.equal(await debits(live, `l${a}`), 5);
        assert.equal((await live.t.ledger.getBalance(`l${a}`)).balance, 95);
      }
    });

    it('splits more than 1,000 items into requests of 1,000, results still in order', async () => {
      const { sent, fetcher } = recordingFetch();
      const tm = live.client({ fetch: fetcher });
      const items = Array.from({ length: 1005 }, (_, i) => ({
        account: `s${i % 20}`,
        feature: 'outbound_call_single',
        idempotency_key: `s-${i}`,
      }));
      const results = await tm.deductMany(items);
      assert.deepEqual(
        sent.map((s) => s.body.deductions.length),
        [1000, 5],
      );
      assert.deepEqual(
        results.map((r) => r.idempotency_key),
        items.map((i) => i.idempotency_key),
      );
      assert.ok(results.every((r) => r.ok && r.account === `s${Number(r.idempotency_key.slice(2)) % 20}`));
    });

    it('a request the service refuses whole (a malformed item) throws, naming the item', async () => {
      await assert.rejects(
        live.app.deductMany([
          { account: 'a', feature: 'outbound_call_single' },
          { account: 'a', feature: 'outbound_call_single', quantity: 0 },
        ]),
        (err: unknown) =>
          err instanceof TokenMeterApiError && err.status === 400 && err.message.startsWith('deductions[1].quantity'),
      );
      assert.equal(await debits(live, 'a'), 0);
      assert.deepEqual(await live.app.deductMany([]), []);
    });
  });

  describe('coalesced deduct (batching)', () => {
    it('a burst of concurrent deduct calls goes as batch requests; each charged once, each caller its own answer', async () => {
      const { sent, fetcher } = recordingFetch();
      const tm = live.client({ fetch: fetcher, batching: { maxWaitMs: 20, maxItems: 20 } });
      const calls = Array.from({ length: 45 }, (_, i) =>
        tm.deduct({ account: `c${i % 3}`, feature: i % 2 === 0 ? 'outbound_call_single' : 'crm_ai_agent' }),
      );
      const outcomes = await Promise.all(calls);
      assert.deepEqual(
        sent.map((s) => [s.path, s.body.deductions.length]),
        [
          [BATCH, 20],
          [BATCH, 20],
          [BATCH, 5],
        ],
      );
      outcomes.forEach((r, i) => {
        assert.ok(r.ok);
        assert.equal(r.account, `c${i % 3}`);
        assert.equal(r.cost, i % 2 === 0 ? 1 : 2);
        assert.equal(r.replayed, false);
        assert.equal('idempotency_key' in r, false);
      });
      for (let a = 0; a < 3; a++) {
        const mine = outcomes.filter((r) => r.ok && r.account === `c${a}`);
        assert.equal(new Set(mine.map((r) => r.ok && r.entry_id)).size, 15);
        assert.equal(await debits(live, `c${a}`), 15);
      }
    });

    it('a coalesced call is answered as deduct answers it: a 402 is a value, a conflict is thrown', async () => {
      await live.t.ledger.adjust({ account: 'p', setBalance: 1, reason: 'r', actor: 't' });
      const tm = live.client({ batching: { maxWaitMs: 5, maxItems: 100 } });
      const [ok, refused, conflict] = await Promise.allSettled([
        tm.deduct({ account: 'p', feature: 'outbound_call_single', idempotency_key: 'p1' }),
        tm.deduct({ account: 'p', feature: 'outbound_call_single' }),
        tm.deduct({ account: 'p', feature: 'crm_ai_agent', idempotency_key: 'p1' }),
      ]);
      assert.equal(ok.status === 'fulfilled' && ok.value.ok, true);
      const direct = await live.app.deduct({ account: 'p', feature: 'outbound_call_single' });
      assert.equal(refused.status, 'fulfilled');
      assert.deepEqual(refused.status === 'fulfilled' ? refused.value : null, direct);
      assert.equal(conflict.status, 'rejected');
      const err = conflict.status === 'rejected' ? conflict.reason : null;
      assert.ok(err instanceof TokenMeterApiError);
      assert.equal(err.status, 409);
      assert.equal(err.code, 'idempotency_conflict');
    });

    it('a coalesced batch whose answer was lost is resent with every key: nothing charged twice', async () => {
      const { sent, fetcher } = recordingFetch(new Set([1]));
      const tm = live.client({ fetch: fetcher, batching: { maxWaitMs: 10, maxItems: 1000 } });
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, () => tm.deduct({ account: 'r', feature: 'outbound_call_single' })),
      );
      assert.equal(sent.length, 2);
      assert.deepEqual(sent[1]?.body, sent[0]?.body);
      assert.equal(new Set(sent[0]?.body.deductions.map((d) => d.idempotency_key)).size, 10);
      assert.ok(outcomes.every((r) => r.ok && r.replayed));
      assert.equal(await debits(live, 'r'), 10);
      assert.equal((await live.t.ledger.getBalance('r')).balance, 90);
    });

    it('a malformed call is refused alone, as deduct refuses it; the rest of its batch is charged', async () => {
      const { sent, fetcher } = recordingFetch();
      const tm = live.client({ fetch: fetcher, batching: { maxWaitMs: 10, maxItems: 100 } });
      const [a, bad, unknown, b] = await Promise.allSettled([
        tm.deduct({ account: 'm', feature: 'outbound_call_single' }),
        tm.deduct({ account: 'm', feature: 'outbound_call_single', quantity: 0 }),
        tm.deduct({ account: 'm', feature: 'teleport' }),
        tm.deduct({ account: 'm', feature: 'crm_ai_agent' }),
      ]);
      assert.equal(a.status === 'fulfilled' && a.value.ok, true);
      assert.equal(b.status === 'fulfilled' && b.value.ok, true);
      const single = async (request: Parameters<TokenMeterClient['deduct']>[0]) => {
        try {
          await live.app.deduct(request);
        } catch (err) {
          return err;
        }
        throw new Error('expected a refusal');
      };
      for (const [got, request] of [
        [bad, { account: 'm', feature: 'outbound_call_single', quantity: 0 }],
        [unknown, { account: 'm', feature: 'teleport' }],
      ] as const) {
        assert.equal(got.status, 'rejected');
        const err = got.status === 'rejected' ? got.reason : null;
        const expected = await single(request);
        assert.ok(err instanceof TokenMeterApiError && expected instanceof TokenMeterApiError);
        assert.deepEqual([err.status, err.code], [expected.status, expected.code]);
        // The field is named even where the single route's message leaves it implicit.
        assert.ok(err.message.endsWith(expected.message), `${err.message} / ${expected.message}`);
      }
      assert.deepEqual(
        sent.map((s) => s.body.deductions.length),
        [4, 3, 2],
      );
      assert.equal(await debits(live, 'm'), 2);
    });

    it('refuses nonsense batching options', () => {
      for (const batching of [
        { maxWaitMs: -1, maxItems: 10 },
        { maxWaitMs: 5, maxItems: 0 },
        { maxWaitMs: 5, maxItems: 1001 },
        { maxWaitMs: Number.NaN, maxItems: 10 },
      ]) {
        assert.throws(() => live.client({ batching }), TypeError);
      }
    });
  });
});

describe('SDK: deductMany retries only the unavailable items, with their keys', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await closeNode(s);
  });

  /** A stand-in batch route: each round answers each item by `decide(round, key)`; records every body. */
  async function standIn(decide: (round: number, key: string) => 'ok' | 'unavailable' | 503) {
    const bodies: { deductions: { account: string; idempotency_key: string }[] }[] = [];
    const server = createServer(async (req, res) => {
      let text = '';
      for await (const chunk of req) text += String(chunk);
      const body = JSON.parse(text);
      bodies.push(body);
      const round = bodies.length;
      const verdicts = body.deductions.map((d: { idempotency_key: string }) => decide(round, d.idempotency_key));
      if (verdicts.includes(503)) {
        res.writeHead(503, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ success: false, code: 'unavailable', error: 'down' }));
      }
      const results = body.deductions.map((d: { account: string; idempotency_key: string }, i: number) =>
        verdicts[i] === 'ok'
          ? {
              success: true,
              account: d.account,
              feature: 'f',
              quantity: 1,
              cost: 1,
              balance_before: 2,
              balance: 1,
              available: 1,
              entry_id: round,
              replayed: false,
            }
          : { success: false, code: 'unavailable', error: 'queue full' },
      );
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ success: true, results }));
    });
    servers.push(server);
    return { url: await listenNode(server), bodies };
  }

  it('only the items answered unavailable are sent again, with the same keys, until answered', async () => {
    const { url, bodies } = await standIn((round, key) => (round < 3 && key.endsWith('odd') ? 'unavailable' : 'ok'));
    const tm = new TokenMeterClient({ baseUrl: url, apiKey: APP_KEY, retryDelayMs: 0 });
    const items = Array.from({ length: 6 }, (_, i) => ({
      account: 'x',
      feature: 'f',
      idempotency_key: `k${i}-${i % 2 ? 'odd' : 'even'}`,
    }));
    const results = await tm.deductMany(items);
    assert.deepEqual(
      bodies.map((b) => b.deductions.map((d) => d.idempotency_key)),
      [items.map((i) => i.idempotency_key), ['k1-odd', 'k3-odd', 'k5-odd'], ['k1-odd', 'k3-odd', 'k5-odd']],
    );
    assert.deepEqual(
      results.map((r) => [r.idempotency_key, r.ok, r.ok ? r.entry_id : null]),
      items.map((item, i) => [item.idempotency_key, true, i % 2 ? 3 : 1]),
    );
  });

  it('items still unavailable after the retries are unavailable results; the answered ones are kept', async () => {
    const { url, bodies } = await standIn((round, key) => (round === 1 ? (key === 'b' ? 'unavailable' : 'ok') : 503));
    const tm = new TokenMeterClient({ baseUrl: url, apiKey: APP_KEY, retryDelayMs: 0, retries: 2 });
    const results = await tm.deductMany([
      { account: 'x', feature: 'f', idempotency_key: 'a' },
      { account: 'x', feature: 'f', idempotency_key: 'b' },
    ]);
    assert.equal(bodies.length, 3);
    assert.equal(results[0]?.ok, true);
    assert.deepEqual(
      [results[1]?.ok, results[1]?.ok === false && results[1].code, results[1]?.idempotency_key],
      [false, 'unavailable', 'b'],
    );
  });

  it('property: whatever rounds each item is unavailable for, every item is sent until answered, always with its key', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 12 }), async (busy) => {
        // Item i is unavailable for its first busy[i] rounds in which it is sent.
        const seen = new Map<string, number>();
        const { url, bodies } = await standIn((_round, key) => {
          const n = (seen.get(key) ?? 0) + 1;
          seen.set(key, n);
          return n <= (busy[Number(key.slice(1))] ?? 0) ? 'unavailable' : 'ok';
        });
        const tm = new TokenMeterClient({ baseUrl: url, apiKey: APP_KEY, retryDelayMs: 0, retries: 3 });
        const results: DeductManyResult[] = await tm.deductMany(
          busy.map((_, i) => ({ account: 'x', feature: 'f', idempotency_key: `i${i}` })),
        );
        assert.deepEqual(
          results.map((r) => [r.idempotency_key, r.ok]),
          busy.map((_, i) => [`i${i}`, true]),
        );
        busy.forEach((b, i) => {
          assert.equal(seen.get(`i${i}`), b + 1);
        });
        assert.equal(bodies.length, Math.max(...busy) + 1);
        await closeNode(servers.pop() as Server);
      }),
      { numRuns: 40 },
    );
  });
});
