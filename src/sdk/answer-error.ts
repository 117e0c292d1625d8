import type { ApiErrorCode } from './errors.ts';
import { TokenMeterApiError } from './errors.ts';
import type { ApiAnswer } from './http-transport.ts';

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The error for an answer that is not a success: the service's code and message when it sent them. */
export function apiError(answer: ApiAnswer): TokenMeterApiError {
  const { status, body } = answer;
  if (answer.json && isObject(body) && typeof body.code === 'string' && typeof body.error === 'string') {
    return new TokenMeterApiError(status, body.code as ApiErrorCode, body.error, body);
  }
  // A 503 without tokenmeter's body (Fastify's answer while the service shuts down, a proxy's
  // page) still means "unavailable, try again".
  if (status === 503) return new TokenMeterApiError(503, 'unavailable', 'tokenmeter is unavailable (503)', body);
  const what = status >= 200 && status < 300 ? 'an answer that is not tokenmeter JSON' : 'no tokenmeter error body';
  return new TokenMeterApiError(status, 'invalid_response', `tokenmeter answered ${status} with ${what}`, body);
}
