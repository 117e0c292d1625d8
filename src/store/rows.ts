import type { AccountState, CycleDriver } from '../core/account-state.ts';
import type { EntryDraft, EntryKind, LedgerEntry } from '../core/entry.ts';
import { TokenmeterError } from '../core/errors.ts';
import type { Grant, GrantCategory, GrantMove, GrantStatus } from '../core/grant.ts';
import type { Hold, HoldStatus } from '../core/hold.ts';
import type { IdempotencyRecord, KeyedDebit } from './store.ts';

/** A row as a driver returns it: column name to value. */
export type Row = Record<string, unknown>;

/** The accounts table's columns, in the order both stores select and insert them. */
export const ACCOUNT_COLUMNS = `id, plan, allocation, purchased, promotional, debt, held, used_this_cycle, rolled_over,
  cycle_anchor, cycle_start, last_reset, cycle_driver, created_at, updated_at, version`;

/** What every read of an account selects: the written columns, and what only its own statements set. */
export const ACCOUNT_READ_COLUMNS = `${ACCOUNT_COLUMNS}, low_balance_threshold, topup_threshold, pool_id`;

/** The grants table's columns, in the order both stores select and insert them. */
export const GRANT_COLUMNS = `id, account_id, category, tokens, remaining, priority, effective_at, expires_at, source,
  reference, status, reason, actor, created_at, closed_at`;

/** A PostgreSQL json column holding an array of rows, as node-postgres (parsed) or PGlite (text) returns it. */
export function jsonRows(value: unknown): Row[] {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (!Array.isArray(parsed)) throw new TypeError('expected a JSON array');
  return parsed as Row[];
}

/** A PostgreSQL json column holding one row or null, as node-postgres (parsed) or PGlite (text) returns it. */
export function jsonRow(value: unknown): Row | null {
  const parsed: unknown = typeof value === 'string' ? JSON.parse(value) : value;
  if (parsed === null || parsed === undefined) return null;
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new TypeError('expected a JSON object');
  return parsed as Row;
}

/**
 * Reads an integer column. Drivers return 64-bit integers as numbers, bigints or strings;
 * each is accepted only when it is an exact safe integer, never truncated by accident.
 */
export function int(row: Row, column: string): number {
  const value = row[column];
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  if (
    typeof value === 'bigint' &&
    value >= BigInt(Number.MIN_SAFE_INTEGER) &&
    value <= BigInt(Number.MAX_SAFE_INTEGER)
  ) {
    return Number(value);
  }
  if (typeof value === 'string' && /^-?\d{1,16}$/.test(value)) {
    const n = Number(value);
    if (Number.isSafeInteger(n)) return n;
  }
  throw new RangeError(`column ${column}: expected a safe integer, got ${String(value)}`);
}

export function intOrNull(row: Row, column: string): number | null {
  return row[column] === null || row[column] === undefined ? null : int(row, column);
}

export function str(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new TypeError(`column ${column}: expected text, got ${String(value)}`);
  return value;
}

export function strOrNull(row: Row, column: string): string | null {
  return row[column] === null || row[column] === undefined ? null : str(row, column);
}

/** An account row; its grants are read apart (`grants` when the caller has them). */
export function toAccount(row: Row, grants: Grant[] = []): AccountState {
  return {
    id: str(row, 'id'),
    plan: str(row, 'plan'),
    allocation: int(row, 'allocation'),
    purchased: int(row, 'purchased'),
    promotional: int(row, 'promotional'),
    debt: int(row, 'debt'),
    grants,
    held: int(row, 'held'),
    usedThisCycle: int(row, 'used_this_cycle'),
    rolledOver: int(row, 'rolled_over'),
    cycleAnchor: int(row, 'cycle_anchor'),
    cycleStart: int(row, 'cycle_start'),
    lastReset: intOrNull(row, 'last_reset'),
    cycleDriver: str(row, 'cycle_driver') as CycleDriver,
    createdAt: int(row, 'created_at'),
    updatedAt: int(row, 'updated_at'),
    version: int(row, 'version'),
    lowBalanceThreshold: intOrNull(row, 'low_balance_threshold'),
    topupThreshold: intOrNull(row, 'topup_threshold'),
    poolId: strOrNull(row, 'pool_id'),
  };
}

