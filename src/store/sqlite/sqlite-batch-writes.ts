import type { AccountState } from '../../core/account-state.ts';
import type { NewEntry } from '../../core/entry.ts';
import type { Grant } from '../../core/grant.ts';
import type { Hold } from '../../core/hold.ts';
import {
  ACCOUNT_MOVE_FIELDS,
  accountGuardSql,
  accountMoveRecord,
  accountSetSql,
  recordMoveSql,
} from '../account-update-sql.ts';
import type { GrantCache } from '../grant-cache.ts';
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
  type Row,
  str,
  toAccount,
  toGrant,
  toHold,
  toIdempotency,
  toKeyedDebit,
} from '../rows.ts';
import type { AccountChange, DeductionRef, IdempotencyRecord, IdempotencyRef, IdTable, KeyedDebit } from '../store.ts';
import type { SqliteConnection } from './sqlite-connection.ts';

// The many-row statements of group commit. Reads take their keys as one JSON array (one
// prepared statement for every batch size), but for the keyed debits (one key a deduction: see
// FIND_DEDUCTIONS); inserts bind rows into multi-row VALUES lists of a few fixed sizes
// (measured faster than unpacking JSON in SQL: ~4 µs a ledger row against ~9).

const LOCK_ACCOUNTS = `SELECT ${ACCOUNT_READ_COLUMNS} FROM accounts WHERE id IN (SELECT value FROM json_each(?))`;

const LIVE_GRANTS = `SELECT ${GRANT_COLUMNS} FROM grants
WHERE account_id IN (SELECT value FROM json_each(?)) AND ${LIVE_GRANT} ORDER BY id`;

const HOLDS_EXPIRING = `SELECT * FROM holds
WHERE status = 'active' AND expires_at <= ? AND account_id IN (SELECT value FROM json_each(?)) ORDER BY id`;

const FIND_KEYS = `SELECT k.account_id, k.operation, k.key, k.fingerprint, k.response, k.created_at
FROM json_each(?) AS j
JOIN idempotency_keys AS k ON k.account_id = j.value ->> 0 AND k.operation = j.value ->> 1 AND k.key = j.value ->> 2`;

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

/**
 * One statement per chunk size that first binds `size` rows of `fields` as the table `v`, then
 * runs `body` on it: many rows moved by one UPDATE, or looked up by one SELECT. (Unpacking a
 * JSON argument in SQL instead cost more per row than the single UPDATEs it replaced: each `->>`
 * parses its JSON again.)
 */
function valuesStatements(fields: readonly string[], body: string): [number, string][] {
  const row = `(${fields.map(() => '?').join(', ')})`;
  return CHUNKS.map((size) => [
    size,
    `WITH v (${fields.join(', ')}) AS (VALUES ${Array(size).fill(row).join(', ')})\n${body}`,
  ]);
}

// Every account a batch moves, each guarded as SqlWriteTx's updateAccount is (see account-update-sql.ts).
const UPDATE_ACCOUNTS = valuesStatements(
  ACCOUNT_MOVE_FIELDS,
  `UPDATE accounts AS a SET ${accountSetSql(recordMoveSql('v'), 'a')}
FROM v WHERE a.id = v.id AND a.version = v.version AND ${accountGuardSql(recordMoveSql('v'), 'min', 'a')}`,
);

// Every grant a batch moves, each guarded as SqlWriteTx's updateGrant is: the status the
// decision read, and remaining within 0..tokens.
const UPDATE_GRANTS = valuesStatements(
  ['id', 'delta', 'to_status', 'closed_at', 'account_id', 'from_status'],
  `UPDATE grants AS g SET remaining = g.remaining + v.delta, status = v.to_status, closed_at = v.closed_at
FROM v WHERE g.id = v.id AND g.account_id = v.account_id AND g.status = v.from_status
  AND g.remaining + v.delta BETWEEN 0 AND g.tokens`,
);

// The keyed debits a batch's deductions name, `(account, key)` pairs bound as a VALUES list.
// Each JSON path (`j.value ->> 1`) parses its element again: with 256 keys, 298 µs a lookup
// against 178 µs bound (a micro-benchmark on 200,000 keyed debits). A pair of NULLs pads a list
// to its statement's size and matches no row.
const FIND_DEDUCTIONS = valuesStatements(
  ['account_id', 'key'],
  `SELECT e.* FROM v JOIN ledger_entries AS e
ON e.idempotency_key = v.key AND e.account_id = v.account_id AND e.kind = 'debit'`,
);

/**
 * Rows `at` to `at + count - 1` of `rows`, one after another, as one statement's parameters.
 * An index loop: `rows.slice(at, at + count).flat()` cost ~3,000 instructions more a ledger
 * entry on one hot account (`node bench/instructions.ts --keyed`, session 23).
 */
function paramsOf(rows: Cell[][], at: number, count: number): Cell[] {
  const params: Cell[] = [];
  for (let i = at; i < at + count; i++) {
    const row = rows[i] as Cell[];
    for (let j = 0; j < row.length; j++) params.push(row[j] as Cell);
  }
  return params;
}

/** Runs `statements` on `rows`, largest chunks first; returns the rows inserted or changed. */
function runChunked(conn: SqliteConnection, statements: [number, string][], rows: Cell[][]): number {
  let inserted = 0;
  let at = 0;
  for (const [size, sql] of statements) {
    for (; rows.length - at >= size; at += size) {
      inserted += conn.run(sql, ...paramsOf(rows, at, size));
    }
  }
  return inserted;
}

