import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/index.ts';
import type { FeatureHandlers } from '../../src/http/feature-handlers.ts';
import { type TestApp, testApp } from './http-helpers.ts';

/** A real HTTP receiver for `handler_url`: records each request and answers as the test says. */
class Receiver {
  readonly requests: { headers: IncomingMessage['headers']; body: unknown }[] = [];
  answer: (res: ServerResponse) => void = (res) => res.writeHead(200).end('{}');
  readonly #server: Server;
  #arrived: (() => void) | undefined;

  constructor() {
    this.#server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
      });
      req.on('end', () => {
        this.requests.push({ headers: req.headers, body: JSON.parse(text) as unknown });
        this.#arrived?.();
        this.answer(res);
      });
    });
  }

  arrival(): Promise<void> {
    return new Promise((resolve) => {
      this.#arrived = resolve;
    });
  }

  listen(): Promise<string> {
    return new Promise((resolve) => {
      this.#server.listen(0, '127.0.0.1', () => {
        resolve(`http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/work`);
      });
    });
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}

/** A feature config like the built-in one, with `extra` fields on social_post. */
function catalogWith(extra: Record<string, unknown>) {
  return parseConfig(
    {
      features: [
        { id: 'social_post', name: 'Social post', cost: 1, ...extra },
        { id: 'business_collector', name: 'Business collector', cost: 5 },
      ],
    },
    'test',
  );
}

/** A service listening on a real port, whose connections the test can watch close. */
async function listening(t: TestApp): Promise<{ url: string; closed: () => Promise<void> }> {
  let onClose: (() => void) | undefined;
  t.app.server.on('connection', (socket) => socket.once('close', () => onClose?.()));
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  return {
    url,
    closed: () =>
      new Promise((resolve) => {
        onClose = resolve;
      }),
  };
}

/** Starts a run from a raw socket and hangs up once `started` resolves, as a client that goes away does. */
async function runAndHangUp(url: string, feature: string, account: string, started: Promise<void>): Promise<void> {
  const req = request(`${url}/api/features/${feature}/run`, {
    method: 'POST',
    headers: { authorization: 'Bearer tm_app_test_bootstrap_key_0123456789abcdef', 'content-type': 'application/json' },
  });
  req.on('error', () => {});
  req.end(JSON.stringify({ account }));
  await started;
  req.destroy();
}

/** Resolves with how the gate settled its next hold, once the settlement is written. */
function nextSettlement(t: TestApp): Promise<'committed' | 'released'> {
  const { ledger } = t;
  const commit = ledger.commitHold.bind(ledger);
  const release = ledger.releaseHold.bind(ledger);
  return new Promise((resolve) => {
    ledger.commitHold = async (id, actual) => {
      const r = await commit(id, actual);
      resolve('committed');
      return r;
    };
    ledger.releaseHold = async (id) => {
      const r = await release(id);
      resolve('released');
      return r;
    };
  });
}

/** A handler the test finishes by hand; `started` resolves when it begins. */
function manualHandler() {
  let finish!: (ending: 'ok' | 'throw') => void;
  let begin!: () => void;
  const started = new Promise<void>((resolve) => {
    begin = resolve;
  });
  const handler = () => {
    begin();
    return new Promise<unknown>((resolve, reject) => {
      finish = (ending) => (ending === 'ok' ? resolve({ done: true }) : reject(new Error('the work failed')));
    });
  };
  return { handler, started, finish: (ending: 'ok' | 'throw' = 'ok') => finish(ending) };
}

