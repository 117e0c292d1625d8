import type { AccountState } from '../../core/account-state.ts';
import type { Grant } from '../../core/grant.ts';
import { accountGuardSql, accountMoveRecord, accountSetSql, recordMoveSql } from '../account-update-sql.ts';
import type { GrantCache } from '../grant-cache.ts';
import { grantChanges } from '../grant-changes.ts';
import {
  ACCOUNT_COLUMNS,
  ACCOUNT_READ_COLUMNS,
  encodeGrantMoves,
  GRANT_COLUMNS,
  grantArraySql,
  int,
  isPooledEntry,
  jsonRows,
  LIVE_GRANT,
  POOLED_ENTRY_COLUMNS,
  str,
  toAccount,
  toGrantFromArray,
  toHold,
  toIdempotency,
  toKeyedDebit,
} from '../rows.ts';
import type { BatchRead, BatchSnapshot, BatchWrite, IdTable } from '../store.ts';
import { WriteConflictError } from '../write-conflict.ts';
import type { PgQueryable } from './pg-client.ts';
import { EVENTS_WRITTEN, eventRows, eventsCte } from './pg-events.ts';
import { RetryableConflictError } from './retryable-conflict.ts';

// Group commit on PostgreSQL: three statements a batch (lock; read holds, keys and ids; write
// everything), whatever its size. Rows travel as one JSON parameter each (`json_to_recordset`),
// the same on node-postgres and PGlite.

// Key lists are matched with `= ANY(ARRAY(...))` or LATERAL lookups, never a join against the
// JSON rows: a join is planned as a hash join over a scan of the whole table (measured: the
// accounts table scanned on every batch), while these are index lookups whatever the table size.
// An UPDATE's rows are unpacked once, in a MATERIALIZED CTE that both the key list and the join
// read: `json_to_recordset` builds a hash of every field of every record, however few it returns.

// ORDER BY below FOR UPDATE: rows are locked in sorted order, the same order in every process,
// so two batches that share accounts wait for each other instead of deadlocking. Pool members
// come first, then everything else in id order: a single write of a member locks it and then
// its pool, so a batch that names a pool before this process has learnt it is one (its hints
// are cold) must still lock the pool after the members. In id order it locked the pool first,
// and each such batch deadlocked with a member's single write, stalling the pool's row for the
// server's deadlock_timeout (found by the two-process pool test, which then timed out on CI).
const LOCK_ACCOUNTS = `SELECT ${ACCOUNT_READ_COLUMNS} FROM accounts
WHERE id = ANY(ARRAY(SELECT json_array_elements_text($1::json)))
ORDER BY pool_id IS NULL, id COLLATE "C" FOR UPDATE`;

// A statement of its own, after the lock: in READ COMMITTED it sees what the batch we waited
// for committed (its holds, its keys), and ids drawn now follow that batch's ids.
// The keyed-debit lookup compares `account_id || ''` so that only the (idempotency_key,
// account_id) index can serve it: with statistics from many small accounts the planner chose
// the account's own index, which on a hot account walks every entry it ever had (batches of
// 1,024 took seconds in the bench).
// LIMIT 1 (each lookup is unique) keeps a LATERAL lookup a lookup: without it the planner may
// flatten it into a join, and the generic plan of this prepared statement, first made while the
// tables are empty, hashed the whole index of keyed debits on every batch (measured: 190 ms a
// batch at 100,000 keyed debits).
const READ_BATCH = `SELECT
  (SELECT coalesce(json_agg(h ORDER BY h.id), '[]'::json) FROM holds h
   WHERE h.status = 'active' AND h.expires_at <= $2
     AND h.account_id = ANY(ARRAY(SELECT json_array_elements_text($1::json)))) AS holds,
  (SELECT coalesce(json_agg(ik), '[]'::json)
   FROM json_to_recordset($3::json) AS r(a text, o text, k text)
   CROSS JOIN LATERAL (SELECT * FROM idempotency_keys AS i
                       WHERE i.account_id = r.a AND i.operation = r.o AND i.key = r.k LIMIT 1) AS ik) AS keys,
  (SELECT coalesce(json_agg(de), '[]'::json)
   FROM json_to_recordset($5::json) AS r(a text, k text)
   CROSS JOIN LATERAL (SELECT * FROM ledger_entries AS e
                       WHERE e.idempotency_key = r.k AND e.kind = 'debit' AND e.account_id || '' = r.a
                       LIMIT 1) AS de) AS deductions,
  (SELECT coalesce(json_agg(nextval(pg_get_serial_sequence('ledger_entries', 'id'))), '[]'::json)
   FROM generate_series(1, $4::int)) AS ids,
  (SELECT coalesce(json_agg(${grantArraySql('g')} ORDER BY g.id), '[]'::json) FROM grants g
   WHERE g.account_id = ANY(ARRAY(SELECT json_array_elements_text($6::json))) AND ${LIVE_GRANT}) AS grants`;

