// Regression (slow clients): the server had no request timeout, no idle timeout, no cap on
// connections and no limit on pipelined requests, so a client that sent most of a body and then
// stalled held that connection and its partial body forever, and a client that pipelined
// requests for a large file without reading made the server buffer an answer per request (50
// connections × 40 requests: +350 MB). Found by the slow-client flood
// (test/reliability/slow-clients.test.ts).
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { httpOptionsFromEnv } from '../../src/http/http-env.ts';
import { DEFAULT_HTTP_OPTIONS, type HttpOptions } from '../../src/http/options.ts';
import { APP_KEY, type TestApp, testApp } from './http-helpers.ts';

interface RawClient {
  socket: Socket;
  received(): string;
  readonly closed: boolean;
}

interface Served {
  t: TestApp;
  /** Connections the server accepted, and how many of them are still open. */
  connections: { accepted: number; open: number };
  /** Opens a raw connection (from `localAddress`, default 127.0.0.1) and sends `text`; it records what it receives. */
  raw(text: string, localAddress?: string): RawClient;
}

/** Runs `body` against a listening app; every raw connection is destroyed before the app closes. */
async function withServer(overrides: Partial<HttpOptions>, body: (s: Served) => Promise<void>): Promise<void> {
  const t = await testApp(overrides);
  const sockets: Socket[] = [];
  const connections = { accepted: 0, open: 0 };
  t.app.server.on('connection', (socket: Socket) => {
    connections.accepted++;
    connections.open++;
    socket.once('close', () => connections.open--);
  });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const raw = (text: string, localAddress = '127.0.0.1'): RawClient => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    sockets.push(socket);
    socket.on('error', () => {});
    let data = '';
    let closed = false;
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1');
    });
    socket.once('close', () => {
      closed = true;
    });
    socket.write(text);
    return {
      socket,
      received: () => data,
      get closed() {
        return closed;
      },
    };
  };
  try {
    await body({ t, connections, raw });
  } finally {
    for (const s of sockets) s.destroy();
    await t.close();
  }
}

/** Polls `done` until it holds or the deadline passes; returns whether it held. */
async function eventually(done: () => boolean, deadlineMs = 10_000): Promise<boolean> {
  const end = Date.now() + deadlineMs;
  while (!done()) {
    if (Date.now() > end) return false;
    await sleep(20);
  }
  return true;
}

const partialDeduct =
  `POST /api/tokens/deduct HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${APP_KEY}\r\n` +
  'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"account":"7","feature":"';
// The Swagger UI bundle (1.6 MB): a few of its answers overflow the socket buffers.
const bigAnswer = 'GET /docs/static/swagger-ui-bundle.js HTTP/1.1\r\nHost: x\r\n\r\n';

