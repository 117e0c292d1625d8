import assert from 'node:assert/strict';
import { createServer } from 'node:http';
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
  TokenMeterApiError,
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
  #finish: (() => void) | undefined;

  onSettled = (event: SettleEvent): void => {
    this.settled.push(event);
    this.#waiters.shift()?.(event);
  };

  nextSettlement(): Promise<SettleEvent> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** The /hang route: resolves `started` when it begins; answers 200 when `finish()` is called. */
  hang(): { started: Promise<void>; finish: () => void } {
    const started = new Promise<void>((resolve) => {
      this.#started = resolve;
    });
    return { started, finish: () => this.#finish?.() };
  }

  async hold(): Promise<void> {
    this.ran++;
    this.#started?.();
    await new Promise<void>((resolve) => {
      this.#finish = resolve;
    });
  }
}

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
    await routes.hold();
    res.json({ done: 'late' });
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
  app.post('/hang', hooks, async () => {
    await routes.hold();
    return { done: 'late' };
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
      it('a route still running holds the cost; past the ttl the hold has expired and it is never charged', async () => {
        const slow = await build(s.app, routes, { ttlSeconds: 60 });
        try {
          const hang = routes.hang();
          const pending = fetch(`${slow.url}/hang`, { method: 'POST', headers: { 'x-user': 'carol' } });
          await hang.started;
          assert.equal((await s.t.ledger.getBalance('carol')).available, 95);
          // As if the process had died here: nothing settles the hold until it expires.
          s.t.clock.advance(61_000);
          const expired = await s.t.ledger.getBalance('carol');
          assert.equal(expired.available, 100);
          assert.equal(expired.balance, 100);
          // The route finishing after its hold expired cannot charge either.
          hang.finish();
          assert.equal((await pending).status, 200);
          const event = routes.settled[0];
          assert.equal(event?.outcome, 'failed');
          assert.ok(event?.outcome === 'failed' && event.error instanceof TokenMeterApiError);
          assert.equal(event.error.code, 'hold_not_active');
          assert.equal((await s.t.ledger.getBalance('carol')).balance, 100);
        } finally {
          await slow.close();
        }
      });

      it('a client that goes away before the answer releases the hold', async () => {
        const hang = routes.hang();
        const abort = new AbortController();
        const pending = post('/hang', 'dave', { signal: abort.signal }).catch(() => 'aborted');
        await hang.started;
        assert.equal((await s.t.ledger.getBalance('dave')).held, 5);
        const settled = routes.nextSettlement();
        abort.abort();
        assert.equal(await pending, 'aborted');
        assert.equal((await settled).outcome, 'released');
        assert.equal((await s.t.ledger.getBalance('dave')).held, 0);
        hang.finish();
        assert.equal((await s.t.ledger.getBalance('dave')).balance, 100);
      });
    });
  });
}
