// Webhook delivery end to end, per backend: real operations write events in their transactions,
// the dispatcher (woken by the commit) signs and POSTs them to a real HTTP receiver, which
// verifies them with the `standardwebhooks` library; failures are retried with the same id.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { systemClock } from '../../src/core/clock.ts';
import { type DispatcherOptions, WebhookDispatcher } from '../../src/events/dispatcher.ts';
import { Webhooks } from '../../src/events/webhooks.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { createLogger } from '../../src/log/logger.ts';
import { backends, type TestStore } from '../helpers/backends.ts';
import { accepted, ledgerOn } from '../helpers/ledger.ts';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A receiver that answers each request with the next status of `answers` (then 200). */
async function receiver(answers: number[] = []): Promise<{
  url: string;
  got: Received[];
  next(count: number): Promise<Received[]>;
  server: Server;
}> {
  const got: Received[] = [];
  const waiters: { count: number; resolve: (r: Received[]) => void }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = answers.shift() ?? 200;
      res.end();
      for (const w of waiters.filter((w) => got.length >= w.count)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(got.slice(0, w.count));
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    got,
    server,
    next: (count) =>
      got.length >= count
        ? Promise.resolve(got.slice(0, count))
        : new Promise((resolve) => waiters.push({ count, resolve })),
  };
}

