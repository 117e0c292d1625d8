import type { AccountState } from '../../core/account-state.ts';
import type { LedgerEntry } from '../../core/entry.ts';
import type { Hold } from '../../core/hold.ts';
import { int, toAccount, toHold, toIdempotency } from '../rows.ts';
import type { AccountChange, IdempotencyRecord, IdempotencyRef } from '../store.ts';
import { WriteConflictError } from '../write-conflict.ts';
import type { PgQueryable } from './pg-client.ts';
import { RetryableConflictError } from './retryable-conflict.ts';

// The many-row statements of group commit: each batch is one statement whose rows travel as a
// single JSON parameter (`json_to_recordset`), the same on node-postgres and PGlite.

const ACCOUNT_COLUMNS = `id, plan, allocation, purchased, held, used_this_cycle, rolled_over, cycle_anchor,
  cycle_start, last_reset, cycle_driver, created_at, updated_at, version`;

// ORDER BY below FOR UPDATE: rows are locked in id order, the same order in every process, so
// two batches that share accounts wait for each other instead of deadlocking.
const LOCK_ACCOUNTS = `SELECT ${ACCOUNT_COLUMNS} FROM accounts
WHERE id IN (SELECT json_array_elements_text($1::json)) ORDER BY id COLLATE "C" FOR UPDATE`;

const HOLDS_EXPIRING = `SELECT * FROM holds
WHERE status = 'active' AND expires_at <= $2 AND account_id IN (SELECT json_array_elements_text($1::json))
ORDER BY id`;

const FIND_KEYS = `SELECT k.account_id, k.operation, k.key, k.fingerprint, k.response, k.created_at
FROM json_to_recordset($1::json) AS r(a text, o text, k text)
JOIN idempotency_keys AS k ON k.account_id = r.a AND k.operation = r.o AND k.key = r.k`;

const UPDATE_ACCOUNTS = `UPDATE accounts AS a SET
  plan = v.plan, allocation = a.allocation + v.da, purchased = a.purchased + v.dp, held = a.held + v.dh,
  used_this_cycle = v.used, rolled_over = v.rolled, cycle_anchor = v.anchor, cycle_start = v.cstart,
  last_reset = v.lreset, cycle_driver = v.driver, updated_at = v.updated, version = a.version + 1
FROM json_to_recordset($1::json) AS v(id text, plan text, da bigint, dp bigint, dh bigint, used bigint,
  rolled bigint, anchor bigint, cstart bigint, lreset bigint, driver text, updated bigint, version bigint,
  exempt boolean)
WHERE a.id = v.id AND a.version = v.version
  AND (v.exempt OR (a.allocation + v.da) + (a.purchased + v.dp) - (a.held + v.dh)
                   >= LEAST(0, a.allocation + a.purchased - a.held))
RETURNING a.id`;

const INSERT_ENTRIES = `INSERT INTO ledger_entries (id, account_id, kind, amount, allocation_delta, purchased_delta,
  balance_after, feature, quantity, idempotency_key, source, reference, reason, actor, at)
OVERRIDING SYSTEM VALUE
SELECT * FROM json_to_recordset($1::json) AS v(id bigint, account_id text, kind text, amount bigint,
  allocation_delta bigint, purchased_delta bigint, balance_after bigint, feature text, quantity bigint,
  idempotency_key text, source text, reference text, reason text, actor text, at bigint)
ON CONFLICT (kind, source, reference) WHERE reference IS NOT NULL DO NOTHING
RETURNING id`;

const INSERT_HOLDS = `INSERT INTO holds (id, account_id, amount, feature, status, charged, created_at, expires_at,
  closed_at, idempotency_key)
OVERRIDING SYSTEM VALUE
SELECT * FROM json_to_recordset($1::json) AS v(id bigint, account_id text, amount bigint, feature text,
  status text, charged bigint, created_at bigint, expires_at bigint, closed_at bigint, idempotency_key text)`;

const INSERT_KEYS = `INSERT INTO idempotency_keys (account_id, operation, key, fingerprint, response, created_at)
SELECT * FROM json_to_recordset($1::json) AS v(account_id text, operation text, key text, fingerprint text,
  response text, created_at bigint)
ON CONFLICT (account_id, operation, key) DO NOTHING
RETURNING key`;