/**
 * Runs a read of `statements` on `rows`: full chunks of the largest size, then what is left in
 * the smallest statement that holds it, padded with rows of NULLs (which must match nothing).
 * At most one statement more than the full chunks, where `runChunked` could take several.
 */
function readPadded(conn: SqliteConnection, statements: [number, string][], rows: Cell[][]): Row[] {
  const out: Row[] = [];
  for (let at = 0; at < rows.length; ) {
    const [size, sql] = fitting(statements, rows.length - at);
    const count = Math.min(size, rows.length - at);
    const params = paramsOf(rows, at, count);
    const width = params.length / count;
    for (let i = count * width; i < size * width; i++) params.push(null);
    out.push(...conn.all(sql, ...params));
    at += count;
  }
  return out;
}

/** The smallest of `statements` (largest first) with room for `count` rows, else the largest. */
function fitting(statements: [number, string][], count: number): [number, string] {
  return statements.findLast(([size]) => size >= count) ?? (statements[0] as [number, string]);
}

/**
 * The accounts, as stored, with their live grants: from `cache` for an account whose row is at
 * the version remembered there, read for the others.
 */
export function lockAccounts(conn: SqliteConnection, ids: readonly string[], cache: GrantCache): AccountState[] {
  // The transaction holds the database's write lock: none of these rows can change under us.
  const rows = conn.all(LOCK_ACCOUNTS, JSON.stringify(ids));
  const cached = rows.map((row) => cache.get(str(row, 'id'), int(row, 'version')));
  const missing = rows.filter((_, i) => cached[i] === undefined).map((row) => str(row, 'id'));
  const read = new Map<string, Grant[]>();
  if (missing.length > 0) {
    for (const g of conn.all(LIVE_GRANTS, JSON.stringify(missing)).map(toGrant)) {
      const list = read.get(g.account);
      if (list) list.push(g);
      else read.set(g.account, [g]);
    }
  }
  return rows.map((row, i) => {
    const hit = cached[i];
    return toAccount(row, hit ? [...hit] : (read.get(str(row, 'id')) ?? []));
  });
}

export function holdsExpiringBy(conn: SqliteConnection, accounts: readonly string[], until: number): Hold[] {
  return conn.all(HOLDS_EXPIRING, until, JSON.stringify(accounts)).map(toHold);
}

export function findIdempotencies(conn: SqliteConnection, refs: readonly IdempotencyRef[]): IdempotencyRecord[] {
  const rows = conn.all(FIND_KEYS, JSON.stringify(refs.map((r) => [r.account, r.operation, r.key])));
  return rows.map(toIdempotency);
}

export function findDeductions(conn: SqliteConnection, refs: readonly DeductionRef[]): KeyedDebit[] {
  return readPadded(
    conn,
    FIND_DEDUCTIONS,
    refs.map((r): Cell[] => [r.account, r.key]),
  ).map(toKeyedDebit);
}

/** The highest id a table has used (AUTOINCREMENT never reuses one, even after a rollback of its row). */
export function lastId(conn: SqliteConnection, table: IdTable): number {
  const row = conn.get(LAST_ID.replace('%TABLE%', table), table);
  return row ? int(row, 'last') : 0;
}

/** Applies account moves (each account at most once), a chunk of rows a statement; returns the rows changed. */
export function updateAccounts(conn: SqliteConnection, changes: readonly AccountChange[]): number {
  if (changes.length === 0) return 0;
  if (new Set(changes.map((c) => c.before.id)).size !== changes.length)
    throw new Error('a batch moved one account twice');
  const rows = changes.map((c): Cell[] => {
    const r = accountMoveRecord(c);
    return ACCOUNT_MOVE_FIELDS.map((f) => (f === 'exempt' ? (r.exempt ? 1 : 0) : (r[f] as Cell)));
  });
  return runChunked(conn, UPDATE_ACCOUNTS, rows);
}

/** Applies grant updates (each grant at most once), a chunk of rows a statement; returns the rows changed. */
export function updateGrants(conn: SqliteConnection, updates: readonly GrantUpdate[]): number {
  if (updates.length === 0) return 0;
  if (new Set(updates.map((u) => u.id)).size !== updates.length) throw new Error('a batch moved one grant twice');
  return runChunked(
    conn,
    UPDATE_GRANTS,
    updates.map((u): Cell[] => [u.id, u.delta, u.to, u.closedAt, u.account, u.from]),
  );
}

export function insertEntries(conn: SqliteConnection, entries: readonly NewEntry[]): number {
  // Ids are the batch's own: the two kinds of rows may go in two statements, in any order.
  const plain = entries.filter((e) => !isPooledEntry(e));
  const pooled = entries.filter(isPooledEntry);
  return (
    runChunked(
      conn,
      INSERT_ENTRIES,
      plain.map((e): Cell[] => [e.id, ...entryCells(e)]),
    ) +
    runChunked(
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
  return runChunked(conn, INSERT_HOLDS, rows);
}

export function saveIdempotencies(conn: SqliteConnection, records: readonly IdempotencyRecord[]): number {
  const rows = records.map((r): Cell[] => [r.account, r.operation, r.key, r.fingerprint, r.response, r.createdAt]);
  return runChunked(conn, INSERT_KEYS, rows);
}
