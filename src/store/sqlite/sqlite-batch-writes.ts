import type { AccountState } from '../../core/account-state.ts';
import type { NewEntry } from '../../core/entry.ts';
import type { Grant } from '../../core/grant.ts';
import type { Hold } from '../../core/hold.ts';
import type { GrantUpdate } from '../grant-changes.ts';
import {
  ACCOUNT_READ_COLUMNS,
  type Cell,
  ENTRY_INSERT_COLUMNS,
  entryCells,
  GRANT_COLUMNS,
  int,
  isPooledEntry,
  LIVE_GRANT,
  POOLED_ENTRY_COLUMNS,
  pooledEntryCells,
  str,
  toAccount,
  toGrant,
  toHold,
  toIdempotency,
  toKeyedDebit,
} from '../rows.ts';
import type { DeductionRef, IdempotencyRecord, IdempotencyRef, IdTable, KeyedDebit } from '../store.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

// The many-row statements of group commit. Reads take their keys as one JSON array (one
// prepared statement for every batch size); inserts bind rows into multi-row VALUES lists of a
// few fixed sizes (measured faster than unpacking JSON in SQL: ~4 µs a ledger row against ~9).

const LOCK_ACCOUNTS = `SELECT ${ACCOUNT_READ_COLUMNS} FROM accounts WHERE id IN (SELECT value FROM json_each(?))`;

const LIVE_GRANTS = `SELECT ${GRANT_COLUMNS} FROM grants
WHERE account_id IN (SELECT value FROM json_each(?)) AND ${LIVE_GRANT} ORDER BY id`;

const HOLDS_EXPIRING = `SELECT * FROM holds
WHERE status = 'active' AND expires_at <= ? AND account_id IN (SELECT value FROM json_each(?)) ORDER BY id`;

const FIND_KEYS = `SELECT k.account_id, k.operation, k.key, k.fingerprint, k.response, k.created_at
FROM json_each(?) AS j
JOIN idempotency_keys AS k ON k.account_id = j.value ->> 0 AND k.operation = j.value ->> 1 AND k.key = j.value ->> 2`;

const FIND_DEDUCTIONS = `SELECT e.* FROM json_each(?) AS j
JOIN ledger_entries AS e ON e.account_id = j.value ->> 0 AND e.idempotency_key = j.value ->> 1 AND e.kind = 'debit'`;

// Every grant a batch moves, each guarded as SqlWriteTx's updateGrant is: the status the
// decision read, and remaining within 0..tokens. The caller counts the rows it changed.
const UPDATE_GRANTS = `UPDATE grants
SET remaining = remaining + (j.value ->> 1), status = j.value ->> 2, closed_at = j.value ->> 3
FROM json_each(?) AS j
WHERE grants.id = j.value ->> 0 AND grants.account_id = j.value ->> 4 AND grants.status = j.value ->> 5
  AND grants.remaining + (j.value ->> 1) BETWEEN 0 AND grants.tokens`;

const LAST_ID = `SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0),
  coalesce((SELECT max(id) FROM %TABLE%), 0)) AS last`;

const ENTRY_COLUMNS = `id, ${ENTRY_INSERT_COLUMNS}`;
const HOLD_COLUMNS = `id, account_id, amount, feature, status, charged, created_at, expires_at, closed_at, idempotency_key,
  pool_hold, pool_amount, member_id`;
const KEY_COLUMNS = 'account_id, operation, key, fingerprint, response, created_at';

/** Rows per INSERT, largest first; a batch is cut into these so only a few statements are ever prepared. */
const CHUNKS = [256, 64, 16, 4, 1];

/** One INSERT per chunk size: `size` rows of `width` placeholders. */
function insertStatements(table: string, columns: string, width: number): [number, string][] {
  const row = `(${Array(width).fill('?').join(', ')})`;
  return CHUNKS.map((size) => [size, `INSERT INTO ${table} (${columns}) VALUES ${Array(size).fill(row).join(', ')}`]);
}

const INSERT_ENTRIES = insertStatements('ledger_entries', ENTRY_COLUMNS, 19);
const INSERT_POOLED_ENTRIES = insertStatements('ledger_entries', `id, ${POOLED_ENTRY_COLUMNS}`, 22);
const INSERT_HOLDS = insertStatements('holds', HOLD_COLUMNS, 13);
const INSERT_KEYS = insertStatements('idempotency_keys', KEY_COLUMNS, 6);

