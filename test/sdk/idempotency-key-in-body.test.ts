// The service takes any well-formed idempotency key of 1 to 255 characters, in the
// Idempotency-Key header or the body's idempotency_key; a header is Latin-1 on the wire (fetch
// refuses anything beyond it) and HTTP trims its outer spaces. The SDK sends a key in the header
// only when the header carries it exactly, else in the body, so deduct, reserve and runFeature
// work with any key, each attempt with the same one. Against the real service on SQLite.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { textLength, textProblem } from '../../src/core/well-formed-text.ts';
import { fitsHeader } from '../../src/sdk/idempotency-key.ts';
import { TokenMeterApiError, TokenMeterConnectionError } from '../../src/sdk/index.ts';
import { APP_KEY, type LiveService, liveService } from './sdk-helpers.ts';

interface Sent {
  path: string;
  header: string | null;
  bodyKey: unknown;
}

/** A fetch to the real service that records where each request carried its key; `lose` loses the first answer. */
function recordingFetch(options: { lose?: boolean } = {}) {
  const sent: Sent[] = [];
  const fetcher: typeof fetch = async (input, init) => {
    const body = init?.body === undefined ? {} : JSON.parse(String(init.body));
    sent.push({
      path: new URL(String(input)).pathname,
      header: new Headers(init?.headers).get('idempotency-key'),
      bodyKey: body.idempotency_key,
    });
    const res = await fetch(input, init);
    const text = await res.text();
    if (options.lose && sent.length === 1) throw new TypeError('fetch failed (the answer was lost on the way back)');
    return new Response(text, { status: res.status, headers: res.headers });
  };
  return { sent, fetcher };
}

async function debitKeys(live: LiveService, account: string): Promise<(string | null)[]> {
  const history = await live.t.ledger.history(account, { limit: 1000 });
  return history.entries.filter((e) => e.kind === 'debit' || e.kind === 'hold_commit').map((e) => e.idempotencyKey);
}

