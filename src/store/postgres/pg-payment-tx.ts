import { SqlPaymentTx } from '../sql-payment-tx.ts';
import type { PgQueryable } from './pg-client.ts';
import { RetryableConflictError } from './retryable-conflict.ts';

// The advisory lock namespace of payment keys (the migration lock uses the one-argument form).
const PAYMENT_KEY_LOCKS = 7_254_092;

/** `?` placeholders numbered for PostgreSQL (the payment SQL has no `?` inside literals). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** Payment statements inside a PostgreSQL write transaction; a lost insert race re-runs the transaction. */
export function pgPaymentTx(q: PgQueryable): SqlPaymentTx {
  return new SqlPaymentTx({
    query: (sql, params) => q.query(numbered(sql), params),
    conflict: (message) => new RetryableConflictError(message),
    lockKey: async (key) => {
      await q.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [PAYMENT_KEY_LOCKS, key]);
    },
  });
}