for (const backend of backends().filter((b) => b.name === 'sqlite' || b.name === 'postgres')) {
  describe(`webhook delivery [${backend.name}]`, { timeout: 60_000 }, () => {
    let db: TestStore;
    let ledger: TokenLedger;
    let dispatcher: WebhookDispatcher;
    let webhooks: Webhooks;
    let servers: Server[] = [];

    let outcomes: { endpointUrl: string; status: string; error: string | null }[] = [];
    let outcomeWaiters: (() => void)[] = [];

    beforeEach(async () => {
      db = await backend.open();
    });
    afterEach(async () => {
      await dispatcher.stop();
      await ledger.close();
      await db.cleanup();
      for (const s of servers) s.close();
      servers = [];
      outcomes = [];
      outcomeWaiters = [];
    });

    /** Resolves once `count` outcomes have been recorded. */
    const outcomesSoFar = async (count: number) => {
      while (outcomes.length < count) await new Promise<void>((resolve) => outcomeWaiters.push(resolve));
      return outcomes;
    };

    const start = (retryBaseMs = 10, more: Partial<DispatcherOptions> = {}) => {
      ledger = ledgerOn(db.store, new Date(systemClock.now()).toISOString()).ledger;
      const outbox = ledger.store.service;
      webhooks = new Webhooks({ outbox, clock: systemClock, allowPrivate: true });
      dispatcher = new WebhookDispatcher({
        outbox,
        clock: systemClock,
        logger: createLogger({ level: 'silent' }),
        retryBaseMs,
        maxAgeMs: 3_600_000,
        allowPrivate: true,
        onOutcome: (d, o) => {
          outcomes.push({ endpointUrl: d.url, status: o.status, error: o.error });
          for (const w of outcomeWaiters.splice(0)) w();
        },
        ...more,
      });
      ledger.onEventsCommitted(() => dispatcher.wake());
      dispatcher.start();
    };

    it('sends each crossing once, signed per Standard Webhooks, as {id, type, timestamp, account, sequence, data}', async () => {
      start();
      const r = await receiver();
      servers.push(r.server);
      const { secret, endpoint } = await webhooks.add({ url: r.url, events: ['balance.low', 'balance.depleted'] });
      await ledger.createAccount({ account: 'w1' });
      accepted(await ledger.deduct({ account: 'w1', feature: 'social_post', quantity: 95 }));
      accepted(await ledger.deduct({ account: 'w1', feature: 'social_post', quantity: 5 }));
      const got = await r.next(2);
      await outcomesSoFar(2);
      const verifier = new Webhook(secret);
      const events = got.map(
        (g) => verifier.verify(g.body, g.headers as Record<string, string>) as Record<string, unknown>,
      );
      assert.deepEqual(
        events.map((e) => [e.type, e.account, e.sequence, e.data]),
        [
          ['balance.low', 'w1', 1, { account: 'w1', available: 5, threshold: 10 }],
          ['balance.depleted', 'w1', 2, { account: 'w1', available: 0 }],
        ],
      );
      assert.equal(got[0]?.headers['webhook-id'], events[0]?.id);
      const deliveries = await webhooks.deliveries(endpoint.id, 10);
      assert.deepEqual(
        deliveries.map((d) => [d.type, d.status, d.attempts, d.responseStatus]),
        [
          ['balance.depleted', 'delivered', 1, 200],
          ['balance.low', 'delivered', 1, 200],
        ],
      );
      // A tampered body does not verify.
      assert.throws(() => verifier.verify(`${got[0]?.body} `, got[0]?.headers as Record<string, string>));
    });

    it('an endpoint that answers 500 gets the same event again, with the same webhook-id, until it answers 2xx', async () => {
      start();
      const r = await receiver([500, 503]);
      servers.push(r.server);
      const { endpoint } = await webhooks.add({ url: r.url });
      await ledger.createAccount({ account: 'w2' });
      await ledger.adjust({ account: 'w2', amount: -100, reason: 'test', actor: 'ops' });
      const got = await r.next(3);
      assert.deepEqual(
        got.map((g) => g.headers['webhook-id']),
        Array(3).fill(got[0]?.headers['webhook-id']),
      );
      assert.equal(new Set(got.map((g) => JSON.parse(g.body).id)).size, 1);
      await outcomesSoFar(3);
      const [delivery] = await webhooks.deliveries(endpoint.id, 10);
      assert.deepEqual([delivery?.status, delivery?.attempts, delivery?.responseStatus], ['delivered', 3, 200]);
    });

    it('a dead endpoint fails its own deliveries without holding up another endpoint’s, and a retry by hand sends again', async () => {
      start(60_000);
      const live = await receiver();
      servers.push(live.server);
      const dead = await receiver();
      dead.server.close();
      await once(dead.server, 'close');
      const deadHook = await webhooks.add({ url: dead.url });
      await webhooks.add({ url: live.url });
      await ledger.createAccount({ account: 'w3' });
      await ledger.adjust({ account: 'w3', amount: -100, reason: 'test', actor: 'ops' });
      const [got] = await live.next(1);
      assert.equal(JSON.parse(got?.body ?? '{}').type, 'balance.depleted');
      await outcomesSoFar(2);
      const [failed] = await webhooks.deliveries(deadHook.endpoint.id, 10);
      assert.equal(failed?.status, 'pending');
      assert.equal(failed?.attempts, 1);
      assert.match(failed?.error ?? '', /refused/);
      assert.ok((failed?.nextAttemptAt ?? 0) > systemClock.now(), 'the retry waits its backoff');
      // By hand: due now, sent again (and refused again) without waiting out the backoff.
      await webhooks.retry(deadHook.endpoint.id, failed?.id ?? 0);
      dispatcher.wake();
      await outcomesSoFar(3);
      const [again] = await webhooks.deliveries(deadHook.endpoint.id, 10);
      assert.equal(again?.attempts, 2);
    });

    it('an endpoint that never answers holds only its own slots: another endpoint gets every event meanwhile', async () => {
      start(60_000, { concurrency: 8, perEndpoint: 2, timeoutMs: 60_000 });
      const held: import('node:http').ServerResponse[] = [];
      const slow = createServer((_req, res) => {
        held.push(res);
      });
      slow.listen(0, '127.0.0.1');
      await once(slow, 'listening');
      servers.push(slow);
      const fast = await receiver();
      servers.push(fast.server);
      await webhooks.add({ url: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/slow` });
      await webhooks.add({ url: fast.url });
      const accounts = Array.from({ length: 12 }, (_, i) => `w4-${i}`);
      for (const account of accounts) await ledger.adjust({ account, amount: -100, reason: 'test', actor: 'ops' });
      const got = await fast.next(12);
      assert.equal(new Set(got.map((g) => JSON.parse(g.body).account)).size, 12);
      assert.ok(held.length <= 2, `the slow endpoint holds ${held.length} sends, no more than its 2 slots`);
      // Answer what the slow endpoint holds, so the dispatcher can stop.
      for (const res of held) res.end();
      slow.closeAllConnections();
    });
  });
}