// Every write of a batch in one statement. The guards are the single-row statements' own: an
// update applies only on the version read and only if available stays >= min(0, available
// before); a hold closes only if still active; duplicates are met with DO NOTHING and counted.
const WRITE_BATCH = `WITH
new_accounts AS (
  INSERT INTO accounts (${ACCOUNT_COLUMNS})
  SELECT v.id, v.plan, v.allocation, v.purchased, v.promotional, v.debt, v.held, v.used, v.rolled, v.anchor,
    v.cstart, v.lreset, v.driver, v.created, v.updated, 1
  FROM json_to_recordset($1::json) AS v(id text, plan text, allocation bigint, purchased bigint,
    promotional bigint, debt bigint, held bigint, used bigint, rolled bigint, anchor bigint, cstart bigint,
    lreset bigint, driver text, created bigint, updated bigint, exempt boolean)
  WHERE v.exempt OR v.allocation + v.purchased + v.promotional - v.debt - v.held >= 0
  ON CONFLICT (id) DO NOTHING
  RETURNING 1),
moves AS MATERIALIZED (
  SELECT * FROM json_to_recordset($2::json) AS v(id text, plan text, da bigint, dp bigint, dpr bigint, dd bigint,
    dh bigint, used bigint, rolled bigint, anchor bigint, cstart bigint, lreset bigint, driver text,
    updated bigint, version bigint, exempt boolean, catchup bigint)),
updated AS (
  UPDATE accounts AS a SET ${accountSetSql(recordMoveSql('v'), 'a')}
  FROM moves AS v
  WHERE a.id = v.id AND a.id = ANY(ARRAY(SELECT id FROM moves))
    AND a.version = v.version
    AND ${accountGuardSql(recordMoveSql('v'), 'LEAST', 'a')}
  RETURNING 1),
new_grants AS (
  INSERT INTO grants (${GRANT_COLUMNS})
  OVERRIDING SYSTEM VALUE
  SELECT v.id, v.account_id, v.category, v.tokens, v.remaining, v.priority, v.effective_at, v.expires_at,
    v.source, v.reference, v.status, v.reason, v.actor, v.created_at, v.closed_at
  FROM json_to_recordset($7::json) AS v(id bigint, account_id text, category text, tokens bigint,
    remaining bigint, priority bigint, effective_at bigint, expires_at bigint, source text, reference text,
    status text, reason text, actor text, created_at bigint, closed_at bigint)
  RETURNING 1),
draws AS MATERIALIZED (
  SELECT * FROM json_to_recordset($8::json) AS u(id bigint, account_id text, delta bigint, from_status text,
    to_status text, closed_at bigint)),
moved_grants AS (
  UPDATE grants AS g SET remaining = g.remaining + u.delta, status = u.to_status, closed_at = u.closed_at
  FROM draws AS u
  WHERE g.id = u.id AND g.id = ANY(ARRAY(SELECT id FROM draws))
    AND g.account_id = u.account_id AND g.status = u.from_status
    AND g.remaining + u.delta BETWEEN 0 AND g.tokens
  RETURNING 1),
closings AS MATERIALIZED (
  SELECT * FROM json_to_recordset($3::json) AS c(id bigint, from_status text, status text, charged bigint,
    closed_at bigint)),
closed AS (
  UPDATE holds AS h SET status = c.status, charged = c.charged, closed_at = c.closed_at
  FROM closings AS c
  WHERE h.id = c.id AND h.id = ANY(ARRAY(SELECT id FROM closings))
    AND h.status = c.from_status AND (h.member_id IS NULL OR c.status = 'expired')
  RETURNING 1),
new_holds AS (
  INSERT INTO holds (id, account_id, amount, feature, status, charged, created_at, expires_at, closed_at,
    idempotency_key, pool_hold, pool_amount, member_id)
  OVERRIDING SYSTEM VALUE
  SELECT * FROM json_to_recordset($4::json) AS v(id bigint, account_id text, amount bigint, feature text,
    status text, charged bigint, created_at bigint, expires_at bigint, closed_at bigint, idempotency_key text,
    pool_hold bigint, pool_amount bigint, member_id text)
  RETURNING 1),
new_entries AS (
  INSERT INTO ledger_entries (id, ${POOLED_ENTRY_COLUMNS})
  OVERRIDING SYSTEM VALUE
  SELECT v.id, v.account_id, v.kind, v.amount, v.allocation_delta, v.purchased_delta, v.promotional_delta,
    v.debt_delta, v.grant_moves, v.balance_after, v.feature, v.quantity, v.idempotency_key, v.source, v.reference,
    v.reason, v.actor, v.at, v.held_after, v.pool_id, v.member_id, coalesce(v.pooled, 0)
  FROM json_to_recordset($5::json) AS v(id bigint, account_id text, kind text, amount bigint,
    allocation_delta bigint, purchased_delta bigint, promotional_delta bigint, debt_delta bigint,
    grant_moves text, balance_after bigint, feature text, quantity bigint, idempotency_key text, source text,
    reference text, reason text, actor text, at bigint, held_after bigint, pool_id text, member_id text,
    pooled bigint)
  ON CONFLICT (kind, source, reference) WHERE reference IS NOT NULL DO NOTHING
  RETURNING 1),
new_keys AS (
  INSERT INTO idempotency_keys (account_id, operation, key, fingerprint, response, created_at)
  SELECT * FROM json_to_recordset($6::json) AS v(account_id text, operation text, key text, fingerprint text,
    response text, created_at bigint)
  ON CONFLICT (account_id, operation, key) DO NOTHING
  RETURNING 1),
${eventsCte('$9')}
SELECT (SELECT count(*) FROM new_accounts) AS new_accounts, (SELECT count(*) FROM updated) AS updated,
  (SELECT count(*) FROM closed) AS closed, (SELECT count(*) FROM new_holds) AS new_holds,
  (SELECT count(*) FROM new_entries) AS new_entries, (SELECT count(*) FROM new_keys) AS new_keys,
  (SELECT count(*) FROM new_grants) AS new_grants, (SELECT count(*) FROM moved_grants) AS moved_grants,
  ${EVENTS_WRITTEN}`;

