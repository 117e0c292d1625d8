import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { afterEach, beforeEach, describe, it } from 'node:test';
import express, { type NextFunction, type Request, type Response } from 'express';
import Fastify, { type FastifyRequest } from 'fastify';
import {
  expressRequireTokens,
  fastifyRequireTokens,
  type GateHold,
  holdOf,
  type RequireTokensOptions,
  type SettleEvent,
  TokenMeterClient,
} from '../../src/sdk/index.ts';
import { closeNode, jsonOf, type LiveService, listenFastify, listenNode, liveService } from './sdk-helpers.ts';

const FEATURE = 'business_collector'; // costs 5
const ZERO = 'Insufficient tokens. Your balance is 0. Please purchase more tokens to continue using services.';

/** What the test controls in the app's routes, and what it can observe. */
class Routes {
  ran = 0;
  settled: SettleEvent[] = [];
  #waiters: ((e: SettleEvent) => void)[] = [];
  #started: (() => void) | undefined;
  #finish: ((ending: Ending) => void) | undefined;

  onSettled = (event: SettleEvent): void => {
    this.settled.push(event);
    this.#waiters.shift()?.(event);
  };

  nextSettlement(): Promise<SettleEvent> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #gone: (() => void) | undefined;

  /**
   * The /hang route: resolves `started` when it begins and `gone` when the server sees its
   * client's connection close; answers as `finish(ending)` says (200 by default).
   */
  hang(): { started: Promise<void>; gone: Promise<void>; finish: (ending?: Ending) => void } {
    const started = new Promise<void>((resolve) => {
      this.#started = resolve;
    });
    const gone = new Promise<void>((resolve) => {
      this.#gone = resolve;
    });
    return { started, gone, finish: (ending = 200) => this.#finish?.(ending) };
  }

  clientGone = (): void => {
    this.#gone?.();
  };

  async hold(): Promise<Ending> {
    this.ran++;
    this.#started?.();
    return new Promise<Ending>((resolve) => {
      this.#finish = resolve;
    });
  }
}

/** How the /hang route ends: a status it answers with, or a thrown error. */
type Ending = 200 | 404 | 500 | 'throw';

interface Harness {
  url: string;
  close(): Promise<void>;
}

type Build = (client: TokenMeterClient, routes: Routes, extra?: { ttlSeconds?: number }) => Promise<Harness>;

const buildExpress: Build = async (client, routes, extra = {}) => {
  const options: RequireTokensOptions<Request> = {
    client,
    account: (req) => req.get('x-user'),
    onSettled: routes.onSettled,
    ...extra,
  };
  const gate = expressRequireTokens(FEATURE, options);
  const app = express();
  app.use(express.json());
  app.post('/work', gate, (req, res) => {
    routes.ran++;
    res.json({ done: true, hold: holdOf(req) ?? null });
  });
  app.post('/boom', gate, () => {
    routes.ran++;
    throw new Error('the work failed');
  });
  app.post('/fail', gate, (_req, res) => {
    routes.ran++;
    res.status(500).json({ failed: true });
  });
  app.post('/hang', gate, async (_req, res) => {
    res.once('close', routes.clientGone);
    const ending = await routes.hold();
    if (ending === 'throw') throw new Error('the late work failed');
    res.status(ending).json({ done: 'late' });
  });
  app.use((_err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(500).json({ success: false, code: 'internal', error: 'boom' });
  });
  const server = createServer(app);
  return { url: await listenNode(server), close: () => closeNode(server) };
};

const buildFastify: Build = async (client, routes, extra = {}) => {
  const options: RequireTokensOptions<FastifyRequest> = {
    client,
    account: (req) => {
      const user = req.headers['x-user'];
      return typeof user === 'string' ? user : undefined;
    },
    onSettled: routes.onSettled,
    ...extra,
  };
  const hooks = fastifyRequireTokens(FEATURE, options);
  const app = Fastify();
  app.post('/work', hooks, async (req) => {
    routes.ran++;
    return { done: true, hold: holdOf(req) ?? null };
  });
  app.post('/boom', hooks, async () => {
    routes.ran++;
    throw new Error('the work failed');
  });
  app.post('/fail', { ...hooks }, async (_req, reply) => {
    routes.ran++;
    return reply.code(500).send({ failed: true });
  });
  app.post('/hang', hooks, async (req, reply) => {
    req.raw.socket.once('close', routes.clientGone);
    const ending = await routes.hold();
    if (ending === 'throw') throw new Error('the late work failed');
    return reply.code(ending).send({ done: 'late' });
  });
  const url = await listenFastify(app);
  return { url, close: () => app.close() };
};

for (const [framework, build] of [
  ['Express', buildExpress],
  ['Fastify', buildFastify],
] as const) {
  describe(`requireTokens for ${framework}`, () => {
    let s: LiveService;
    let routes: Routes;
    let app: Harness;
    const post = (path: string, user: string | undefined, init: RequestInit = {}) =>
      fetch(`${app.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(user === undefined ? {} : { 'x-user': user }) },
        body: '{}',
        ...init,
      });

    beforeEach(async () => {
      s = await liveService();
      routes = new Routes();
      app = await build(s.app, routes);
    });
    afterEach(async () => {
      await app.close();
      await s.close();
    });

    describe('happy', () => {
      it('a route that answers 2xx is charged the feature’s cost once, before the answer arrives', async () => {
        const res = await post('/work', 'alice');
        assert.equal(res.status, 200);
        const body = await jsonOf<{ hold: GateHold }>(res);
        assert.equal(body.hold.account, 'alice');
        assert.equal(body.hold.amount, 5);
        const view = await s.t.ledger.getBalance('alice');
        assert.equal(view.balance, 95);
        assert.equal(view.held, 0);
        assert.equal(routes.settled[0]?.outcome, 'committed');
        assert.equal((await s.t.ledger.history('alice')).entries.filter((e) => e.kind === 'hold_commit').length, 1);
      });
    });

    describe('error', () => {
      it('a route that throws charges nothing: the hold is released', async () => {
        const res = await post('/boom', 'alice');
        assert.equal(res.status, 500);
        assert.equal(routes.ran, 1);
        assert.equal(routes.settled[0]?.outcome, 'released');
        const view = await s.t.ledger.getBalance('alice');
        assert.equal(view.balance, 100);
        assert.equal(view.held, 0);
      });

      it('a route that answers 500 charges nothing', async () => {
        const res = await post('/fail', 'alice');
        assert.equal(res.status, 500);
        assert.deepEqual(await res.json(), { failed: true });
        const view = await s.t.ledger.getBalance('alice');
        assert.equal(view.balance, 100);
        assert.equal(view.held, 0);
      });

      it('a refused account gets 402 with the service’s JSON body, and the route does not run', async () => {
        await s.admin.adjust('alice', { balance: 0, reason: 'empty' });
        const res = await post('/work', 'alice');
        assert.equal(res.status, 402);
        assert.deepEqual(await res.json(), {
          success: false,
          code: 'insufficient_tokens',
          error: ZERO,
          account: 'alice',
          balance: 0,
          available: 0,
          cost: 5,
        });
        assert.equal(routes.ran, 0);
      });

      it('the 402 body is the one the service sends for the same refusal', async () => {
        await s.admin.adjust('bob', { balance: 3, reason: 'low' });
        const viaApp = await (await post('/work', 'bob')).json();
        const viaService = await s.app.deduct({ account: 'bob', feature: FEATURE });
        assert.ok(!viaService.ok);
        const { ok: _ok, ...serviceBody } = viaService;
        assert.deepEqual(viaApp, serviceBody);
      });

      it('an over-long account id is answered 400 in JSON, not the framework’s error page', async () => {
        const res = await post('/work', 'x'.repeat(200));
        assert.equal(res.status, 400);
        assert.match(res.headers.get('content-type') ?? '', /application\/json/);
        const body = await jsonOf<{ success: boolean; code: string; error: string }>(res);
        assert.equal(body.success, false);
        assert.equal(body.code, 'invalid_request');
        assert.match(body.error, /account/);
        assert.equal(routes.ran, 0);
      });

      it('a request without an account gets 401 and reserves nothing', async () => {
        const res = await post('/work', undefined);
        assert.equal(res.status, 401);
        assert.equal((await jsonOf(res)).code, 'unauthorized');
        assert.equal(routes.ran, 0);
      });

      it('tokenmeter unreachable: 503 and the route does not run (fail closed)', async () => {
        const down = createServer();
        const url = await listenNode(down);
        await closeNode(down);
        const offline = await build(new TokenMeterClient({ baseUrl: url, apiKey: 'k', retries: 0 }), routes);
        try {
          const res = await fetch(`${offline.url}/work`, { method: 'POST', headers: { 'x-user': 'alice' } });
          assert.equal(res.status, 503);
          assert.equal((await jsonOf(res)).code, 'unavailable');
          assert.equal(routes.ran, 0);
        } finally {
          await offline.close();
        }
      });
    });

    describe('crashes and slow routes', () => {
      /** Posts to /hang from a raw socket the test can destroy, as a client that hangs up does. */
      const hangUp = async (user: string) => {
        const hang = routes.hang();
        const req = request(`${app.url}/hang`, { method: 'POST', headers: { 'x-user': user } });
        req.on('error', () => {});
        req.end();
        await hang.started;
        req.destroy();
        await hang.gone;
        return hang;
      };

      it('a route still running holds the cost; past the ttl the hold has expired and nothing is charged', async () => {
        const slow = await build(s.app, routes, { ttlSeconds: 60 });
        try {
          const hang = routes.hang();
          const pending = fetch(`${slow.url}/hang`, { method: 'POST', headers: { 'x-user': 'carol' } });
          await hang.started;
          assert.equal((await s.t.ledger.getBalance('carol')).available, 95);
          // As if the process had died here (or the route never answered): nothing settles the hold.
          s.t.clock.advance(61_000);
          const expired = await s.t.ledger.getBalance('carol');
          assert.equal(expired.available, 100);
          assert.equal(expired.balance, 100);
          assert.deepEqual(routes.settled, []);
          hang.finish(500);
          assert.equal((await pending).status, 500);
        } finally {
          await slow.close();
        }
      });

      it('a slow route is not free: work that answers 2xx after its hold expired is still charged', async () => {
        const slow = await build(s.app, routes, { ttlSeconds: 60 });
        try {
          const hang = routes.hang();
          const pending = fetch(`${slow.url}/hang`, { method: 'POST', headers: { 'x-user': 'carol' } });
          await hang.started;
          s.t.clock.advance(61_000);
          assert.equal((await s.t.ledger.getBalance('carol')).held, 0);
          hang.finish();
          assert.equal((await pending).status, 200);
          const event = routes.settled[0];
          assert.equal(event?.outcome, 'committed');
          assert.ok(event?.outcome === 'committed');
          assert.equal(event.response.charged, 5);
          assert.equal((await s.t.ledger.getBalance('carol')).balance, 95);
        } finally {
          await slow.close();
        }
      });

      it('work that completed is charged even though the client hung up before the answer', async () => {
        const hang = await hangUp('dave');
        assert.equal((await s.t.ledger.getBalance('dave')).held, 5);
        assert.deepEqual(routes.settled, []);
        const settled = routes.nextSettlement();
        hang.finish(200);
        assert.equal((await settled).outcome, 'committed');
        const view = await s.t.ledger.getBalance('dave');
        assert.equal(view.balance, 95);
        assert.equal(view.held, 0);
      });

      for (const ending of [404, 500, 'throw'] as const) {
        it(`a client that hung up changes nothing: the route ending ${ending} releases the hold`, async () => {
          const hang = await hangUp('erin');
          const settled = routes.nextSettlement();
          hang.finish(ending);
          assert.equal((await settled).outcome, 'released');
          const view = await s.t.ledger.getBalance('erin');
          assert.equal(view.balance, 100);
          assert.equal(view.held, 0);
        });
      }

      it('a route that never answers after its client hung up charges nothing: the hold expires', async () => {
        await hangUp('fred');
        assert.equal((await s.t.ledger.getBalance('fred')).held, 5);
        s.t.clock.advance(301_000);
        const view = await s.t.ledger.getBalance('fred');
        assert.equal(view.balance, 100);
        assert.equal(view.held, 0);
        assert.deepEqual(routes.settled, []);
      });
    });
  });
}
