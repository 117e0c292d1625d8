import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { type EventData, type EventType, isEventType, type TokenmeterEvent } from '../core/event.ts';

export type { EventData, EventType, TokenmeterEvent };

/**
 * A verified event as a union over its types, so checking `type` narrows `data`
 * (`TokenmeterEvent` alone keeps `data` as the union of every type's data).
 */
export type WebhookEvent = { [T in EventType]: TokenmeterEvent<T> }[EventType];

/**
 * The `standardwebhooks` library's own error class, re-exported: a receiver can catch it from
 * either package, and what the library throws (bad signature, missing headers, a timestamp
 * more than five minutes off) passes through unchanged.
 */
export { WebhookVerificationError };

/** Request headers as a Fetch `Headers` or as Node's `req.headers` (lowercase names, some arrays). */
export type WebhookRequestHeaders = Headers | Record<string, string | string[] | undefined>;

const SIGNATURE_HEADERS = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const;

function headerValue(headers: WebhookRequestHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name);
  const value = key === undefined ? undefined : headers[key];
  if (!Array.isArray(value)) return value;
  // Several signature lines are one list (a secret rotation sends two); an id or timestamp given twice is ambiguous.
  if (name === 'webhook-signature') return value.join(' ');
  if (new Set(value).size > 1) throw new WebhookVerificationError(`conflicting ${name} headers`);
  return value[0];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The fields every event has; `data` is checked to be an object, its fields are the sender's word. */
function asEvent(value: unknown): WebhookEvent {
  if (!isRecord(value)) throw new WebhookVerificationError('body is not a JSON object');
  const { id, type, timestamp, account, sequence, data } = value;
  if (typeof id !== 'string' || id === '') throw new WebhookVerificationError('event has no id');
  if (!isEventType(type)) throw new WebhookVerificationError(`unknown event type: ${String(type)}`);
  if (typeof timestamp !== 'string' || Number.isNaN(Date.parse(timestamp))) {
    throw new WebhookVerificationError('event has no valid timestamp');
  }
  if (typeof account !== 'string' || account === '') throw new WebhookVerificationError('event has no account');
  if (!Number.isSafeInteger(sequence) || (sequence as number) < 1) {
    throw new WebhookVerificationError('event has no valid sequence');
  }
  if (!isRecord(data)) throw new WebhookVerificationError('event has no data object');
  // The cast pairs `type` with its `data` on the sender's word: the signature vouches for the body.
  return { id, type, timestamp, account, sequence: sequence as number, data } as WebhookEvent;
}

/**
 * Checks a tokenmeter webhook's Standard Webhooks signature and returns its event, typed. Pass
 * the raw body exactly as received (not re-serialized JSON) and the request headers; the
 * secret is the endpoint's `whsec_...`. Throws `WebhookVerificationError` for a missing or
 * wrong signature, a timestamp more than five minutes from now (a replay), or a body that is
 * not a tokenmeter event. Retries of one event carry the same `webhook-id` (= `event.id`):
 * dedupe by it. A secret that is not base64 after `whsec_` is a setup mistake and throws a
 * plain `Error`.
 *
 * @example
 * app.post('/hooks/tokenmeter', express.raw({ type: 'application/json' }), (req, res) => {
 *   const event = verifyWebhook(req.body, req.headers, process.env.TOKENMETER_WEBHOOK_SECRET);
 *   if (event.type === 'balance.low') notify(event.account, event.data.available);
 *   res.sendStatus(204);
 * });
 */
export function verifyWebhook(body: string | Uint8Array, headers: WebhookRequestHeaders, secret: string): WebhookEvent {
  const webhook = new Webhook(secret);
  const payload = typeof body === 'string' ? body : new TextDecoder('utf-8', { fatal: false }).decode(body);
  const signed: Record<string, string> = {};
  for (const name of SIGNATURE_HEADERS) {
    const value = headerValue(headers, name);
    if (value !== undefined) signed[name] = value;
  }
  webhook.verify(payload, signed, { jsonParse: false });
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    throw new WebhookVerificationError('body is not JSON');
  }
  return asEvent(parsed);
}
