import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { afterEach, describe, it } from 'node:test';
import { TokenMeterApiError, TokenMeterClient, TokenMeterConnectionError } from '../../src/sdk/index.ts';
import { APP_KEY, closeNode, type LiveService, listenNode, liveService, UUID_V7 as UUID } from './sdk-helpers.ts';

/** What the stand-in does with the nth request: answer a status, cut the connection, or hang. */
type Step = number | 'drop' | 'hang' | ((req: IncomingMessage, body: string, res: ServerResponse) => Promise<void>);

interface Seen {
  method: string;
  url: string;
  key: string | undefined;
  body: string;
}

const OK_DEDUCT = {
  success: true,
  account: '7',
  feature: 'social_post',
  quantity: 1,
  cost: 1,
  balance_before: 100,
  balance: 99,
  available: 99,
  entry_id: 1,
  replayed: false,
};

function bodyFor(status: number): object {
  if (status >= 200 && status < 300) return OK_DEDUCT;
  if (status === 402) {
    return {
      success: false,
      code: 'insufficient_tokens',
      error: 'no',
      account: '7',
      balance: 0,
      available: 0,
      cost: 1,
    };
  }
  const code =
    status === 503
      ? 'unavailable'
      : status === 409
        ? 'idempotency_conflict'
        : status === 400
          ? 'invalid_request'
          : 'internal';
  return { success: false, code, error: `stand-in ${status}` };
}

/** A local stand-in for tokenmeter that follows a script and records every request it saw. */
async function standIn(script: Step[]): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    const header = req.headers['idempotency-key'];
    seen.push({ method: req.method ?? '', url: req.url ?? '', key: Array.isArray(header) ? header[0] : header, body });
    const step = script[seen.length - 1] ?? 200;
    if (step === 'drop') return req.socket.destroy();
    if (step === 'hang') return;
    if (typeof step === 'function') return step(req, body, res);
    res.writeHead(step, { 'content-type': 'application/json' }).end(JSON.stringify(bodyFor(step)));
  });
  return { url: await listenNode(server), seen, server };
}