describe('SDK: idempotency keys a header cannot carry', () => {
  let live: LiveService;
  beforeEach(async () => {
    live = await liveService();
  });
  afterEach(() => live.close());

  it('the service takes a non-Latin-1 key in the body', async () => {
    const res = await fetch(`${live.url}/api/tokens/deduct`, {
      method: 'POST',
      headers: { authorization: `Bearer ${APP_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ account: 'k', feature: 'outbound_call_single', idempotency_key: 'заказ-1' }),
    });
    assert.equal(res.status, 200);
  });

  it('deduct with a key beyond Latin-1 charges once, in the body, and a lost answer is retried with it', async () => {
    const { sent, fetcher } = recordingFetch({ lose: true });
    const tm = live.client({ fetch: fetcher });
    const first = await tm.deduct({ account: 'k', feature: 'outbound_call_single', idempotency_key: 'заказ-2' });
    assert.ok(first.ok);
    assert.equal(first.replayed, true, 'the lost attempt charged; the retry replays it');
    assert.deepEqual(sent, [
      { path: '/api/tokens/deduct', header: null, bodyKey: 'заказ-2' },
      { path: '/api/tokens/deduct', header: null, bodyKey: 'заказ-2' },
    ]);
    const again = await tm.deduct({ account: 'k', feature: 'outbound_call_single', idempotency_key: 'заказ-2' });
    assert.ok(again.ok && again.replayed);
    assert.equal(again.entry_id, first.entry_id);
    assert.deepEqual(await debitKeys(live, 'k'), ['заказ-2']);
    // The same key with other parameters is the service's conflict, not a connection error.
    await assert.rejects(
      tm.deduct({ account: 'k', feature: 'crm_ai_agent', idempotency_key: 'заказ-2' }),
      (err: unknown) => err instanceof TokenMeterApiError && err.code === 'idempotency_conflict',
    );
  });

  it('reserve and runFeature take such keys too, and replay them', async () => {
    const { sent, fetcher } = recordingFetch();
    const tm = live.client({ fetch: fetcher });
    const hold = await tm.reserve({ account: 'r', amount: 5, idempotency_key: '予約-1' });
    const holdAgain = await tm.reserve({ account: 'r', amount: 5, idempotency_key: '予約-1' });
    assert.ok(hold.ok && holdAgain.ok);
    assert.equal(holdAgain.hold_id, hold.hold_id);
    assert.equal(holdAgain.replayed, true);

    const run = await tm.runFeature('social_post', { account: 'r', idempotency_key: 'запуск 🚀' });
    const runAgain = await tm.runFeature('social_post', { account: 'r', idempotency_key: 'запуск 🚀' });
    assert.ok(run.ok && runAgain.ok);
    assert.equal(runAgain.replayed, true);
    assert.equal((await live.t.ledger.getBalance('r')).balance, 99);
    assert.deepEqual(
      sent.map((s) => [s.path, s.header, s.bodyKey]),
      [
        ['/api/tokens/reserve', null, '予約-1'],
        ['/api/tokens/reserve', null, '予約-1'],
        ['/api/features/social_post/run', null, 'запуск 🚀'],
        ['/api/features/social_post/run', null, 'запуск 🚀'],
      ],
    );
  });

  it('a printable ASCII key stays in the header; one HTTP would change (Latin-1, outer spaces) goes in the body', async () => {
    const { sent, fetcher } = recordingFetch();
    const tm = live.client({ fetch: fetcher });
    for (const key of ['order-42', 'café', ' padded ', 'a b']) {
      assert.ok((await tm.deduct({ account: 'h', feature: 'outbound_call_single', idempotency_key: key })).ok);
    }
    assert.deepEqual(
      sent.map((s) => [s.header, s.bodyKey]),
      [
        ['order-42', undefined],
        [null, 'café'],
        [null, ' padded '],
        ['a b', undefined],
      ],
    );
    assert.deepEqual((await debitKeys(live, 'h')).sort(), [' padded ', 'a b', 'café', 'order-42']);
  });

  it('a key the service refuses is its 400 naming the field, not a connection error', async () => {
    const { sent, fetcher } = recordingFetch();
    const tm = live.client({ fetch: fetcher });
    for (const key of ['tab\there', 'x'.repeat(256), '\ud800']) {
      await assert.rejects(
        tm.deduct({ account: 'h', feature: 'outbound_call_single', idempotency_key: key }),
        (err: unknown) =>
          // Named as it travelled: the body's idempotency_key, or the header for a printable ASCII key.
          err instanceof TokenMeterApiError && err.status === 400 && /^idempotency[-_]key: /.test(err.message),
      );
    }
    assert.equal(sent.length, 3, 'each refused once, never retried');
  });

  it('a request fetch would refuse to send is a TypeError at once: neither retried nor a connection error', async () => {
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const badKey = live.client({ fetch: counting, apiKey: 'ключ-приложения-123456' });
    await assert.rejects(badKey.getBalance('7'), (err: unknown) => {
      assert.ok(err instanceof TypeError && !(err instanceof TokenMeterConnectionError), String(err));
      assert.match(err.message, /^tokenmeter: GET \/api\/tokens\/balance cannot be sent: /);
      return true;
    });
    const tm = live.client({ fetch: counting });
    await assert.rejects(tm.deduct({ account: '7', feature: 'social_post', quantity: 1n as never }), TypeError);
    assert.equal(calls, 0);
  });
});

describe('SDK: any well-formed key, property over the real service', () => {
  let live: LiveService;
  before(async () => {
    live = await liveService();
  });
  after(() => live.close());

  it('deduct charges once under exactly the key given, and the same key replays that charge', async () => {
    const wellFormed = (k: string) => k.length > 0 && textLength(k) <= 255 && textProblem(k) === null;
    const keys = fc
      .oneof(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.string({ unit: 'binary', minLength: 250, maxLength: 255 }),
      )
      .filter(wellFormed);
    let run = 0;
    await fc.assert(
      fc.asyncProperty(keys, fc.boolean(), async (key, lose) => {
        const account = `p${++run}`;
        const { sent, fetcher } = recordingFetch({ lose });
        const tm = live.client({ fetch: fetcher });
        const first = await tm.deduct({ account, feature: 'outbound_call_single', idempotency_key: key });
        const again = await tm.deduct({ account, feature: 'outbound_call_single', idempotency_key: key });
        assert.ok(first.ok && again.ok);
        assert.equal(first.replayed, lose);
        assert.equal(again.replayed, true);
        assert.equal(again.entry_id, first.entry_id);
        assert.deepEqual(await debitKeys(live, account), [key]);
        for (const s of sent) {
          assert.deepEqual([s.header, s.bodyKey], fitsHeader(key) ? [key, undefined] : [null, key]);
        }
      }),
      { numRuns: 80 },
    );
  });
});