describe('the token gate: POST /api/features/:feature/run', () => {
  let t: TestApp | undefined;
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await t?.close();
    await receiver?.close();
    t = undefined;
    receiver = undefined;
  });

  describe('which handler runs', () => {
    it('in demo mode runs the simulated handler and charges the feature cost once', async () => {
      t = await testApp({ demo: true });
      const res = await t.call({
        method: 'POST',
        url: '/api/features/business_collector/run',
        payload: { account: 'a', input: { q: 'dentists' } },
      });
      assert.equal(res.statusCode, 200);
      const body = res.json();
      assert.equal(body.cost, 5);
      assert.equal(body.balance_before, 100);
      assert.equal(body.balance, 95);
      assert.equal(body.result.simulated, true);
      assert.equal((await t.ledger.getBalance('a')).held, 0);
    });

    it('no simulated work outside demo mode: a feature without a handler is 404 and charges nothing', async () => {
      t = await testApp();
      const res = await t.call({
        method: 'POST',
        url: '/api/features/business_collector/run',
        payload: { account: 'a' },
      });
      assert.equal(res.statusCode, 404);
      assert.equal(res.json().code, 'not_found');
      const view = await t.ledger.getBalance('a');
      assert.equal(view.exists, false);
      assert.equal(view.balance, 100);
      assert.equal(view.held, 0);
    });

    it('a handler the embedding app passes runs outside demo mode and its result is returned', async () => {
      t = await testApp({}, { social_post: async (run) => ({ posted: run.input }) });
      const res = await t.call({
        method: 'POST',
        url: '/api/features/social_post/run',
        payload: { account: 'a', input: 'hi' },
      });
      assert.equal(res.statusCode, 200);
      assert.deepEqual(res.json().result, { posted: 'hi' });
      assert.equal((await t.ledger.getBalance('a')).balance, 99);
    });
  });

  describe('handler_url', () => {
    it('POSTs {account, feature, input} with the run’s idempotency key; a 2xx answer commits and is the result', async () => {
      receiver = new Receiver();
      receiver.answer = (res) => res.writeHead(201, { 'content-type': 'application/json' }).end('{"post_id":42}');
      const url = await receiver.listen();
      t = await testApp({}, undefined, undefined, catalogWith({ handler_url: url }));
      const res = await t.call({
        method: 'POST',
        url: '/api/features/social_post/run',
        payload: { account: 'a', input: { text: 'hello' } },
      });
      assert.equal(res.statusCode, 200);
      const body = res.json();
      assert.deepEqual(body.result, { post_id: 42 });
      assert.equal(body.cost, 1);
      assert.equal((await t.ledger.getBalance('a')).balance, 99);
      const [seen] = receiver.requests;
      assert.deepEqual(seen?.body, { account: 'a', feature: 'social_post', input: { text: 'hello' } });
      assert.equal(seen?.headers['content-type'], 'application/json');
      assert.match(String(seen?.headers['idempotency-key']), /^tokenmeter-hold-\d+$/);
      assert.equal(seen?.headers['x-tokenmeter-account'], 'a');
      assert.equal(seen?.headers['x-tokenmeter-feature'], 'social_post');
    });

    for (const status of [404, 500]) {
      it(`a ${status} answer releases the hold and is 502 feature_failed`, async () => {
        receiver = new Receiver();
        receiver.answer = (res) => res.writeHead(status).end('{"error":"no"}');
        const url = await receiver.listen();
        t = await testApp({}, undefined, undefined, catalogWith({ handler_url: url }));
        const res = await t.call({ method: 'POST', url: '/api/features/social_post/run', payload: { account: 'a' } });
        assert.equal(res.statusCode, 502);
        assert.equal(res.json().code, 'feature_failed');
        const view = await t.ledger.getBalance('a');
        assert.equal(view.balance, 100);
        assert.equal(view.held, 0);
      });
    }

    it('a handler_url that cannot be reached releases the hold and is 502 feature_failed', async () => {
      receiver = new Receiver();
      const url = await receiver.listen();
      await receiver.close();
      receiver = undefined;
      t = await testApp({}, undefined, undefined, catalogWith({ handler_url: url }));
      const res = await t.call({ method: 'POST', url: '/api/features/social_post/run', payload: { account: 'a' } });
      assert.equal(res.statusCode, 502);
      assert.equal(res.json().code, 'feature_failed');
      assert.equal((await t.ledger.getBalance('a')).held, 0);
    });
  });

  describe('settling by what the handler did', () => {
    it('a failing handler charges nothing and releases the hold', async () => {
      t = await testApp(
        {},
        {
          social_post: async () => {
            throw new Error('the network is down');
          },
        },
      );
      const res = await t.call({ method: 'POST', url: '/api/features/social_post/run', payload: { account: 'a' } });
      assert.equal(res.statusCode, 502);
      assert.equal(res.json().code, 'feature_failed');
      const view = await t.ledger.getBalance('a');
      assert.equal(view.balance, 100);
      assert.equal(view.held, 0);
    });

    it('the hold lives for the feature’s hold_ttl_seconds (default 120)', async () => {
      const slow = manualHandler();
      const quick = manualHandler();
      t = await testApp(
        {},
        { social_post: slow.handler, business_collector: quick.handler },
        undefined,
        catalogWith({ hold_ttl_seconds: 30 }),
      );
      const now = t.clock.now();
      const first = t.call({ method: 'POST', url: '/api/features/social_post/run', payload: { account: 'a' } });
      const second = t.call({ method: 'POST', url: '/api/features/business_collector/run', payload: { account: 'a' } });
      await Promise.all([slow.started, quick.started]);
      const holds = await t.ledger.store.activeHolds('a');
      const expiry = (feature: string) => holds.find((h) => h.feature === feature)?.expiresAt;
      assert.equal(expiry('social_post'), now + 30_000);
      assert.equal(expiry('business_collector'), now + 120_000);
      slow.finish();
      quick.finish();
      assert.equal((await first).statusCode, 200);
      assert.equal((await second).statusCode, 200);
    });

    it('a slow handler is not free: work that finishes after the hold expired is charged', async () => {
      const work = manualHandler();
      t = await testApp({}, { business_collector: work.handler });
      const pending = t.call({
        method: 'POST',
        url: '/api/features/business_collector/run',
        payload: { account: 'a' },
      });
      await work.started;
      t.clock.advance(121_000);
      assert.equal((await t.ledger.getBalance('a')).held, 0);
      work.finish();
      const res = await pending;
      assert.equal(res.statusCode, 200);
      assert.equal(res.json().cost, 5);
      const view = await t.ledger.getBalance('a');
      assert.equal(view.balance, 95);
      assert.equal(view.held, 0);
    });

    it('work that completed is charged even though the caller hung up before the answer', async () => {
      const work = manualHandler();
      t = await testApp({}, { business_collector: work.handler });
      const { url, closed } = await listening(t);
      const gone = closed();
      await runAndHangUp(url, 'business_collector', 'a', work.started);
      await gone;
      assert.equal((await t.ledger.getBalance('a')).held, 5);
      const settled = nextSettlement(t);
      work.finish();
      assert.equal(await settled, 'committed');
      const view = await t.ledger.getBalance('a');
      assert.equal(view.balance, 95);
      assert.equal(view.held, 0);
    });

    it('a handler that throws after the caller hung up releases the hold', async () => {
      const work = manualHandler();
      t = await testApp({}, { business_collector: work.handler });
      const { url, closed } = await listening(t);
      const gone = closed();
      await runAndHangUp(url, 'business_collector', 'a', work.started);
      await gone;
      const settled = nextSettlement(t);
      work.finish('throw');
      assert.equal(await settled, 'released');
      const view = await t.ledger.getBalance('a');
      assert.equal(view.balance, 100);
      assert.equal(view.held, 0);
    });

    for (const status of [404, 500]) {
      it(`a handler_url answering ${status} after the caller hung up releases the hold`, async () => {
        receiver = new Receiver();
        let answer!: () => void;
        receiver.answer = (res) => {
          answer = () => res.writeHead(status).end();
        };
        const arrived = receiver.arrival();
        t = await testApp({}, undefined, undefined, catalogWith({ handler_url: await receiver.listen() }));
        const { url, closed } = await listening(t);
        const gone = closed();
        await runAndHangUp(url, 'social_post', 'a', arrived);
        await gone;
        assert.equal((await t.ledger.getBalance('a')).held, 1);
        const settled = nextSettlement(t);
        answer();
        assert.equal(await settled, 'released');
        const view = await t.ledger.getBalance('a');
        assert.equal(view.balance, 100);
        assert.equal(view.held, 0);
      });
    }

    it('a handler that never answers leaves a hold that expires, not a charge', async () => {
      const work = manualHandler();
      t = await testApp({}, { social_post: work.handler });
      const { url, closed } = await listening(t);
      const gone = closed();
      await runAndHangUp(url, 'social_post', 'a', work.started);
      await gone;
      assert.equal((await t.ledger.getBalance('a')).available, 99);
      t.clock.advance(121_000);
      const view = await t.ledger.getBalance('a');
      assert.equal(view.available, 100);
      assert.equal(view.balance, 100);
    });
  });

  it('refuses at zero with 402 and the exact message, without running the handler', async () => {
    let ran = 0;
    t = await testApp(
      {},
      {
        outbound_call_single: async () => {
          ran++;
          return {};
        },
      },
    );
    await t.ledger.adjust({ account: '7', setBalance: 0, reason: 'r', actor: 't' });
    const token = await t.userToken('7');
    const res = await t.call({
      as: { token },
      method: 'POST',
      url: '/api/features/outbound_call_single/run',
      payload: {},
    });
    assert.equal(res.statusCode, 402);
    assert.equal(
      res.json().error,
      'Insufficient tokens. Your balance is 0. Please purchase more tokens to continue using services.',
    );
    assert.equal(ran, 0);
  });

  it('a user token runs features on its own account only', async () => {
    t = await testApp({ demo: true });
    const token = await t.userToken('alice');
    const own = await t.call({ as: { token }, method: 'POST', url: '/api/features/social_post/run', payload: {} });
    assert.equal(own.statusCode, 200);
    const other = await t.call({
      as: { token },
      method: 'POST',
      url: '/api/features/social_post/run',
      payload: { account: 'bob' },
    });
    assert.equal(other.statusCode, 403);
    assert.equal((await t.ledger.getBalance('bob')).exists, false);
  });

  it('an idempotency key makes a retried run charge once and replay the original answer', async () => {
    t = await testApp({ demo: true });
    const run = (feature = 'crm_ai_agent') =>
      t?.call({
        method: 'POST',
        url: `/api/features/${feature}/run`,
        payload: { account: 'a', idempotency_key: 'run-1' },
      });
    const first = await run();
    assert.equal(first?.statusCode, 200);
    assert.equal(first?.json().replayed, false);
    const again = await run();
    assert.equal(again?.statusCode, 200);
    assert.deepEqual(again?.json(), { ...first?.json(), replayed: true });
    assert.equal((await t.ledger.getBalance('a')).balance, 98);
    const other = await run('social_post');
    assert.equal(other?.statusCode, 409);
    assert.equal(other?.json().code, 'idempotency_conflict');
  });

  it('regression (gate key prefix): a 255-character key runs and replays, and a reservation with the same key is its own', async () => {
    t = await testApp({ demo: true });
    const key = 'k'.repeat(255);
    const run = () =>
      t?.call({
        method: 'POST',
        url: '/api/features/crm_ai_agent/run',
        payload: { account: 'a', idempotency_key: key },
      });
    const first = await run();
    assert.equal(first?.statusCode, 200, first?.body);
    const again = await run();
    assert.equal(again?.json().replayed, true);
    // The gate's hold used to be keyed `run:<key>` among reservations: a direct reserve with that
    // key replayed the gate's hold instead of reserving.
    const reserved = await t.ledger.reserve({ account: 'a', amount: 3, idempotencyKey: key });
    assert.equal(reserved.ok && reserved.replayed, false);
    const prefixed = await t.ledger.reserve({ account: 'a', amount: 2, idempotencyKey: 'run:short' });
    assert.equal(prefixed.ok, true);
    const gate = await t.call({
      method: 'POST',
      url: '/api/features/crm_ai_agent/run',
      payload: { account: 'a', idempotency_key: 'short' },
    });
    assert.equal(gate.statusCode, 200, gate.body);
    assert.equal(gate.json().replayed, false);
    assert.equal((await t.ledger.getBalance('a')).balance, 100 - 2 - 2);
  });

  it('metrics count a replayed run as replayed and a conflicting key as conflict, not charged or refused', async () => {
    t = await testApp({ demo: true });
    const run = (feature: string) =>
      t?.call({ method: 'POST', url: `/api/features/${feature}/run`, payload: { account: 'a', idempotency_key: 'k' } });
    assert.equal((await run('crm_ai_agent'))?.statusCode, 200);
    assert.equal((await run('crm_ai_agent'))?.statusCode, 200);
    assert.equal((await run('social_post'))?.statusCode, 409);
    const text = (await t.call({ as: 'none', method: 'GET', url: '/metrics' })).body;
    const count = (feature: string, outcome: string) =>
      Number(
        new RegExp(`^tokenmeter_deductions_total\\{feature="${feature}",outcome="${outcome}"\\} (\\d+)$`, 'm').exec(
          text,
        )?.[1] ?? 0,
      );
    assert.equal(count('crm_ai_agent', 'charged'), 1);
    assert.equal(count('crm_ai_agent', 'replayed'), 1);
    assert.equal(count('social_post', 'conflict'), 1);
    assert.equal(count('social_post', 'refused'), 0);
  });

  it('a retry while the first run with that key is still going is a 409, and the work runs once', async () => {
    let runs = 0;
    const work = manualHandler();
    t = await testApp({}, {
      social_post: async () => {
        runs++;
        return work.handler();
      },
    } satisfies FeatureHandlers);
    const req = {
      method: 'POST' as const,
      url: '/api/features/social_post/run',
      payload: { account: 'a', idempotency_key: 'k' },
    };
    const first = t.call(req);
    await work.started;
    const second = await t.call(req);
    assert.equal(second.statusCode, 409);
    assert.match(second.json().error, /in progress/);
    work.finish();
    assert.equal((await first).statusCode, 200);
    assert.equal(runs, 1);
    assert.equal((await t.ledger.getBalance('a')).balance, 99);
  });

  it('an unknown feature is 404', async () => {
    t = await testApp({ demo: true });
    const res = await t.call({ method: 'POST', url: '/api/features/teleport/run', payload: { account: 'a' } });
    assert.equal(res.statusCode, 404);
    assert.equal(res.json().code, 'unknown_feature');
  });
});
