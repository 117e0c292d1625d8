import type { ErrorCode } from './types.ts';

/** `invalid_response`: the answer was not tokenmeter's JSON (a proxy's error page, say; a bare 503 is `unavailable`). */
export type ApiErrorCode = ErrorCode | 'invalid_response';

/**
 * A non-2xx answer from tokenmeter (other than the 402 refusals that deduct, reserve and
 * runFeature return as values). `body` is the parsed JSON body, or null when there was none.
 *
 * @example
 * try { await client.adjust('7', { amount: -5, reason: 'refund', expected_balance: 40 }); }
 * catch (err) { if (err instanceof TokenMeterApiError && err.code === 'balance_changed') reload(); }
 */
export class TokenMeterApiError extends Error {
  readonly status: number;
  readonly code: ApiErrorCode;
  readonly body: unknown;

  constructor(status: number, code: ApiErrorCode, message: string, body: unknown) {
    super(message);
    this.name = 'TokenMeterApiError';
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/**
 * No answer at all: the service could not be reached, or every attempt failed or timed out.
 * For a write with an idempotency key it is safe to call again with the same key.
 */
export class TokenMeterConnectionError extends Error {
  /** How many requests were sent (or tried) before giving up. */
  readonly attempts: number;

  constructor(message: string, attempts: number, cause: unknown) {
    super(message, { cause });
    this.name = 'TokenMeterConnectionError';
    this.attempts = attempts;
  }
}

export function isTokenMeterApiError(err: unknown): err is TokenMeterApiError {
  return err instanceof TokenMeterApiError;
}
