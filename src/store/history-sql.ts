import { encodeCursor, type Row, toEntry } from './rows.ts';
import type { HistoryPage } from './store.ts';

const CURSOR_AT = '(SELECT c.at FROM ledger_entries c WHERE c.id = ?)';

/**
 * After the cursor's entry, in the ledger's order, as a condition on `e`: its first part bounds
 * the index range, the second leaves out the cursor's entry and those of its time written after
 * it. The cursor's time is a subquery, computed once, not a join: PostgreSQL joined the other way
 * round for an account holding most of the ledger and read all of it for a page (280 ms for
 * 255,000 entries). Binds the cursor's entry id three times (`afterCursor`).
 */
export const AFTER_CURSOR = `e.at <= ${CURSOR_AT} AND (e.at < ${CURSOR_AT} OR e.id < ?)`;
export const afterCursor = (entryId: number): number[] => [entryId, entryId, entryId];
/** The ledger's order, newest first: by time, then id. */
export const NEWEST_FIRST = 'ORDER BY e.at DESC, e.id DESC';

/**
 * An account's entries, newest first, a page at a time: by time, then id, which is the order
 * they were written in (migration 16: an account's entries never go back in time), read
 * backwards along `ledger_entries_account_at` (SQLite's ends with the rowid, so no sort;
 * PostgreSQL sorts only the entries of one time among themselves). A cursor names the last
 * entry of the page before (its id, as before version 16); the next page starts after that
 * entry's place in the order. Two statements, not `(? IS NULL OR ...)`: SQLite cannot seek on a condition it can
 * only decide when it runs, so every later page would walk the account's newer entries again.
 * `?` placeholders (numbered for PostgreSQL by the caller).
 */
export const HISTORY_SQL = {
  /** Parameters: account, limit. */
  first: `SELECT e.* FROM ledger_entries AS e WHERE e.account_id = ? ${NEWEST_FIRST} LIMIT ?`,
  /** Parameters: account, `afterCursor(id)`, limit. */
  after: `SELECT e.* FROM ledger_entries AS e WHERE e.account_id = ? AND ${AFTER_CURSOR} ${NEWEST_FIRST} LIMIT ?`,
};

/** A page from rows read with `limit + 1`: the extra row only says a next page exists. */
export function historyPage(rows: readonly Row[], limit: number): HistoryPage {
  const entries = rows.slice(0, limit).map(toEntry);
  const last = entries.at(-1);
  return { entries, nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null };
}
