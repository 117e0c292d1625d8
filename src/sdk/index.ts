/**
 * tokenmeter's SDK for apps: a typed HTTP client and `requireTokens` middleware for Express
 * and Fastify.
 *
 * @example
 * import { TokenMeterClient, expressRequireTokens } from 'tokenmeter/sdk';
 * const client = new TokenMeterClient({ baseUrl: process.env.TOKENMETER_URL, apiKey: process.env.TOKENMETER_API_KEY });
 * app.post('/calls', expressRequireTokens('outbound_call_single', { client, account: (req) => req.user.id }), placeCall);
 */

export type * from './admin-types.ts';
export { TokenMeterClient, type TokenMeterClientOptions } from './client.ts';
export type { BatchingOptions } from './deduct-coalescer.ts';
export { type ApiErrorCode, isTokenMeterApiError, TokenMeterApiError, TokenMeterConnectionError } from './errors.ts';
export {
  type ExpressLikeNext,
  type ExpressLikeRequest,
  type ExpressLikeResponse,
  type ExpressRequireTokensMiddleware,
  expressRequireTokens,
} from './express-require-tokens.ts';
export { type FastifyRequireTokensHooks, fastifyRequireTokens } from './fastify-require-tokens.ts';
export type { RetryPolicy } from './http-transport.ts';
export type * from './payment-types.ts';
export { type GateHold, holdOf, type RequireTokensOptions, type SettleEvent } from './request-gate.ts';
export type * from './types.ts';
export { type TokenmeterEvent, verifyWebhook, type WebhookEvent, WebhookVerificationError } from './verify-webhook.ts';
