import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { nodeHttp } from '../http/node-http.ts';
import { isForbiddenAddress } from './address-guard.ts';
import { checkWebhookUrl } from './webhook-url.ts';

export interface WebhookSendInput {
  url: string;
  /** The exact JSON text that was signed. */
  body: string;
  /** The signature headers (and any others); Content-Type and User-Agent are set here. */
  headers: Record<string, string>;
  /** Bound on the whole exchange, from connecting to the status line (the dispatcher passes 10,000). */
  timeoutMs: number;
  /** `TOKENMETER_WEBHOOK_ALLOW_PRIVATE`: connect to loopback and private addresses too. */
  allowPrivate: boolean;
}

export interface WebhookSendResult {
  /** The receiver answered 2xx within the time. */
  delivered: boolean;
  /** The answer's status, or null when none came. */
  status: number | null;
  /** Why it was not delivered, short enough to show an operator; null when delivered. */
  error: string | null;
}

/** Enough to see an error page; the rest of a receiver's answer is not wanted. */
const MAX_ANSWER_BYTES = 64 * 1024;

/** A resolved address the webhook may not reach: refused before any connection is made. */
class ForbiddenAddressError extends Error {
  readonly address: string;

  constructor(address: string) {
    super(`address ${address} is private`);
    this.name = 'ForbiddenAddressError';
    this.address = address;
  }
}

/**
 * `dns.lookup` that fails for a forbidden address, so the check applies to the address actually
 * connected to: a hostname that resolved to a public address when the endpoint was created and
 * to 127.0.0.1 now (DNS rebinding) is refused now. One forbidden address among several refuses
 * them all, rather than leaving the choice to the order of connection attempts.
 */
function guardedLookup(): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, options, (err, address: string | LookupAddress[], family) => {
      if (err) return callback(err, address, family);
      const addresses = typeof address === 'string' ? [address] : address.map((a) => a.address);
      const forbidden = addresses.find(isForbiddenAddress);
      if (forbidden !== undefined) return callback(new ForbiddenAddressError(forbidden), address, family);
      callback(null, address, family);
    });
  };
}

function errorCodeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  if ('code' in err && typeof err.code === 'string') return err.code;
  // With several addresses Node tries them all and reports an AggregateError of each attempt's.
  if (err instanceof AggregateError) return errorCodeOf(err.errors[0]);
  return undefined;
}

const ERROR_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found (DNS lookup failed)',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ETIMEDOUT: 'connection timed out',
};

function describeError(err: unknown): string {
  if (err instanceof ForbiddenAddressError) return err.message;
  const code = errorCodeOf(err);
  const known = code === undefined ? undefined : ERROR_TEXT[code];
  if (known !== undefined) return known;
  const message = err instanceof Error ? err.message : String(err);
  const text =
    code !== undefined && (code.startsWith('ERR_TLS') || code.includes('CERT')) ? `TLS: ${message}` : message;
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

function answered(status: number): WebhookSendResult {
  const delivered = status >= 200 && status < 300;
  return { delivered, status, error: delivered ? null : `HTTP ${status}` };
}

/**
 * POSTs one signed webhook and reports what happened; it never throws. Delivered means a 2xx
 * status line within `timeoutMs`; redirects are not followed (a 3xx is not delivered), so a
 * receiver cannot bounce the request to an address that was never checked. Unless
 * `allowPrivate`, a literal forbidden address is refused before connecting and a hostname's
 * resolved addresses are checked as the connection is made.
 *
 * @example
 * const body = JSON.stringify(event);
 * const result = await sendWebhook({ url, body, headers: signWebhook(secret, event.id, new Date(now), body), timeoutMs: 10_000, allowPrivate: false });
 * // { delivered: false, status: 500, error: 'HTTP 500' }
 */
export function sendWebhook(input: WebhookSendInput): Promise<WebhookSendResult> {
  const checked = checkWebhookUrl(input.url, input.allowPrivate);
  if (!checked.ok) return Promise.resolve({ delivered: false, status: null, error: checked.reason });
  const { url } = checked;

  return new Promise((resolve) => {
    let status: number | null = null;
    let settled = false;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(input.headers)) headers[name.toLowerCase()] = value;
    headers['content-type'] = 'application/json';
    headers['user-agent'] = 'tokenmeter-webhooks';
    headers['content-length'] = String(Buffer.byteLength(input.body));

    const send = url.protocol === 'https:' ? httpsRequest : nodeHttp.request;
    const req = send(url, {
      method: 'POST',
      headers,
      // A connection of its own each time: no pooled socket outlives the address check it passed.
      agent: false,
      ...(input.allowPrivate ? {} : { lookup: guardedLookup() }),
    });

    const finish = (result: WebhookSendResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    // Once a status line has come, it decides: a body that stalls or breaks does not undo a 2xx.
    const fail = (error: string): void =>
      finish(status === null ? { delivered: false, status, error } : answered(status));

    const timer = setTimeout(() => fail(`timeout after ${input.timeoutMs} ms`), input.timeoutMs);
    req.on('error', (err) => fail(describeError(err)));
    req.on('response', (res: IncomingMessage) => {
      const code = res.statusCode ?? 0;
      status = code;
      let seen = 0;
      res.on('data', (chunk: Buffer) => {
        seen += chunk.length;
        if (seen >= MAX_ANSWER_BYTES) finish(answered(code));
      });
      res.on('end', () => finish(answered(code)));
      res.on('error', () => finish(answered(code)));
    });
    req.end(input.body);
  });
}