describe('slow clients', () => {
  it('a body that never completes is answered 408 in the JSON error shape and the connection closed', async () => {
    await withServer({ requestTimeoutMs: 300 }, async ({ t, raw }) => {
      const client = raw(partialDeduct);
      assert.ok(await eventually(() => client.closed), 'the server closed the connection');
      const [head, body] = client.received().split('\r\n\r\n');
      assert.match(head ?? '', /^HTTP\/1\.1 408 Request Timeout/);
      assert.deepEqual(JSON.parse(body ?? ''), {
        success: false,
        code: 'invalid_request',
        error: 'request: not received in full within the request timeout',
      });
      assert.equal((await t.ledger.history('7', { limit: 10, cursor: null })).entries.length, 0, 'nothing charged');
    });
  });

  it('a client that stops reading its answers is disconnected once the connection is idle', async () => {
    // Pipelining allowed here, so that it is the idle timeout that acts.
    await withServer({ idleTimeoutMs: 300, maxPipelined: 20 }, async ({ connections, raw }) => {
      raw(bigAnswer.repeat(10)).socket.pause();
      assert.ok(await eventually(() => connections.accepted === 1), 'the slow reader is connected');
      assert.ok(await eventually(() => connections.open === 0), 'the server closed the stalled connection');
    });
  });

  it('a connection that pipelines requests without reading the answers is closed', async () => {
    await withServer({}, async ({ connections, raw }) => {
      raw(bigAnswer.repeat(50)).socket.pause();
      assert.ok(await eventually(() => connections.accepted === 1 && connections.open === 0), 'the server closed it');
    });
  });

  it('one request after another on a kept-alive connection is served as usual', async () => {
    await withServer({}, async ({ raw }) => {
      const client = raw('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      for (let i = 1; i <= 5; i++) {
        const answers = () => client.received().match(/"status":"ok"\}/g)?.length ?? 0;
        assert.ok(await eventually(() => answers() === i), `answer ${i} arrived`);
        if (i < 5) client.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      }
      assert.equal(client.closed, false);
    });
  });

  it('connections beyond maxConnections are closed as they arrive; the ones within are served', async () => {
    await withServer(
      { maxConnections: 2, maxConnectionsPerAddress: 2, requestTimeoutMs: 60_000 },
      async ({ connections, raw }) => {
        const held = [raw(partialDeduct), raw(partialDeduct)];
        assert.ok(await eventually(() => connections.open === 2));
        const refused = raw('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
        assert.ok(await eventually(() => refused.closed), 'the third connection is closed');
        assert.equal(refused.received(), '', 'without an answer');
        for (const c of held) c.socket.destroy();
        assert.ok(await eventually(() => connections.open === 0));
        const served = raw('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        assert.ok(await eventually(() => served.closed));
        assert.match(served.received(), /^HTTP\/1\.1 200 OK/);
      },
    );
  });

  it('regression (one client could take every connection): an address beyond its cap is closed, others are served', async () => {
    await withServer({ maxConnections: 100, maxConnectionsPerAddress: 3, requestTimeoutMs: 60_000 }, async (s) => {
      const held = [1, 2, 3].map(() => s.raw(partialDeduct, '127.0.0.2'));
      assert.ok(await eventually(() => s.connections.open === 3));
      const refused = s.raw('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', '127.0.0.2');
      assert.ok(await eventually(() => refused.closed), 'the fourth connection from 127.0.0.2 is closed');
      assert.equal(refused.received(), '', 'without an answer');
      const other = s.raw('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', '127.0.0.3');
      assert.ok(await eventually(() => other.closed));
      assert.match(other.received(), /^HTTP\/1\.1 200 OK/, '127.0.0.3 is served meanwhile');
      assert.equal(held.filter((c) => c.closed).length, 0, 'the three within the cap stay open');
      held[0]?.socket.destroy();
      assert.ok(await eventually(() => s.connections.open === 2));
      const again = s.raw('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', '127.0.0.2');
      assert.ok(await eventually(() => again.closed));
      assert.match(again.received(), /^HTTP\/1\.1 200 OK/, 'a freed slot is usable again');
    });
  });

  it('a trusted proxy is exempt from the per-address cap (it carries many clients)', async () => {
    await withServer(
      { maxConnections: 100, maxConnectionsPerAddress: 1, trustProxy: '127.0.0.4', requestTimeoutMs: 60_000 },
      async (s) => {
        const held = [1, 2, 3].map(() => s.raw(partialDeduct, '127.0.0.4'));
        assert.ok(await eventually(() => s.connections.open === 3));
        const more = s.raw('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', '127.0.0.4');
        assert.ok(await eventually(() => more.closed));
        assert.match(more.received(), /^HTTP\/1\.1 200 OK/);
        assert.equal(held.filter((c) => c.closed).length, 0);
      },
    );
  });

  it('the limits come from the environment, with defaults, and refuse nonsense', () => {
    const d = httpOptionsFromEnv({}, false);
    assert.deepEqual([d.requestTimeoutMs, d.idleTimeoutMs, d.maxConnections], [30_000, 72_000, 2048]);
    assert.equal(d.maxConnectionsPerAddress, 204, 'default: 10% of TOKENMETER_MAX_CONNECTIONS');
    assert.equal(httpOptionsFromEnv({ TOKENMETER_MAX_CONNECTIONS: '64' }, false).maxConnectionsPerAddress, 6);
    assert.equal(
      httpOptionsFromEnv({ TOKENMETER_MAX_CONNECTIONS_PER_ADDRESS: '50' }, false).maxConnectionsPerAddress,
      50,
    );
    assert.throws(
      () => httpOptionsFromEnv({ TOKENMETER_MAX_CONNECTIONS_PER_ADDRESS: '0' }, false),
      /TOKENMETER_MAX_CONNECTIONS_PER_ADDRESS/,
    );
    assert.equal(DEFAULT_HTTP_OPTIONS.maxPipelined, 1);
    const set = httpOptionsFromEnv(
      { TOKENMETER_REQUEST_TIMEOUT_MS: '5000', TOKENMETER_IDLE_TIMEOUT_MS: '7000', TOKENMETER_MAX_CONNECTIONS: '64' },
      false,
    );
    assert.deepEqual([set.requestTimeoutMs, set.idleTimeoutMs, set.maxConnections], [5000, 7000, 64]);
    assert.throws(() => httpOptionsFromEnv({ TOKENMETER_MAX_CONNECTIONS: '0' }, false), /TOKENMETER_MAX_CONNECTIONS/);
    assert.throws(() => httpOptionsFromEnv({ TOKENMETER_REQUEST_TIMEOUT_MS: 'soon' }, false), /must be an integer/);
  });
});