export function toEntry(row: Row): LedgerEntry {
  return {
    id: int(row, 'id'),
    account: str(row, 'account_id'),
    kind: str(row, 'kind') as EntryKind,
    amount: int(row, 'amount'),
    allocationDelta: int(row, 'allocation_delta'),
    purchasedDelta: int(row, 'purchased_delta'),
    promotionalDelta: int(row, 'promotional_delta'),
    debtDelta: int(row, 'debt_delta'),
    grantMoves: decodeGrantMoves(str(row, 'grant_moves')),
    balanceAfter: int(row, 'balance_after'),
    feature: strOrNull(row, 'feature'),
    quantity: intOrNull(row, 'quantity'),
    idempotencyKey: strOrNull(row, 'idempotency_key'),
    source: strOrNull(row, 'source'),
    reference: strOrNull(row, 'reference'),
    reason: strOrNull(row, 'reason'),
    actor: strOrNull(row, 'actor'),
    at: int(row, 'at'),
    poolId: strOrNull(row, 'pool_id'),
    memberId: strOrNull(row, 'member_id'),
    pooled: int(row, 'pooled'),
  };
}

/** Grant moves as stored: a JSON array of [grant id, delta] pairs. */
export function encodeGrantMoves(moves: readonly GrantMove[]): string {
  // A debit usually draws from one grant: written directly (JSON of two safe integers).
  const [only] = moves;
  if (moves.length === 1 && only) return `[[${only.grant},${only.delta}]]`;
  return JSON.stringify(moves.map((m) => [m.grant, m.delta]));
}

export function decodeGrantMoves(text: string): GrantMove[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new TypeError('grant_moves: expected a JSON array');
  return parsed.map((pair: unknown) => {
    if (!Array.isArray(pair) || !Number.isSafeInteger(pair[0]) || !Number.isSafeInteger(pair[1])) {
      throw new TypeError(`grant_moves: expected [id, delta] pairs, got ${JSON.stringify(pair)}`);
    }
    return { grant: pair[0] as number, delta: pair[1] as number };
  });
}

export function toGrant(row: Row): Grant {
  return {
    id: int(row, 'id'),
    account: str(row, 'account_id'),
    category: str(row, 'category') as GrantCategory,
    tokens: int(row, 'tokens'),
    remaining: int(row, 'remaining'),
    priority: int(row, 'priority'),
    effectiveAt: int(row, 'effective_at'),
    expiresAt: intOrNull(row, 'expires_at'),
    source: str(row, 'source'),
    reference: str(row, 'reference'),
    status: str(row, 'status') as GrantStatus,
    reason: strOrNull(row, 'reason'),
    actor: strOrNull(row, 'actor'),
    createdAt: int(row, 'created_at'),
    closedAt: intOrNull(row, 'closed_at'),
  };
}

/** The grants a write may change (see `AccountState.grants`): scheduled, active with tokens left, and open included ones. */
export const LIVE_GRANT = "(status = 'scheduled' OR (status = 'active' AND (remaining > 0 OR category = 'included')))";

/** `LIVE_GRANT` for a grant in memory (a property test holds the two equal). */
export function isLiveGrant(g: Pick<Grant, 'status' | 'remaining' | 'category'>): boolean {
  return g.status === 'scheduled' || (g.status === 'active' && (g.remaining > 0 || g.category === 'included'));
}

const GRANT_COLUMN_NAMES = GRANT_COLUMNS.split(',').map((c) => c.trim());

/** GRANT_COLUMNS as SQL values of `alias`, for a JSON array per grant (smaller than a JSON object). */
export function grantArraySql(alias: string): string {
  return `json_build_array(${GRANT_COLUMN_NAMES.map((c) => `${alias}.${c}`).join(', ')})`;
}

/** A grant from the JSON array `grantArraySql` built. */
export function toGrantFromArray(value: unknown): Grant {
  if (!Array.isArray(value)) throw new TypeError('expected a grant as a JSON array');
  const row: Row = {};
  GRANT_COLUMN_NAMES.forEach((c, i) => {
    row[c] = value[i];
  });
  return toGrant(row);
}

/** A grant's values in the order of GRANT_COLUMNS. */
export function grantCells(g: Grant): Cell[] {
  return [
    g.id,
    g.account,
    g.category,
    g.tokens,
    g.remaining,
    g.priority,
    g.effectiveAt,
    g.expiresAt,
    g.source,
    g.reference,
    g.status,
    g.reason,
    g.actor,
    g.createdAt,
    g.closedAt,
  ];
}

/** Marks `held_after` on entries written before migration 6: no `held` is ever negative. */
const HELD_NOT_RECORDED = -1;

