/**
 * A tiny webhook receiver: verifies tokenmeter's signature, handles each event once, answers 204.
 *
 *   TOKENMETER_WEBHOOK_SECRET=whsec_... node examples/webhook-receiver.ts
 *
 * Then register http://127.0.0.1:4002/hooks/tokenmeter as an endpoint (see examples/README.md).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
// In your own app: import { ... } from 'tokenmeter/sdk';
import { verifyWebhook, type WebhookEvent, WebhookVerificationError } from '../src/sdk/index.ts';

/** tokenmeter's events are small; a larger body is not one of them. */
const MAX_BODY_BYTES = 1024 * 1024;
/** Ids remembered for deduplication; a real app keeps them in its database, beside what the event changed. */
const REMEMBERED_IDS = 10_000;

export interface WebhookReceiverOptions {
  /** The endpoint's secret, `whsec_...`, shown once when the endpoint was created. */
  secret: string;
  /** What the app does with an event; by default it logs `type account sequence`. */
  onEvent?: (event: WebhookEvent) => void;
}

async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** The receiver as a node:http server (not yet listening). */
export function createWebhookReceiver(options: WebhookReceiverOptions): Server {
  const onEvent = options.onEvent ?? ((e) => console.log(`${e.type} ${e.account} ${e.sequence}`));
  // tokenmeter retries until it sees a 2xx, so one event can arrive more than once: the id says which.
  const seen = new Set<string>();

  return createServer(async (req, res) => {
    if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
    const body = await readBody(req);
    if (body === null) return void res.writeHead(413).end();
    let event: WebhookEvent;
    try {
      // The raw bytes as received: re-serialized JSON would not match the signature.
      event = verifyWebhook(body, req.headers, options.secret);
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) {
        console.error(err);
        return void res.writeHead(500).end();
      }
      return void res.writeHead(400, { 'content-type': 'text/plain' }).end(`bad webhook: ${err.message}\n`);
    }
    // Checked only after verifying, so a forged request cannot mark a real event as seen. The
    // signature covers webhook-id, and tokenmeter sets it to the event's id.
    const messageId = String(req.headers['webhook-id']);
    if (!seen.has(messageId)) {
      onEvent(event);
      seen.add(messageId);
      if (seen.size > REMEMBERED_IDS) {
        const oldest = seen.values().next();
        if (!oldest.done) seen.delete(oldest.value);
      }
    }
    res.writeHead(204).end();
  });
}

if (import.meta.main) {
  const secret = process.env.TOKENMETER_WEBHOOK_SECRET;
  if (!secret) {
    console.error('Set TOKENMETER_WEBHOOK_SECRET to the endpoint secret (see examples/README.md).');
    process.exit(1);
  }
  const host = process.env.HOST ?? '127.0.0.1';
  const server = createWebhookReceiver({ secret });
  server.listen(Number(process.env.PORT ?? 4002), host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : process.env.PORT;
    console.log(`webhook receiver listening on http://${host}:${port}/hooks/tokenmeter`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
