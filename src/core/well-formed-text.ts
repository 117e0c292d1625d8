import { invalid } from './errors.ts';

declare global {
  interface String {
    /** ES2024, in Node since 20; the project's `lib` is es2023, which does not declare it. */
    isWellFormed(): boolean;
  }
}

// C0 (NUL, tab and line breaks included), DEL and C1.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The same rule as a JSON Schema pattern (`u` flag: a lone surrogate is `\p{Cs}`), for the HTTP schemas. */
export const WELL_FORMED_PATTERN = '^[^\\p{Cc}\\p{Cs}]*$';

/**
 * Why `value` is not one exact text, or null when it is. A lone UTF-16 surrogate has no
 * encoding: both database drivers store it as U+FFFD, so `X\uD800` and `X\uFFFD` would name
 * one account, one idempotency key. Control characters corrupt logs and CSV exports.
 */
export function textProblem(value: string): string | null {
  if (!value.isWellFormed()) return 'must be well-formed Unicode (it contains a lone surrogate)';
  if (CONTROL.test(value)) return 'must not contain control characters';
  return null;
}

/** Throws `invalid_request` naming `field` unless `value` is well-formed text without control characters. */
export function requireWellFormed(field: string, value: string): string {
  const problem = textProblem(value);
  if (problem !== null) throw invalid(field, problem);
  return value;
}

/** Length as both databases' `length()` counts it: code points, not UTF-16 units. */
export function textLength(value: string): number {
  let n = 0;
  for (const _ of value) n++;
  return n;
}