export async function lockAccounts(q: PgQueryable, ids: readonly string[]): Promise<AccountState[]> {
  return (await q.query(LOCK_ACCOUNTS, [JSON.stringify(ids)])).map(toAccount);
}

export async function holdsExpiringBy(q: PgQueryable, accounts: readonly string[], until: number): Promise<Hold[]> {
  return (await q.query(HOLDS_EXPIRING, [JSON.stringify(accounts), until])).map(toHold);
}

export async function findIdempotencies(q: PgQueryable, refs: readonly IdempotencyRef[]): Promise<IdempotencyRecord[]> {
  const rows = await q.query(FIND_KEYS, [
    JSON.stringify(refs.map((r) => ({ a: r.account, o: r.operation, k: r.key }))),
  ]);
  return rows.map(toIdempotency);
}

export async function allocateIds(q: PgQueryable, table: 'ledger_entries' | 'holds', count: number): Promise<number[]> {
  // Sequence values are never handed out twice, whichever process asks; unused ones are gaps.
  const rows = await q.query(
    `SELECT nextval(pg_get_serial_sequence('${table}', 'id')) AS id FROM generate_series(1, $1::int) ORDER BY 1`,
    [count],
  );
  return rows.map((row) => int(row, 'id'));
}

export async function updateAccounts(q: PgQueryable, changes: readonly AccountChange[]): Promise<void> {
  const rows = changes.map(({ before, after, guard }) => ({
    id: before.id,
    plan: after.plan,
    da: after.allocation - before.allocation,
    dp: after.purchased - before.purchased,
    dh: after.held - before.held,
    used: after.usedThisCycle,
    rolled: after.rolledOver,
    anchor: after.cycleAnchor,
    cstart: after.cycleStart,
    lreset: after.lastReset,
    driver: after.cycleDriver,
    updated: after.updatedAt,
    version: before.version,
    exempt: guard === 'exempt',
  }));
  const updated = await q.query(UPDATE_ACCOUNTS, [JSON.stringify(rows)]);
  if (updated.length !== changes.length) {
    throw new WriteConflictError(
      `${changes.length - updated.length} accounts changed under the batch or would overdraw`,
    );
  }
}

export async function insertEntries(q: PgQueryable, entries: readonly LedgerEntry[]): Promise<void> {
  const rows = entries.map((e) => ({
    id: e.id,
    account_id: e.account,
    kind: e.kind,
    amount: e.amount,
    allocation_delta: e.allocationDelta,
    purchased_delta: e.purchasedDelta,
    balance_after: e.balanceAfter,
    feature: e.feature,
    quantity: e.quantity,
    idempotency_key: e.idempotencyKey,
    source: e.source,
    reference: e.reference,
    reason: e.reason,
    actor: e.actor,
    at: e.at,
  }));
  const inserted = await q.query(INSERT_ENTRIES, [JSON.stringify(rows)]);
  if (inserted.length !== entries.length) {
    throw new RetryableConflictError('a referenced entry was recorded by another transaction');
  }
}

export async function insertHolds(q: PgQueryable, holds: readonly Hold[]): Promise<void> {
  const rows = holds.map((h) => ({
    id: h.id,
    account_id: h.account,
    amount: h.amount,
    feature: h.feature,
    status: h.status,
    charged: h.charged,
    created_at: h.createdAt,
    expires_at: h.expiresAt,
    closed_at: h.closedAt,
    idempotency_key: h.idempotencyKey,
  }));
  await q.query(INSERT_HOLDS, [JSON.stringify(rows)]);
}

export async function saveIdempotencies(q: PgQueryable, records: readonly IdempotencyRecord[]): Promise<void> {
  const rows = records.map((r) => ({
    account_id: r.account,
    operation: r.operation,
    key: r.key,
    fingerprint: r.fingerprint,
    response: r.response,
    created_at: r.createdAt,
  }));
  const saved = await q.query(INSERT_KEYS, [JSON.stringify(rows)]);
  // Another transaction answered one of these keys first: re-run, and the re-run replays it.
  if (saved.length !== records.length) throw new RetryableConflictError('an idempotency key was used concurrently');
}
