import { invalid, isTokenmeterError, TokenmeterError } from '../core/errors.ts';
import { requireWellFormed, textLength } from '../core/well-formed-text.ts';

/** The longest idempotency key, in characters as the database's CHECK counts them. */
export const MAX_KEY_LENGTH = 255;

/**
 * Validates the optional idempotency key: 1 to 255 characters, well-formed, no control
 * characters. It runs before an operation is queued, so a malformed key never joins (and
 * never rolls back) a group-commit batch.
 */
export function optionalKey(value: unknown, field = 'idempotencyKey'): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0 || textLength(value) > MAX_KEY_LENGTH) {
    throw invalid(field, `must be a string of 1 to ${MAX_KEY_LENGTH} characters`);
  }
  return requireWellFormed(field, value);
}

/** A required, non-blank, well-formed text such as a reason or an actor (the ledger records it). */
export function requireText(field: string, value: unknown, max: number): string {
  if (typeof value !== 'string' || value.trim().length === 0) throw invalid(field, 'is required');
  if (textLength(value) > max) throw invalid(field, `must be at most ${max} characters`);
  return requireWellFormed(field, value).trim();
}

/**
 * A check's error on one item of a request that carries many, named as the batch route names
 * it (`deductions[3].quantity: must be ...`); any other error passes through unchanged.
 */
export function namedItemError(err: unknown, index: number, list = 'deductions'): unknown {
  if (!isTokenmeterError(err)) return err;
  const field = err.field ?? 'item';
  const detail = err.message.startsWith(`${field}: `) ? err.message.slice(field.length + 2) : err.message;
  const where = `${list}[${index}].${field}`;
  return new TokenmeterError(err.code, `${where}: ${detail}`, where);
}
