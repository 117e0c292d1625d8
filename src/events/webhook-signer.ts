import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * The three Standard Webhooks headers that authenticate one delivery. A type alias, not an
 * interface, so it can be passed where a `Record<string, string>` of headers is expected.
 */
export type WebhookSignatureHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/**
 * A new endpoint secret in Standard Webhooks form: `whsec_` and the base64 of 24 random bytes
 * (192 bits), accepted as is by every Standard Webhooks and Svix library.
 *
 * @example newWebhookSecret() // 'whsec_3q2+7wTf...'
 */
export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

/**
 * Signs one delivery of `body` (the exact bytes that will be sent) per Standard Webhooks:
 * HMAC-SHA256 over `${eventId}.${seconds}.${body}`. The event id is the `webhook-id`, so a
 * receiver that dedupes by it sees every retry of one event as the same message.
 *
 * @example signWebhook(endpoint.secret, event.id, new Date(clock.now()), JSON.stringify(event))
 */
export function signWebhook(secret: string, eventId: string, at: Date, body: string): WebhookSignatureHeaders {
  return {
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(eventId, at, body),
  };
}
