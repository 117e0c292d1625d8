import { invalid } from '../core/errors.ts';

/** Validates the optional idempotency key: 1 to 255 characters. */
export function optionalKey(value: unknown, field = 'idempotencyKey'): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string' || value.length === 0 || value.length > 255) {
    throw invalid(field, 'must be a string of 1 to 255 characters');
  }
  return value;
}

/** A required, non-blank text such as a reason or an actor (the ledger records it). */
export function requireText(field: string, value: unknown, max: number): string {
  if (typeof value !== 'string' || value.trim().length === 0) throw invalid(field, 'is required');
  if (value.length > max) throw invalid(field, `must be at most ${max} characters`);
  return value.trim();
}
