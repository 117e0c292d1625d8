/** JSON Schemas shared by the routes; they validate requests and generate the OpenAPI document. */

/**
 * The engine's text rule (`src/core/well-formed-text.ts`) as a schema keyword: no lone
 * surrogates, no control characters. An `x-` name, so the OpenAPI document stays valid.
 */
export const WELL_FORMED = 'x-well-formed';

export const accountId = { type: 'string', minLength: 1, maxLength: 128, [WELL_FORMED]: true } as const;
export const featureId = { type: 'string', minLength: 1, maxLength: 64 } as const;
export const idempotencyKey = { type: 'string', minLength: 1, maxLength: 255, [WELL_FORMED]: true } as const;
export const quantity = { type: 'integer', minimum: 1, maximum: 1_000_000 } as const;
export const tokenAmount = { type: 'integer', minimum: 1, maximum: 1_000_000_000 } as const;
export const reason = { type: 'string', minLength: 1, maxLength: 500, [WELL_FORMED]: true } as const;
export const limit = { type: 'integer', minimum: 1, maximum: 1000 } as const;
export const cursor = { type: 'string', minLength: 1, maxLength: 64 } as const;

/** A closed object: unknown properties are refused, not dropped. */
export function closed(properties: Record<string, unknown>, required: string[] = []) {
  return { type: 'object', additionalProperties: false, properties, required } as const;
}

export const errorResponse = {
  type: 'object',
  description: 'Every non-2xx answer',
  properties: { success: { const: false }, code: { type: 'string' }, error: { type: 'string' } },
  required: ['success', 'code', 'error'],
} as const;

/** The Idempotency-Key header, accepted as well as the body field. */
export const idempotencyHeaders = {
  type: 'object',
  properties: { 'idempotency-key': idempotencyKey },
} as const;
