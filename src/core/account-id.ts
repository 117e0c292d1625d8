import { invalid } from './errors.ts';
import { requireWellFormed, textLength } from './well-formed-text.ts';

export const MAX_ACCOUNT_ID_LENGTH = 128;

/**
 * An account is named by the app's own id: 1 to 128 characters, well-formed Unicode (a lone
 * surrogate would be stored as U+FFFD and name another account), no control characters (they
 * would corrupt logs and CSV exports), not padded with spaces.
 */
export function requireAccountId(value: unknown, field = 'account'): string {
  if (typeof value !== 'string') throw invalid(field, 'must be a string');
  if (value.length === 0) throw invalid(field, 'must not be empty');
  if (textLength(value) > MAX_ACCOUNT_ID_LENGTH) {
    throw invalid(field, `must be at most ${MAX_ACCOUNT_ID_LENGTH} characters`);
  }
  requireWellFormed(field, value);
  if (value.trim() !== value) throw invalid(field, 'must not start or end with white space');
  return value;
}
