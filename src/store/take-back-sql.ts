import { TAKE_BACK_ENTRIES } from './schema/m017-take-back-index.ts';
import type { SqlDialect } from './sql-dialect.ts';

/**
 * A payment's take-back steps on one account: `?` account, source, the prefix's length in
 * characters, the prefix. The take-back condition is the partial index's own text (migration
 * 17), so both databases read the account's few take-back entries through it instead of all its
 * entries. substr, not LIKE: a reference may hold % or _ and needs no escaping this way.
 */
export function takeBackStepsSql(dialect: SqlDialect): string {
  return `SELECT * FROM ledger_entries WHERE account_id = ? AND source = ? AND ${TAKE_BACK_ENTRIES}
    AND substr(reference, 1, ${dialect.typed('int')}) = ? ORDER BY id`;
}
