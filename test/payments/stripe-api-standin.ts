import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cardError, paymentIntentFixture } from './stripe-intent-fixtures.ts';

/** Stripe's test PaymentMethods and what confirming one off session does. */
const CARDS: Record<string, { code: string; declineCode: string | null; message: string } | 'succeeds' | 'processing'> =
  {
    pm_card_visa: 'succeeds',
    // Stripe's `4000000000000341`: attached fine, declined when charged.
    pm_card_chargeCustomerFail: {
      code: 'card_declined',
      declineCode: 'generic_decline',
      message: 'Your card was declined.',
    },
    pm_card_chargeDeclinedInsufficientFunds: {
      code: 'card_declined',
      declineCode: 'insufficient_funds',
      message: 'Your card has insufficient funds.',
    },
    // Stripe's `4000002760003184` off session: the bank wants the cardholder, who is not there.
    pm_card_authenticationRequired: {
      code: 'authentication_required',
      declineCode: null,
      message: 'Your card was declined. This transaction requires authentication.',
    },
    // Not a card: a method whose payments settle later (a bank debit), for the `processing` state.
    pm_standin_processing: 'processing',
  };

export interface StandInRequest {
  method: string;
  path: string;
  params: URLSearchParams;
  idempotencyKey: string | undefined;
}

/**
 * A local stand-in for api.stripe.com: customers, Checkout Sessions and PaymentIntents kept in
 * memory; `Idempotency-Key` honoured as Stripe does (the same key replays the first response and
 * does nothing again; reused with other parameters it is an `idempotency_error`); declines
 * answered with Stripe's error shape (HTTP 402, `card_error`, the PaymentIntent attached).
 */
export interface StripeStandIn {
  port: number;
  /** `METHOD /path` of every request in arrival order; a test may add its own entries to order them. */
  log: string[];
  requests: StandInRequest[];
  intents: Map<string, Record<string, unknown>>;
  /** Successful charges actually made (a replay makes none). */
  charges: number;
  /** Times a card was actually tried, successfully or not (a replay tries none). */
  attempts: number;
  /** Set to lose requests: `before` drops the connection unprocessed, `after` processes it then drops the answer. */
  drop: ((method: string, path: string) => 'before' | 'after' | null) | null;
  /**
   * Called with the PaymentIntent's id once a confirm has been processed (the card tried and
   * `charges` counted, or a replay answered), before the answer is sent; awaited. A test may
   * kill the caller here: the card is charged and the caller never hears of it.
   */
  confirmed: ((id: string) => Promise<void> | void) | null;
  close(): Promise<void>;
}

type Reply = { status: number; body: unknown };

function metadataOf(params: URLSearchParams): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [k, v] of params) {
    const m = /^metadata\[(.+)\]$/.exec(k);
    if (m?.[1] !== undefined) metadata[m[1]] = v;
  }
  return metadata;
}

const invalid = (message: string, code?: string): Reply => ({
  status: 400,
  body: { error: { type: 'invalid_request_error', message, ...(code === undefined ? {} : { code }) } },
});