describe('retries', () => {
  const servers: Server[] = [];
  let live: LiveService | undefined;
  afterEach(async () => {
    for (const server of servers.splice(0)) await closeNode(server);
    await live?.close();
    live = undefined;
  });

  async function client(script: Step[], options: { retries?: number; timeoutMs?: number } = {}) {
    const stand = await standIn(script);
    servers.push(stand.server);
    return { ...stand, tm: new TokenMeterClient({ baseUrl: stand.url, apiKey: APP_KEY, retryDelayMs: 0, ...options }) };
  }

  it('a 503 is retried with the same generated Idempotency-Key, sent as a header', async () => {
    const { tm, seen } = await client([503, 200]);
    const r = await tm.deduct({ account: '7', feature: 'social_post' });
    assert.equal(r.ok, true);
    assert.equal(seen.length, 2);
    assert.match(seen[0]?.key ?? '', UUID);
    assert.equal(seen[1]?.key, seen[0]?.key);
    assert.deepEqual(JSON.parse(seen[1]?.body ?? ''), { account: '7', feature: 'social_post' });
  });

  it('the caller’s idempotency key is the one every attempt carries', async () => {
    const { tm, seen } = await client([503, 503, 200]);
    await tm.reserve({ account: '7', amount: 5, idempotency_key: 'job-42' });
    assert.deepEqual(
      seen.map((s) => s.key),
      ['job-42', 'job-42', 'job-42'],
    );
    assert.equal(seen[0]?.body.includes('idempotency_key'), false);
  });

  it('each call gets its own generated key', async () => {
    const { tm, seen } = await client([200, 200]);
    await tm.runFeature('social_post', { account: '7' });
    await tm.runFeature('social_post', { account: '7' });
    assert.notEqual(seen[0]?.key, seen[1]?.key);
  });

  it('a connection cut after the request arrived is retried for keyed writes and reads', async () => {
    const { tm, seen } = await client(['drop', 200, 'drop', 200]);
    assert.equal((await tm.deduct({ account: '7', feature: 'social_post' })).ok, true);
    assert.equal(seen[1]?.key, seen[0]?.key);
    await tm.getBalance('7');
    assert.equal(seen.length, 4);
  });

  it('an attempt that times out is retried with the same key', async () => {
    const { tm, seen } = await client(['hang', 200], { timeoutMs: 250 });
    assert.equal((await tm.deduct({ account: '7', feature: 'social_post' })).ok, true);
    assert.equal(seen.length, 2);
    assert.equal(seen[1]?.key, seen[0]?.key);
  });

  it('gives up after `retries` extra attempts: a 503 throws unavailable, no answer throws a connection error', async () => {
    const unavailable = await client([503, 503, 503, 503, 503]);
    await assert.rejects(unavailable.tm.deduct({ account: '7', feature: 'social_post' }), (err: unknown) => {
      assert.ok(err instanceof TokenMeterApiError);
      assert.equal(err.status, 503);
      assert.equal(err.code, 'unavailable');
      return true;
    });
    assert.equal(unavailable.seen.length, 4);
    const silent = await client(['drop', 'drop', 'drop'], { retries: 2 });
    await assert.rejects(silent.tm.getBalance('7'), (err: unknown) => {
      assert.ok(err instanceof TokenMeterConnectionError);
      assert.equal(err.attempts, 3);
      return true;
    });
    assert.equal(silent.seen.length, 3);
  });

  it('a bare 503 (Fastify’s answer while the service shuts down) is retried and reported as unavailable', async () => {
    const closing = async (_req: IncomingMessage, _body: string, res: ServerResponse) => {
      res.writeHead(503, { 'content-type': 'application/json' });
      res.end('{"error":"Service Unavailable","message":"Service Unavailable","statusCode":503}');
    };
    const { tm, seen } = await client([closing, closing], { retries: 1 });
    await assert.rejects(tm.reserve({ account: '7', amount: 1 }), (err: unknown) => {
      assert.ok(err instanceof TokenMeterApiError);
      assert.equal(err.code, 'unavailable');
      return true;
    });
    assert.equal(seen.length, 2);
    assert.equal(seen[1]?.key, seen[0]?.key);
  });

  it('never retries a 4xx or another 5xx', async () => {
    for (const status of [400, 401, 403, 404, 409, 429, 500, 502]) {
      const { tm, seen } = await client([status, 200]);
      await assert.rejects(tm.deduct({ account: '7', feature: 'social_post' }), TokenMeterApiError);
      assert.equal(seen.length, 1, `status ${status}`);
    }
    const refused = await client([402, 200]);
    const r = await refused.tm.deduct({ account: '7', feature: 'social_post' });
    assert.equal(r.ok, false);
    assert.equal(refused.seen.length, 1);
  });

  it('an answer that is not tokenmeter JSON is invalid_response', async () => {
    const html = async (_req: IncomingMessage, _body: string, res: ServerResponse) => {
      res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>');
    };
    const { tm } = await client([html]);
    await assert.rejects(tm.getBalance('7'), (err: unknown) => {
      assert.ok(err instanceof TokenMeterApiError);
      assert.equal(err.status, 502);
      assert.equal(err.code, 'invalid_response');
      assert.equal(err.body, '<h1>Bad gateway</h1>');
      return true;
    });
  });

  it('adjust (no idempotency key) is not sent twice when the answer is lost, but is retried on 503', async () => {
    const lost = await client(['drop', 200]);
    const admin = new TokenMeterClient({ baseUrl: lost.url, apiKey: 'admin', retryDelayMs: 0 });
    await assert.rejects(admin.adjust('7', { amount: 10, reason: 'r' }), (err: unknown) => {
      assert.ok(err instanceof TokenMeterConnectionError);
      assert.equal(err.attempts, 1);
      return true;
    });
    assert.equal(lost.seen.length, 1);
    const busy = await client([
      503,
      (_req, _body, res) => Promise.resolve(void res.writeHead(200).end('{"success":true}')),
    ]);
    const admin2 = new TokenMeterClient({ baseUrl: busy.url, apiKey: 'admin', retryDelayMs: 0 });
    await admin2.setPlan('7', { plan: 'pro', reason: 'r' });
    assert.equal(busy.seen.length, 2);
  });

  it('a refused connection proves nothing was sent, so even adjust is retried', async () => {
    const closed = await standIn([]);
    await closeNode(closed.server);
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const admin = new TokenMeterClient({
      baseUrl: closed.url,
      apiKey: 'admin',
      retryDelayMs: 0,
      retries: 2,
      fetch: counting,
    });
    await assert.rejects(admin.adjust('7', { amount: 10, reason: 'r' }), TokenMeterConnectionError);
    assert.equal(calls, 3);
  });

  it('end to end: a deduction whose answer was lost is retried and charged once', async () => {
    live = await liveService();
    const target = live.url;
    let forwarded = 0;
    const keys: (string | undefined)[] = [];
    // The stand-in forwards each request to the real service; the first answer is lost on the way back.
    const proxy = async (req: IncomingMessage, body: string, res: ServerResponse) => {
      const key = req.headers['idempotency-key'];
      keys.push(Array.isArray(key) ? key[0] : key);
      const answer = await fetch(`${target}${req.url}`, {
        method: req.method ?? 'GET',
        headers: {
          authorization: req.headers.authorization ?? '',
          'content-type': 'application/json',
          'idempotency-key': keys.at(-1) ?? '',
        },
        body,
      });
      const text = await answer.text();
      if (++forwarded === 1) return void req.socket.destroy();
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(text);
    };
    const { tm } = await client([proxy, proxy]);
    const r = await tm.deduct({ account: '7', feature: 'business_collector' });
    assert.ok(r.ok);
    assert.equal(r.replayed, true);
    assert.equal(r.balance, 95);
    assert.equal(forwarded, 2);
    assert.equal(keys[0], keys[1]);
    const view = await live.t.ledger.getBalance('7');
    assert.equal(view.balance, 95);
    assert.equal((await live.t.ledger.history('7')).entries.filter((e) => e.kind === 'debit').length, 1);
  });
});
