import { TAKE_BACK_ENTRIES } from './schema/m017-rare-entry-indexes.ts';
import { ALLOCATION_GRANTS_SPELLED } from './schema/m019-checks-without-in-lists.ts';
import type { SqlDialect } from './sql-dialect.ts';

// The reads of rare entry kinds a write makes on a locked account. Each names its partial
// index's own condition as text (migration 17; SQLite's allocation grants as migration 19 spells
// it), so that both databases read the account's few such entries through it instead of all its
// entries.

/**
 * A payment's take-back steps on one account: `?` account, source, the prefix's length in
 * characters, the prefix. substr, not LIKE: a reference may hold % or _ and needs no escaping
 * this way.
 */
export function takeBackStepsSql(dialect: SqlDialect): string {
  return `SELECT * FROM ledger_entries WHERE account_id = ? AND source = ? AND ${TAKE_BACK_ENTRIES}
    AND substr(reference, 1, ${dialect.typed('int')}) = ? ORDER BY id`;
}

/** An account's allocation grants at or after a time: `?` account, time. */
export const ALLOCATION_GRANTS_SQL = `SELECT * FROM ledger_entries WHERE account_id = ? AND at >= ?
  AND ${ALLOCATION_GRANTS_SPELLED} ORDER BY id`;
