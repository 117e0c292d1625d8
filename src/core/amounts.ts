import { invalid } from './errors.ts';

/** Largest quantity one deduction may name. */
export const MAX_QUANTITY = 1_000_000;
/** Largest token amount an operator adjustment or credit may move at once. */
export const MAX_ADJUSTMENT = 1_000_000_000;
/** Largest hold lifetime, so a forgotten hold cannot lock tokens for ever. */
export const MAX_HOLD_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Accepts only a JavaScript integer within [min, max]: no strings, no floats,
 * no NaN, no bigint. Token arithmetic stays exact because every amount is a
 * safe integer and every sum of them stays far below 2^53.
 */
export function requireInt(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw invalid(field, `must be an integer, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw invalid(field, `must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

export function requireQuantity(value: unknown): number {
  return requireInt('quantity', value === undefined ? 1 : value, 1, MAX_QUANTITY);
}

/** Parses a command-line integer strictly ("12" yes; "1.5", "1e3", "12abc", "" no). */
export function parseIntStrict(field: string, text: string): number {
  if (!/^-?\d{1,16}$/.test(text.trim())) throw invalid(field, `must be an integer, got "${text}"`);
  const n = Number(text.trim());
  if (!Number.isSafeInteger(n)) throw invalid(field, `is out of range: "${text}"`);
  return n;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `the string "${value.slice(0, 40)}"`;
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null';
  return typeof value;
}