/**
 * Locks the batch's accounts and reads what it needs; an account's grants come from `cache` when
 * its locked row is at the version remembered there, else with the batch's read.
 */
export async function openBatch(q: PgQueryable, read: BatchRead, cache: GrantCache): Promise<BatchSnapshot> {
  const locked =
    read.accounts.length === 0
      ? []
      : await q.query(LOCK_ACCOUNTS, [JSON.stringify(read.accounts)], 'tokenmeter_lock_accounts');
  // Members before their pools, as every writer takes them; the ids below are drawn after both.
  if (read.pools.length > 0) {
    locked.push(...(await q.query(LOCK_ACCOUNTS, [JSON.stringify(read.pools)], 'tokenmeter_lock_accounts')));
  }
  const all = [...read.accounts, ...read.pools];
  const cached = locked.map((r) => cache.get(str(r, 'id'), int(r, 'version')));
  const missing = locked.filter((_, i) => cached[i] === undefined).map((r) => str(r, 'id'));
  const [row] = await q.query(
    READ_BATCH,
    [
      JSON.stringify(all),
      read.holdsUntil,
      JSON.stringify(read.keys.map((r) => ({ a: r.account, o: r.operation, k: r.key }))),
      read.entryIds,
      JSON.stringify(read.deductions.map((r) => ({ a: r.account, k: r.key }))),
      JSON.stringify(missing),
    ],
    // Unnamed, so planned for each batch: a prepared statement's cached generic plan for the
    // keyed-debit lookups, made while the ledger was small, cost ~200 ms a batch on one hot
    // account (bench: 31,000/s unnamed against 3,300/s prepared); planning it takes ~0.3 ms.
  );
  if (!row) throw new Error('batch read returned no row');
  const grants = new Map<string, Grant[]>();
  for (const g of jsonRows(row.grants).map(toGrantFromArray)) {
    const list = grants.get(g.account);
    if (list) list.push(g);
    else grants.set(g.account, [g]);
  }
  const accounts: AccountState[] = locked.map((r, i) => {
    const hit = cached[i];
    return toAccount(r, hit ? [...hit] : (grants.get(str(r, 'id')) ?? []));
  });
  return {
    accounts,
    holds: jsonRows(row.holds).map(toHold),
    keys: jsonRows(row.keys).map(toIdempotency),
    deductions: jsonRows(row.deductions).map(toKeyedDebit),
    entryIds: jsonRows(row.ids)
      .map((id) => Number(id))
      .sort((a, b) => a - b),
  };
}

export async function allocateIds(q: PgQueryable, table: IdTable, count: number): Promise<number[]> {
  // Sequence values are never handed out twice, whichever process asks; unused ones are gaps.
  const rows = await q.query(
    `SELECT nextval(pg_get_serial_sequence('${table}', 'id')) AS id FROM generate_series(1, $1::int) ORDER BY 1`,
    [count],
  );
  return rows.map((row) => int(row, 'id'));
}