export function toKeyedDebit(row: Row): KeyedDebit {
  const heldAfter = int(row, 'held_after');
  return { ...toEntry(row), heldAfter: heldAfter === HELD_NOT_RECORDED ? null : heldAfter };
}

export function toHold(row: Row): Hold {
  return {
    id: int(row, 'id'),
    account: str(row, 'account_id'),
    amount: int(row, 'amount'),
    feature: strOrNull(row, 'feature'),
    status: str(row, 'status') as HoldStatus,
    charged: int(row, 'charged'),
    createdAt: int(row, 'created_at'),
    expiresAt: int(row, 'expires_at'),
    closedAt: intOrNull(row, 'closed_at'),
    idempotencyKey: strOrNull(row, 'idempotency_key'),
    poolHold: intOrNull(row, 'pool_hold'),
    poolAmount: int(row, 'pool_amount'),
    member: strOrNull(row, 'member_id'),
  };
}

/** History cursors are opaque to callers: the id of the last entry returned. */
export function encodeCursor(entryId: number): string {
  return Buffer.from(`e:${entryId}`).toString('base64url');
}

export function encodeAccountCursor(id: string): string {
  return Buffer.from(`a:${id}`).toString('base64url');
}

/** The account id a cursor continues after; throws invalid_request for a cursor this service did not issue. */
export function decodeAccountCursor(cursor: string): string {
  const text = Buffer.from(cursor, 'base64url').toString();
  if (!text.startsWith('a:') || text.length < 3) {
    throw new TokenmeterError('invalid_request', 'cursor: not a cursor this service issued', 'cursor');
  }
  return text.slice(2);
}

/** Like decodeCursor, but throws invalid_request instead of returning null. */
export function requireCursor(cursor: string): number {
  const id = decodeCursor(cursor);
  if (id === null) throw new TokenmeterError('invalid_request', 'cursor: not a cursor this service issued', 'cursor');
  return id;
}

export function decodeCursor(cursor: string): number | null {
  const match = /^e:(\d{1,16})$/.exec(Buffer.from(cursor, 'base64url').toString());
  return match?.[1] ? Number(match[1]) : null;
}

/** The ledger_entries columns an insert names, in `entryCells` order. */
export const ENTRY_INSERT_COLUMNS = `account_id, kind, amount, allocation_delta, purchased_delta, promotional_delta,
  debt_delta, grant_moves, balance_after, feature, quantity, idempotency_key, source, reference, reason, actor, at,
  held_after`;

/**
 * The columns of an entry a pool's use wrote, in `pooledEntryCells` order. Other entries leave
 * them to their defaults (null, null, 0), and are inserted without them: measured, binding the
 * three on every row of a batch cost the hot path ~5%.
 */
export const POOLED_ENTRY_COLUMNS = `${ENTRY_INSERT_COLUMNS}, pool_id, member_id, pooled`;

/** Whether an entry records a pool's use (it names a pool or a member, or the pool paid part of it). */
export function isPooledEntry(e: EntryDraft): boolean {
  return (e.poolId ?? null) !== null || (e.memberId ?? null) !== null || (e.pooled ?? 0) !== 0;
}

/** A value bound to a placeholder by either store. */
export type Cell = string | number | null;

/**
 * An entry's values in the order of ENTRY_INSERT_COLUMNS: account_id, kind, amount,
 * allocation_delta, purchased_delta, promotional_delta, debt_delta, grant_moves, balance_after,
 * feature, quantity, idempotency_key, source, reference, reason, actor, at, held_after.
 */
export function entryCells(e: EntryDraft): Cell[] {
  return [
    e.account,
    e.kind,
    e.amount,
    e.allocationDelta,
    e.purchasedDelta,
    e.promotionalDelta,
    e.debtDelta,
    encodeGrantMoves(e.grantMoves),
    e.balanceAfter,
    e.feature,
    e.quantity,
    e.idempotencyKey,
    e.source,
    e.reference,
    e.reason,
    e.actor,
    e.at,
    e.heldAfter,
  ];
}

/** An entry's values in the order of POOLED_ENTRY_COLUMNS. */
export function pooledEntryCells(e: EntryDraft): Cell[] {
  return [...entryCells(e), e.poolId ?? null, e.memberId ?? null, e.pooled ?? 0];
}

export function toIdempotency(row: Row): IdempotencyRecord {
  return {
    account: str(row, 'account_id'),
    operation: str(row, 'operation'),
    key: str(row, 'key'),
    fingerprint: str(row, 'fingerprint'),
    response: str(row, 'response'),
    createdAt: int(row, 'created_at'),
  };
}