export async function stripeStandIn(): Promise<StripeStandIn> {
  const remembered = new Map<string, { fingerprint: string; reply: Reply }>();
  let ids = 0;

  const createIntent = (p: URLSearchParams): Reply => {
    if (p.get('confirm') !== 'true' && p.has('off_session')) {
      return invalid('off_session can only be used when confirm=true.', 'parameter_invalid_empty');
    }
    const amount = Number(p.get('amount'));
    const intent = paymentIntentFixture({
      id: `pi_standin_${++ids}`,
      client_secret: `pi_standin_${ids}_secret`,
      amount,
      currency: p.get('currency'),
      customer: p.get('customer'),
      payment_method: p.get('payment_method'),
      description: p.get('description'),
      metadata: metadataOf(p),
      status: p.has('payment_method') ? 'requires_confirmation' : 'requires_payment_method',
    });
    standIn.intents.set(String(intent.id), intent);
    return { status: 200, body: intent };
  };

  const confirmIntent = (id: string, p: URLSearchParams): Reply => {
    const intent = standIn.intents.get(id);
    if (intent === undefined)
      return { status: 404, body: { error: { type: 'invalid_request_error', code: 'resource_missing' } } };
    if (intent.status !== 'requires_confirmation' && intent.status !== 'requires_payment_method') {
      return invalid(`This PaymentIntent's status is ${String(intent.status)}.`, 'payment_intent_unexpected_state');
    }
    const method = p.get('payment_method') ?? String(intent.payment_method);
    const card = CARDS[method];
    if (card === undefined) return invalid(`No such PaymentMethod: '${method}'`, 'resource_missing');
    intent.payment_method = method;
    standIn.attempts++;
    if (card === 'succeeds') {
      standIn.charges++;
      Object.assign(intent, {
        status: 'succeeded',
        amount_received: intent.amount,
        latest_charge: `ch_${id}`,
        last_payment_error: null,
      });
      return { status: 200, body: intent };
    }
    if (card === 'processing') {
      intent.status = 'processing';
      return { status: 200, body: intent };
    }
    const error = { ...cardError(card.code, card.declineCode, card.message), charge: `ch_${id}` };
    Object.assign(intent, { status: 'requires_payment_method', last_payment_error: error, latest_charge: `ch_${id}` });
    return { status: 402, body: { error: { ...error, payment_intent: structuredClone(intent) } } };
  };

  const answer = (method: string, path: string, p: URLSearchParams): Reply => {
    if (method === 'POST' && path === '/v1/customers')
      return { status: 200, body: { id: 'cus_standin', object: 'customer' } };
    if (method === 'POST' && path === '/v1/checkout/sessions') {
      const id = `cs_test_standin_${++ids}`;
      return { status: 200, body: { id, object: 'checkout.session', url: `https://checkout.stripe.com/c/pay/${id}` } };
    }
    if (method === 'POST' && path === '/v1/payment_intents') return createIntent(p);
    const confirm = /^\/v1\/payment_intents\/([^/]+)\/confirm$/.exec(path);
    if (method === 'POST' && confirm?.[1] !== undefined) return confirmIntent(confirm[1], p);
    const one = /^\/v1\/payment_intents\/([^/]+)$/.exec(path);
    if (method === 'GET' && one?.[1] !== undefined) {
      const intent = standIn.intents.get(one[1]);
      return intent === undefined
        ? { status: 404, body: { error: { type: 'invalid_request_error', code: 'resource_missing' } } }
        : { status: 200, body: intent };
    }
    return { status: 404, body: { error: { type: 'invalid_request_error', message: `no stand-in for ${path}` } } };
  };

  /** Stripe's idempotency: a POST's key replays its first answer; the same key with other parameters is refused. */
  const idempotent = (req: IncomingMessage, path: string, body: string, key: string | undefined): Reply => {
    const method = req.method ?? '';
    if (method !== 'POST' || key === undefined) return answer(method, path, new URLSearchParams(body));
    const fingerprint = `${method} ${path} ${body}`;
    const seen = remembered.get(key);
    if (seen !== undefined) {
      if (seen.fingerprint === fingerprint) return seen.reply;
      return {
        status: 400,
        body: {
          error: {
            type: 'idempotency_error',
            message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
          },
        },
      };
    }
    const reply = structuredClone(answer(method, path, new URLSearchParams(body)));
    // Stripe saves no result for a request that failed validation.
    if (reply.status !== 400) remembered.set(key, { fingerprint, reply });
    return reply;
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      const method = req.method ?? '';
      const path = (req.url ?? '').split('?')[0] ?? '';
      const header = req.headers['idempotency-key'];
      const key = typeof header === 'string' ? header : undefined;
      standIn.log.push(`${method} ${path}`);
      standIn.requests.push({ method, path, params: new URLSearchParams(body), idempotencyKey: key });
      const lose = standIn.drop?.(method, path) ?? null;
      if (lose === 'before') return req.socket.destroy();
      const reply = idempotent(req, path, body, key);
      if (lose === 'after') return req.socket.destroy();
      const send = () => {
        // The caller may be gone (killed by a `confirmed` hook): nobody is left to answer.
        if (req.socket.destroyed) return;
        res.writeHead(reply.status, { 'content-type': 'application/json', 'request-id': `req_standin_${++ids}` });
        res.end(JSON.stringify(reply.body));
      };
      const confirmed = /^\/v1\/payment_intents\/([^/]+)\/confirm$/.exec(path)?.[1];
      const hook = standIn.confirmed;
      if (method !== 'POST' || confirmed === undefined || hook === null) return send();
      Promise.resolve()
        .then(() => hook(confirmed))
        .then(send, (err: unknown) => {
          if (req.socket.destroyed) return;
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { type: 'api_error', message: String(err) } }));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const standIn: StripeStandIn = {
    port: (server.address() as AddressInfo).port,
    log: [],
    requests: [],
    intents: new Map(),
    charges: 0,
    attempts: 0,
    drop: null,
    confirmed: null,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  return standIn;
}