/** Writes the batch in one statement; true when its events went with it (see `eventRows`). */
export async function writeBatch(q: PgQueryable, w: BatchWrite): Promise<boolean> {
  const grantRows = [
    ...w.created.map(({ state }) => grantChanges(null, state)),
    ...w.changes.map(({ before, after }) => grantChanges(before, after)),
  ];
  const newGrants = grantRows.flatMap((c) => c.inserts);
  const movedGrants = grantRows.flatMap((c) => c.updates);
  // The batch's events ride in the same statement, unless one needs the careful path (a reminder).
  const events = eventRows(w.events);
  const [row] = await q.query(
    WRITE_BATCH,
    [
      JSON.stringify(
        w.created.map(({ state: s, guard }) => ({
          id: s.id,
          plan: s.plan,
          allocation: s.allocation,
          purchased: s.purchased,
          promotional: s.promotional,
          debt: s.debt,
          held: s.held,
          used: s.usedThisCycle,
          rolled: s.rolledOver,
          anchor: s.cycleAnchor,
          cstart: s.cycleStart,
          lreset: s.lastReset,
          driver: s.cycleDriver,
          created: s.createdAt,
          updated: s.updatedAt,
          exempt: guard === 'exempt',
        })),
      ),
      JSON.stringify(w.changes.map(accountMoveRecord)),
      JSON.stringify(
        w.closures.map((c) => ({
          id: c.id,
          from_status: c.from,
          status: c.status,
          charged: c.charged,
          closed_at: c.closedAt,
        })),
      ),
      JSON.stringify(
        w.holds.map((h) => ({
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
          pool_hold: h.poolHold,
          pool_amount: h.poolAmount,
          member_id: h.member,
        })),
      ),
      JSON.stringify(
        w.entries.map((e) => ({
          id: e.id,
          account_id: e.account,
          kind: e.kind,
          amount: e.amount,
          allocation_delta: e.allocationDelta,
          purchased_delta: e.purchasedDelta,
          promotional_delta: e.promotionalDelta,
          debt_delta: e.debtDelta,
          grant_moves: encodeGrantMoves(e.grantMoves),
          balance_after: e.balanceAfter,
          feature: e.feature,
          quantity: e.quantity,
          idempotency_key: e.idempotencyKey,
          source: e.source,
          reference: e.reference,
          reason: e.reason,
          actor: e.actor,
          at: e.at,
          held_after: e.heldAfter,
          // Only a pool's use carries these (absent keys are null; pooled's default is 0).
          ...(isPooledEntry(e)
            ? { pool_id: e.poolId ?? null, member_id: e.memberId ?? null, pooled: e.pooled ?? 0 }
            : {}),
        })),
      ),
      JSON.stringify(
        w.keys.map((r) => ({
          account_id: r.account,
          operation: r.operation,
          key: r.key,
          fingerprint: r.fingerprint,
          response: r.response,
          created_at: r.createdAt,
        })),
      ),
      JSON.stringify(
        newGrants.map((g) => ({
          id: g.id,
          account_id: g.account,
          category: g.category,
          tokens: g.tokens,
          remaining: g.remaining,
          priority: g.priority,
          effective_at: g.effectiveAt,
          expires_at: g.expiresAt,
          source: g.source,
          reference: g.reference,
          status: g.status,
          reason: g.reason,
          actor: g.actor,
          created_at: g.createdAt,
          closed_at: g.closedAt,
        })),
      ),
      JSON.stringify(
        movedGrants.map((u) => ({
          id: u.id,
          account_id: u.account,
          delta: u.delta,
          from_status: u.from,
          to_status: u.to,
          closed_at: u.closedAt,
        })),
      ),
      events ?? '[]',
    ],
    'tokenmeter_write_batch',
  );
  if (!row) throw new Error('batch write returned no row');
  if (int(row, 'updated') !== w.changes.length || int(row, 'moved_grants') !== movedGrants.length) {
    throw new WriteConflictError('an account changed under the batch or would overdraw');
  }
  // Lost races with another process (an account, a referenced entry or a key written first, a
  // hold settled first): the transaction re-runs, and the re-run sees what the other one wrote.
  const raced =
    int(row, 'new_accounts') !== w.created.length ||
    int(row, 'closed') !== w.closures.length ||
    int(row, 'new_holds') !== w.holds.length ||
    int(row, 'new_entries') !== w.entries.length ||
    int(row, 'new_keys') !== w.keys.length ||
    int(row, 'new_grants') !== newGrants.length;
  if (raced) throw new RetryableConflictError('another transaction wrote first');
  if (int(row, 'new_events') !== (events === null ? 0 : w.events.length)) {
    throw new Error(`the batch wrote ${int(row, 'new_events')} of its ${w.events.length} events`);
  }
  return events !== null;
}
