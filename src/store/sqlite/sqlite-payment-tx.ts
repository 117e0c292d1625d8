import { SqlPaymentTx } from '../sql-payment-tx.ts';
import { WriteConflictError } from '../write-conflict.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

/** Payment statements inside a SQLite write transaction (BEGIN IMMEDIATE: no concurrent writer). */
export function sqlitePaymentTx(conn: SqliteConnection): SqlPaymentTx {
  return new SqlPaymentTx({
    query: async (sql, params) => conn.all(sql, ...params),
    conflict: (message) => new WriteConflictError(message),
    // BEGIN IMMEDIATE already holds the database's single write lock.
    lockKey: async () => {},
  });
}
