// A real HTTP endpoint for tokenmeter's webhooks, for tests that wait on what a server process
// delivers instead of polling its database: every request is kept (its `webhook-id` and parsed
// event), answered 200, and `until` resolves when a condition on them holds.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One delivery as the receiver saw it. */
export interface ReceivedWebhook {
  id: string;
  type: string;
  account: string;
  data: Record<string, unknown>;
}

export interface WebhookReceiver {
  server: Server;
  /** Every delivery, in arrival order (a redelivery appears again, with the same id). */
  received: ReceivedWebhook[];
  /** Resolves with the port once it listens. */
  ready: Promise<number>;
  /** Resolves once `check` holds over the deliveries received so far (checked on each arrival). */
  until(check: (received: readonly ReceivedWebhook[]) => boolean): Promise<void>;
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1 (port 0: any free one). */
export function webhookReceiver(port = 0): WebhookReceiver {
  const received: ReceivedWebhook[] = [];
  const waiters: { check: (r: readonly ReceivedWebhook[]) => boolean; resolve: () => void }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', () => {
      const event = JSON.parse(body) as Partial<ReceivedWebhook>;
      received.push({
        id: String(req.headers['webhook-id']),
        type: String(event.type),
        account: String(event.account),
        data: event.data ?? {},
      });
      res.statusCode = 200;
      res.end();
      for (const w of waiters.filter((w) => w.check(received))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    });
  });
  server.listen(port, '127.0.0.1');
  return {
    server,
    received,
    ready: once(server, 'listening').then(() => (server.address() as AddressInfo).port),
    until: (check) =>
      check(received) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ check, resolve })),
    async close() {
      server.closeAllConnections();
      if (server.listening) await new Promise((resolve) => server.close(resolve));
    },
  };
}