/** Inserts `rows` with multi-row VALUES, largest chunks first; returns the rows inserted. */
function insertRows(conn: SqliteConnection, statements: [number, string][], rows: Cell[][]): number {
  let inserted = 0;
  let at = 0;
  for (const [size, sql] of statements) {
    for (; rows.length - at >= size; at += size) {
      inserted += conn.run(sql, ...rows.slice(at, at + size).flat());
    }
  }
  return inserted;
}

export function lockAccounts(conn: SqliteConnection, ids: readonly string[]): AccountState[] {
  // The transaction holds the database's write lock: none of these rows can change under us.
  const json = JSON.stringify(ids);
  const grants = new Map<string, Grant[]>();
  for (const g of conn.all(LIVE_GRANTS, json).map(toGrant)) {
    const list = grants.get(g.account);
    if (list) list.push(g);
    else grants.set(g.account, [g]);
  }
  return conn.all(LOCK_ACCOUNTS, json).map((row) => toAccount(row, grants.get(str(row, 'id')) ?? []));
}

export function holdsExpiringBy(conn: SqliteConnection, accounts: readonly string[], until: number): Hold[] {
  return conn.all(HOLDS_EXPIRING, until, JSON.stringify(accounts)).map(toHold);
}

export function findIdempotencies(conn: SqliteConnection, refs: readonly IdempotencyRef[]): IdempotencyRecord[] {
  const rows = conn.all(FIND_KEYS, JSON.stringify(refs.map((r) => [r.account, r.operation, r.key])));
  return rows.map(toIdempotency);
}

export function findDeductions(conn: SqliteConnection, refs: readonly DeductionRef[]): KeyedDebit[] {
  const rows = conn.all(FIND_DEDUCTIONS, JSON.stringify(refs.map((r) => [r.account, r.key])));
  return rows.map(toKeyedDebit);
}

/** The highest id a table has used (AUTOINCREMENT never reuses one, even after a rollback of its row). */
export function lastId(conn: SqliteConnection, table: IdTable): number {
  const row = conn.get(LAST_ID.replace('%TABLE%', table), table);
  return row ? int(row, 'last') : 0;
}

/** Applies grant updates (each grant at most once) in one statement; returns the rows changed. */
export function updateGrants(conn: SqliteConnection, updates: readonly GrantUpdate[]): number {
  if (updates.length === 0) return 0;
  if (new Set(updates.map((u) => u.id)).size !== updates.length) throw new Error('a batch moved one grant twice');
  return conn.run(
    UPDATE_GRANTS,
    JSON.stringify(updates.map((u) => [u.id, u.delta, u.to, u.closedAt, u.account, u.from])),
  );
}

export function insertEntries(conn: SqliteConnection, entries: readonly NewEntry[]): number {
  // Ids are the batch's own: the two kinds of rows may go in two statements, in any order.
  const plain = entries.filter((e) => !isPooledEntry(e));
  const pooled = entries.filter(isPooledEntry);
  return (
    insertRows(
      conn,
      INSERT_ENTRIES,
      plain.map((e): Cell[] => [e.id, ...entryCells(e)]),
    ) +
    insertRows(
      conn,
      INSERT_POOLED_ENTRIES,
      pooled.map((e): Cell[] => [e.id, ...pooledEntryCells(e)]),
    )
  );
}

export function insertHolds(conn: SqliteConnection, holds: readonly Hold[]): number {
  const rows = holds.map((h): Cell[] => [
    h.id,
    h.account,
    h.amount,
    h.feature,
    h.status,
    h.charged,
    h.createdAt,
    h.expiresAt,
    h.closedAt,
    h.idempotencyKey,
    h.poolHold,
    h.poolAmount,
    h.member,
  ]);
  return insertRows(conn, INSERT_HOLDS, rows);
}

export function saveIdempotencies(conn: SqliteConnection, records: readonly IdempotencyRecord[]): number {
  const rows = records.map((r): Cell[] => [r.account, r.operation, r.key, r.fingerprint, r.response, r.createdAt]);
  return insertRows(conn, INSERT_KEYS, rows);
}
