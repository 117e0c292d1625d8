import assert from 'node:assert/strict';
import { once } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { sendWebhook, type WebhookSendInput } from '../../src/events/webhook-sender.ts';

interface Received {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, received: Received) => void;

/** A real HTTP receiver on 127.0.0.1 that records what reaches it: connections and requests. */
class Receiver {
  readonly requests: Received[] = [];
  connections = 0;
  private readonly server: Server;
  private waiting: Array<(r: Received) => void> = [];

  private constructor(handler: Handler) {
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const received = {
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      this.requests.push(received);
      for (const wake of this.waiting.splice(0)) wake(received);
      handler(req, res, received);
    });
    this.server.on('connection', () => {
      this.connections += 1;
    });
  }

  static async start(handler: Handler): Promise<Receiver> {
    const receiver = new Receiver(handler);
    receiver.server.listen(0, '127.0.0.1');
    await once(receiver.server, 'listening');
    open.push(receiver);
    return receiver;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Resolves with the next request once its body has arrived. */
  nextRequest(): Promise<Received> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    if (this.server.listening) {
      this.server.close();
      await once(this.server, 'close');
    }
  }
}

const open: Receiver[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
});

const BODY = JSON.stringify({
  id: 'evt_0123456789abcdef0123456789abcdef',
  type: 'balance.low',
  timestamp: '2026-01-01T00:00:00.000Z',
  account: 'alice',
  sequence: 3,
  data: { account: 'alice', available: 4, threshold: 10 },
});
const SIGNATURE = {
  'webhook-id': 'evt_0123456789abcdef0123456789abcdef',
  'webhook-timestamp': '1767225600',
  'webhook-signature': 'v1,c2lnbmF0dXJl',
};

function input(url: string, overrides: Partial<WebhookSendInput> = {}): WebhookSendInput {
  return { url, body: BODY, headers: SIGNATURE, timeoutMs: 10_000, allowPrivate: true, ...overrides };
}

