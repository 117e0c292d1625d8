import { TokenmeterError } from '../../core/errors.ts';
import { RetryableConflictError } from './retryable-conflict.ts';

// serialization_failure, deadlock_detected, unique_violation: another transaction won a race;
// running the whole operation again sees its result.
const RETRY_SQLSTATES = new Set(['40001', '40P01', '23505']);

// Socket-level failures reported by Node, and by node-postgres without a code.
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const NETWORK_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /not queryable/i,
  /connection is closed/i,
  /cannot use a pool after calling end/i,
];

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

/** Whether a failed transaction may simply be run again (it was rolled back, nothing applied). */
export function isRetryable(err: unknown): boolean {
  if (err instanceof RetryableConflictError) return true;
  const code = codeOf(err);
  return code !== undefined && RETRY_SQLSTATES.has(code);
}

/** Whether the database could not be reached or went away (not a fault of the statement). */
export function isUnavailable(err: unknown): boolean {
  const code = codeOf(err);
  if (code !== undefined) {
    if (NETWORK_CODES.has(code)) return true;
    // 08xxx connection exception; 57P01-57P03 shutdown / cannot connect now; 53300 too many
    // connections; 57014 query_canceled (statement_timeout); 25006 read-only (a standby).
    if (code.startsWith('08') || ['57P01', '57P02', '57P03', '53300', '57014', '25006'].includes(code)) return true;
  }
  if (err instanceof AggregateError) return err.errors.some(isUnavailable);
  return err instanceof Error && NETWORK_MESSAGES.some((m) => m.test(err.message));
}

/**
 * Maps driver failures callers can act on to `unavailable`; everything else passes through.
 * A write cut off by an outage may or may not have committed, so its message says how to
 * find out safely.
 */
export function translatePgError(err: unknown, during: 'read' | 'write'): unknown {
  if (err instanceof TokenmeterError || !isUnavailable(err)) return err;
  const reason = err instanceof Error ? err.message : String(err);
  const hint = during === 'write' ? '; retry the operation with the same idempotency key' : '';
  return new TokenmeterError('unavailable', `The token store is unavailable (${reason})${hint}`);
}
