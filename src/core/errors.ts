/**
 * The closed list of error codes tokenmeter answers with. Expected outcomes
 * (an insufficient balance, an idempotency conflict) are result values; the
 * same codes name them so every surface (library, CLI, HTTP) speaks one language.
 */
export const ERROR_CODES = [
  'invalid_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'unknown_feature',
  'unknown_plan',
  'insufficient_tokens',
  'idempotency_conflict',
  'balance_changed',
  'hold_not_active',
  'payment_method_required',
  'feature_failed',
  'payload_too_large',
  'unsupported_media_type',
  'rate_limited',
  'unavailable',
  'config_invalid',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** HTTP status per code; a new code without a status fails to compile. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  invalid_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  unknown_feature: 404,
  unknown_plan: 404,
  insufficient_tokens: 402,
  idempotency_conflict: 409,
  balance_changed: 409,
  hold_not_active: 409,
  payment_method_required: 409,
  feature_failed: 502,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  unavailable: 503,
  config_invalid: 500,
  internal: 500,
};

/** A failure the caller can act on: bad input, unknown names, conflicts. */
export class TokenmeterError extends Error {
  readonly code: ErrorCode;
  /** The offending input field, when there is one (e.g. `quantity`). */
  readonly field: string | undefined;

  constructor(code: ErrorCode, message: string, field?: string) {
    super(message);
    this.name = 'TokenmeterError';
    this.code = code;
    this.field = field;
  }
}

export function invalid(field: string, message: string): TokenmeterError {
  return new TokenmeterError('invalid_request', `${field}: ${message}`, field);
}

export function isTokenmeterError(err: unknown): err is TokenmeterError {
  return err instanceof TokenmeterError;
}