describe('sendWebhook', () => {
  describe('happy', () => {
    it('a 200 is delivered, and the receiver gets the exact body and headers', async () => {
      const receiver = await Receiver.start((_req, res) => res.writeHead(200).end('ok'));
      const result = await sendWebhook(input(`http://127.0.0.1:${receiver.port}/hooks/tm?team=7`));

      assert.deepEqual(result, { delivered: true, status: 200, error: null });
      assert.equal(receiver.requests.length, 1);
      const [got] = receiver.requests;
      assert.equal(got?.method, 'POST');
      assert.equal(got?.url, '/hooks/tm?team=7');
      assert.equal(got?.body, BODY);
      assert.equal(got?.headers['content-type'], 'application/json');
      assert.equal(got?.headers['user-agent'], 'tokenmeter-webhooks');
      assert.equal(got?.headers['content-length'], String(Buffer.byteLength(BODY)));
      for (const [name, value] of Object.entries(SIGNATURE)) assert.equal(got?.headers[name], value, name);
    });

    it('any 2xx is delivered (204 with no body)', async () => {
      const receiver = await Receiver.start((_req, res) => res.writeHead(204).end());
      assert.deepEqual(await sendWebhook(input(`http://127.0.0.1:${receiver.port}/`)), {
        delivered: true,
        status: 204,
        error: null,
      });
    });

    it('a slow receiver that answers 200 within the time is delivered', async () => {
      let respond: ((res: ServerResponse) => void) | undefined;
      const held = new Promise<ServerResponse>((resolve) => {
        respond = resolve;
      });
      const receiver = await Receiver.start((_req, res) => respond?.(res));
      const arrived = receiver.nextRequest();
      const sending = sendWebhook(input(`http://127.0.0.1:${receiver.port}/`));

      await arrived;
      const res = await held;
      // The request is held open until now; the answer then comes in pieces.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('working');
      await new Promise((resolve) => setImmediate(resolve));
      res.end('... done');

      assert.deepEqual(await sending, { delivered: true, status: 200, error: null });
    });

    it('a 2xx whose body never ends is still delivered: the status line decides', async () => {
      const receiver = await Receiver.start((_req, res) => {
        res.writeHead(200);
        res.write('partial');
      });
      // Long enough for the status line to arrive on a loaded machine; the body then stalls until it runs out.
      assert.deepEqual(await sendWebhook(input(`http://127.0.0.1:${receiver.port}/`, { timeoutMs: 1_000 })), {
        delivered: true,
        status: 200,
        error: null,
      });
    });

    it('stops reading a large answer after 64 KiB and hangs up', { timeout: 30_000 }, async () => {
      let hungUp: Promise<unknown> = Promise.resolve();
      const receiver = await Receiver.start((_req, res) => {
        hungUp = once(res, 'close');
        res.writeHead(200);
        // 128 KiB and never an end: a sender that read to the end would wait out its 10 minutes.
        res.write(Buffer.alloc(128 * 1024, 'x'));
      });
      const result = await sendWebhook(input(`http://127.0.0.1:${receiver.port}/`, { timeoutMs: 600_000 }));
      assert.deepEqual(result, { delivered: true, status: 200, error: null });
      await hungUp;
    });
  });

  describe('error', () => {
    it('a 500 is not delivered, with its status', async () => {
      const receiver = await Receiver.start((_req, res) => res.writeHead(500).end('boom'));
      assert.deepEqual(await sendWebhook(input(`http://127.0.0.1:${receiver.port}/`)), {
        delivered: false,
        status: 500,
        error: 'HTTP 500',
      });
    });

    it('a 4xx is not delivered', async () => {
      const receiver = await Receiver.start((_req, res) => res.writeHead(410).end());
      assert.deepEqual(await sendWebhook(input(`http://127.0.0.1:${receiver.port}/`)), {
        delivered: false,
        status: 410,
        error: 'HTTP 410',
      });
    });

    it('a redirect is not followed and not delivered', async () => {
      const receiver = await Receiver.start((req, res) => {
        if (req.url === '/old') res.writeHead(307, { location: '/new' }).end();
        else res.writeHead(200).end();
      });
      const result = await sendWebhook(input(`http://127.0.0.1:${receiver.port}/old`));
      assert.deepEqual(result, { delivered: false, status: 307, error: 'HTTP 307' });
      assert.deepEqual(
        receiver.requests.map((r) => r.url),
        ['/old'],
      );
    });

    it('a receiver that never answers times out, not delivered', async () => {
      const receiver = await Receiver.start(() => {
        // Holds the request: no answer at all.
      });
      const result = await sendWebhook(input(`http://127.0.0.1:${receiver.port}/`, { timeoutMs: 200 }));
      assert.deepEqual(result, { delivered: false, status: null, error: 'timeout after 200 ms' });
      assert.equal(receiver.requests.length, 1);
    });

    it('a closed port is connection refused', async () => {
      const receiver = await Receiver.start((_req, res) => res.writeHead(200).end());
      const { port } = receiver;
      await receiver.close();
      assert.deepEqual(await sendWebhook(input(`http://127.0.0.1:${port}/`)), {
        delivered: false,
        status: null,
        error: 'connection refused',
      });
    });

    it('a URL that is not http(s) or not a URL is refused, not thrown', async () => {
      assert.deepEqual(await sendWebhook(input('ftp://example.com/')), {
        delivered: false,
        status: null,
        error: 'only http and https URLs are accepted, not ftp:',
      });
      assert.deepEqual(await sendWebhook(input('::nonsense')), {
        delivered: false,
        status: null,
        error: 'not a valid URL',
      });
    });
  });

  describe('security', () => {
    it('refuses http://127.0.0.1 without the receiver seeing anything', async () => {
      const receiver = await Receiver.start((_req, res) => res.writeHead(200).end());
      const result = await sendWebhook(input(`http://127.0.0.1:${receiver.port}/`, { allowPrivate: false }));
      assert.deepEqual(result, { delivered: false, status: null, error: 'address 127.0.0.1 is private' });
      assert.equal(receiver.connections, 0);
      assert.equal(receiver.requests.length, 0);
    });

    it('refuses http://localhost: the resolved address is checked when connecting', async () => {
      const receiver = await Receiver.start((_req, res) => res.writeHead(200).end());
      const result = await sendWebhook(input(`http://localhost:${receiver.port}/`, { allowPrivate: false }));
      assert.equal(result.delivered, false);
      assert.equal(result.status, null);
      assert.match(result.error ?? '', /^address (127\.0\.0\.1|::1) is private$/);
      assert.equal(receiver.connections, 0);
      assert.equal(receiver.requests.length, 0);
    });

    it('refuses other spellings of loopback: [::1], [::ffff:127.0.0.1], 2130706433', async () => {
      const receiver = await Receiver.start((_req, res) => res.writeHead(200).end());
      for (const host of ['[::1]', '[::ffff:127.0.0.1]', '2130706433', '0x7f.1']) {
        const result = await sendWebhook(input(`http://${host}:${receiver.port}/`, { allowPrivate: false }));
        assert.equal(result.delivered, false, host);
        assert.match(result.error ?? '', / is private$/, host);
      }
      assert.equal(receiver.connections, 0);
    });

    it('with allowPrivate, localhost is reached', async () => {
      const receiver = await Receiver.start((_req, res) => res.writeHead(200).end());
      // localhost may resolve to ::1 first; this receiver listens on 127.0.0.1 only, which Node also tries.
      const result = await sendWebhook(input(`http://localhost:${receiver.port}/`, { allowPrivate: true }));
      assert.deepEqual(result, { delivered: true, status: 200, error: null });
      assert.equal(receiver.requests.length, 1);
    });

    it('Content-Type and User-Agent cannot be overridden by the given headers', async () => {
      const receiver = await Receiver.start((_req, res) => res.writeHead(200).end());
      const headers = { ...SIGNATURE, 'Content-Type': 'text/html', 'User-Agent': 'curl' };
      await sendWebhook(input(`http://127.0.0.1:${receiver.port}/`, { headers }));
      assert.equal(receiver.requests[0]?.headers['content-type'], 'application/json');
      assert.equal(receiver.requests[0]?.headers['user-agent'], 'tokenmeter-webhooks');
    });
  });
});
