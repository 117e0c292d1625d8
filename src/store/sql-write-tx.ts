import type { AccountState } from '../core/account-state.ts';
import type { EntryDraft, EntryKind, LedgerEntry } from '../core/entry.ts';
import type { EventDraft } from '../core/event.ts';
import type { Grant } from '../core/grant.ts';
import type { Hold, HoldClosure, NewHold } from '../core/hold.ts';
import { type AccountMoveSql, accountGuardSql, accountMoveRecord, accountSetSql } from './account-update-sql.ts';
import { type GrantChanges, grantChanges } from './grant-changes.ts';
import type { PaymentTx } from './payment-tx.ts';
import type { PoolTx } from './pool-tx.ts';
import { ALLOCATION_GRANTS_SQL, takeBackStepsSql } from './rare-entry-sql.ts';
import type { RecoveryTx } from './recovery-tx.ts';
import {
  ACCOUNT_COLUMNS,
  ACCOUNT_READ_COLUMNS,
  ENTRY_INSERT_COLUMNS,
  entryCells,
  GRANT_COLUMNS,
  grantCells,
  int,
  isPooledEntry,
  LIVE_GRANT,
  POOLED_ENTRY_COLUMNS,
  pooledEntryCells,
  type Row,
  toAccount,
  toEntry,
  toGrant,
  toHold,
  toIdempotency,
  toKeyedDebit,
} from './rows.ts';
import type { SqlDialect, SqlValue } from './sql-dialect.ts';
import { writeEvents } from './sql-events-tx.ts';
import { SqlPoolTx } from './sql-pool-tx.ts';
import { SqlTopupTx } from './sql-topup-tx.ts';
import type {
  BatchRead,
  BatchSnapshot,
  BatchWrite,
  IdempotencyRecord,
  IdTable,
  KeyedDebit,
  OverdraftGuard,
  WriteTx,
} from './store.ts';
import type { TopupTx } from './topup-tx.ts';
import { WriteConflictError } from './write-conflict.ts';

/**
 * The little each backend supplies to a write transaction: one statement with `?` placeholders
 * inside it, the error a write another transaction beat raises (re-run on PostgreSQL), and its
 * dialect.
 */
export interface WriteSql {
  query(sql: string, params: readonly SqlValue[]): Promise<Row[]>;
  conflict(message: string): Error;
  readonly dialect: SqlDialect;
}

/** The fixed statements of a write transaction, built once per dialect. */
interface WriteStatements {
  lockAccount: string;
  liveGrants: string;
  insertGrant: string;
  updateGrant: string;
  findDeduction: string;
  lockHoldOwner: string;
  insertAccount: string;
  updateAccount: string;
  insertEntry: string;
  insertPooledEntry: string;
  saveIdempotency: string;
}

function buildStatements(d: SqlDialect): WriteStatements {
  const text = d.typed('text');
  const big = d.typed('bigint');
  // A duplicate only another transaction can have written is met with DO NOTHING, not an
  // aborted transaction; where writers are serialized it is a bug and raises.
  const skipRaced = (target: string) => (d.concurrentWriters ? `ON CONFLICT ${target} DO NOTHING` : '');
  // One account's move (`updateAccount` binds its values in the statement's order).
  const move: AccountMoveSql = {
    plan: '?',
    da: big,
    dp: big,
    dpr: big,
    dd: big,
    dh: big,
    used: '?',
    rolled: '?',
    anchor: '?',
    cstart: '?',
    lreset: '?',
    driver: '?',
    updated: '?',
    exempt: d.flag,
    catchUp: big,
  };
  return {
    lockAccount: `SELECT ${ACCOUNT_READ_COLUMNS} FROM accounts WHERE id = ?${d.concurrentWriters ? ' FOR UPDATE' : ''}`,
    // Read after the account's lock, which every writer of its grants holds.
    liveGrants: `SELECT ${GRANT_COLUMNS} FROM grants WHERE account_id = ? AND ${LIVE_GRANT}
ORDER BY id`,
    insertGrant: `INSERT INTO grants (${GRANT_COLUMNS}) ${d.explicitId}
VALUES (${Array(15).fill('?').join(', ')})`,
    // A draw, a return, an expiry or a void, as a delta guarded in the write: the grant must still
    // have the status the decision read, and stay within 0..tokens (also a CHECK).
    updateGrant: `UPDATE grants SET remaining = remaining + ${big}, status = ?, closed_at = ${big}
WHERE id = ? AND account_id = ? AND status = ? AND remaining + ${big} BETWEEN 0 AND tokens
RETURNING id`,
    // One keyed deduction's debit. SQLite answers it from the partial UNIQUE index
    // ledger_entries_deduction_key; on PostgreSQL `notIndexed` keeps it on the (idempotency_key,
    // account_id) index, never a walk of the account's own entries (see READ_BATCH in pg-batch-writes.ts).
    findDeduction: `SELECT * FROM ledger_entries
WHERE ${d.notIndexed('account_id')} = ? AND idempotency_key = ? AND kind = 'debit'`,
    lockHoldOwner: 'SELECT a.id FROM accounts a JOIN holds h ON h.account_id = a.id WHERE h.id = ? FOR UPDATE OF a',
    // The guard is evaluated in the statement: unless exempt, an account may not open below zero.
    insertAccount: `INSERT INTO accounts (${ACCOUNT_COLUMNS})
SELECT ${text}, ${text}, ${big}, ${big}, ${big}, ${big}, ${big}, ${big}, ${big}, ${big}, ${big},
  ${big}, ${text}, ${big}, ${big}, 1
WHERE ${d.flag} OR ${big} + ${big} + ${big} - ${big} - ${big} >= 0
${skipRaced('(id)')}
RETURNING id`,
    // The guard is evaluated by the database on the row as it is (see account-update-sql.ts).
    updateAccount: `UPDATE accounts SET ${accountSetSql(move)}
WHERE id = ? AND version = ? AND ${accountGuardSql(move, d.least)}
RETURNING version`,
    insertEntry: `INSERT INTO ledger_entries (${ENTRY_INSERT_COLUMNS})
VALUES (${Array(18).fill('?').join(', ')})
${skipRaced('(kind, source, reference) WHERE reference IS NOT NULL')}
RETURNING id`,
    insertPooledEntry: `INSERT INTO ledger_entries (${POOLED_ENTRY_COLUMNS})
VALUES (${Array(21).fill('?').join(', ')})
${skipRaced('(kind, source, reference) WHERE reference IS NOT NULL')}
RETURNING id`,
    saveIdempotency: `INSERT INTO idempotency_keys (account_id, operation, key, fingerprint, response, created_at)
VALUES (?, ?, ?, ?, ?, ?)
${skipRaced('(account_id, operation, key)')}
RETURNING key`,
  };
}

const STATEMENTS = new WeakMap<SqlDialect, WriteStatements>();

function statementsOf(d: SqlDialect): WriteStatements {
  let statements = STATEMENTS.get(d);
  if (!statements) {
    statements = buildStatements(d);
    STATEMENTS.set(d, statements);
  }
  return statements;
}

/**
 * The write operations of one transaction, written once for both backends. On PostgreSQL (READ
 * COMMITTED) the account row lock taken by `lockAccount` serializes every writer of that
 * account and each later statement sees what the previous lock holder committed; on SQLite the
 * caller holds BEGIN IMMEDIATE. The group-commit methods stay with each backend.
 */
export abstract class SqlWriteTx implements WriteTx {
  protected readonly sql: WriteSql;
  private readonly statements: WriteStatements;
  abstract readonly payments: PaymentTx;
  abstract readonly recovery: RecoveryTx;
  readonly topups: TopupTx;
  readonly pools: PoolTx;

  constructor(sql: WriteSql) {
    this.sql = sql;
    this.topups = new SqlTopupTx(sql.query, sql.dialect);
    this.pools = new SqlPoolTx(sql.query, sql.dialect);
    this.statements = statementsOf(sql.dialect);
  }

  abstract openBatch(read: BatchRead): Promise<BatchSnapshot>;
  abstract allocateIds(table: IdTable, count: number): Promise<number[]>;
  abstract writeBatch(write: BatchWrite): Promise<void>;

  async lockAccount(id: string): Promise<AccountState | undefined> {
    // On SQLite BEGIN IMMEDIATE already holds the database's write lock: the row cannot change under us.
    const [row] = await this.sql.query(this.statements.lockAccount, [id]);
    if (!row) return undefined;
    const grants = await this.sql.query(this.statements.liveGrants, [id]);
    return toAccount(row, grants.map(toGrant));
  }

  async grantsById(account: string, ids: readonly number[]): Promise<Grant[]> {
    if (ids.length === 0) return [];
    const rows = await this.sql.query(
      `SELECT ${GRANT_COLUMNS} FROM grants WHERE account_id = ? AND id IN (${ids.map(() => '?').join(', ')}) ORDER BY id`,
      [account, ...ids],
    );
    return rows.map(toGrant);
  }

  async findGrant(account: string, source: string, reference: string): Promise<Grant | undefined> {
    const [row] = await this.sql.query(
      `SELECT ${GRANT_COLUMNS} FROM grants WHERE account_id = ? AND source = ? AND reference = ?`,
      [account, source, reference],
    );
    return row ? toGrant(row) : undefined;
  }

  async takeBackSteps(account: string, source: string, prefix: string): Promise<LedgerEntry[]> {
    const rows = await this.sql.query(takeBackStepsSql(this.sql.dialect), [
      account,
      source,
      [...prefix].length,
      prefix,
    ]);
    return rows.map(toEntry);
  }

  grantIds(count: number): Promise<number[]> {
    return count === 0 ? Promise.resolve([]) : this.allocateIds('grants', count);
  }

  /** New grant rows, with the ids `grantIds` reserved. */
  protected async insertGrants(grants: readonly Grant[]): Promise<void> {
    for (const g of grants) await this.sql.query(this.statements.insertGrant, grantCells(g));
  }

  /** Writes what an account's move does to its grants: new rows, then guarded deltas. */
  protected async writeGrants(account: string, changes: GrantChanges): Promise<void> {
    await this.insertGrants(changes.inserts);
    for (const u of changes.updates) {
      const rows = await this.sql.query(this.statements.updateGrant, [
        u.delta,
        u.to,
        u.closedAt,
        u.id,
        account,
        u.from,
        u.delta,
      ]);
      if (rows.length !== 1) throw new WriteConflictError(`grant ${u.id} changed under its account's lock`);
    }
  }

  async findIdempotency(account: string, operation: string, key: string): Promise<IdempotencyRecord | undefined> {
    const [row] = await this.sql.query(
      'SELECT * FROM idempotency_keys WHERE account_id = ? AND operation = ? AND key = ?',
      [account, operation, key],
    );
    return row ? toIdempotency(row) : undefined;
  }

  async findDeduction(account: string, key: string): Promise<KeyedDebit | undefined> {
    // After lockAccount: a new statement sees the debit of any transaction that held the lock
    // before us. (A debit raced in by an account's creation hits the unique index: retried.)
    const [row] = await this.sql.query(this.statements.findDeduction, [account, key]);
    return row ? toKeyedDebit(row) : undefined;
  }

  async findEntryByReference(kind: EntryKind, source: string, reference: string): Promise<LedgerEntry | undefined> {
    const [row] = await this.sql.query('SELECT * FROM ledger_entries WHERE kind = ? AND source = ? AND reference = ?', [
      kind,
      source,
      reference,
    ]);
    return row ? toEntry(row) : undefined;
  }

  async allocationGrantsSince(account: string, since: number): Promise<LedgerEntry[]> {
    const rows = await this.sql.query(ALLOCATION_GRANTS_SQL, [account, since]);
    return rows.map(toEntry);
  }

  async getHold(id: number): Promise<Hold | undefined> {
    if (this.sql.dialect.concurrentWriters) {
      // Settling reads the hold before it loads the account. Lock the owning account first (the
      // order every writer uses: account, then its holds), then read the hold in a new statement,
      // which sees what the previous lock holder committed: two settlements of one hold cannot
      // both find it active.
      const [owner] = await this.sql.query(this.statements.lockHoldOwner, [id]);
      if (!owner) return undefined;
    }
    const [row] = await this.sql.query('SELECT * FROM holds WHERE id = ?', [id]);
    return row ? toHold(row) : undefined;
  }

  async expiredHolds(account: string, now: number): Promise<Hold[]> {
    const rows = await this.sql.query(
      "SELECT * FROM holds WHERE account_id = ? AND status = 'active' AND expires_at <= ? ORDER BY id",
      [account, now],
    );
    return rows.map(toHold);
  }

  async insertAccount(s: AccountState, guard: OverdraftGuard): Promise<void> {
    const rows = await this.sql.query(this.statements.insertAccount, [
      s.id,
      s.plan,
      s.allocation,
      s.purchased,
      s.promotional,
      s.debt,
      s.held,
      s.usedThisCycle,
      s.rolledOver,
      s.cycleAnchor,
      s.cycleStart,
      s.lastReset,
      s.cycleDriver,
      s.createdAt,
      s.updatedAt,
      guard === 'exempt',
      s.allocation,
      s.purchased,
      s.promotional,
      s.debt,
      s.held,
    ]);
    if (rows.length === 1) {
      await this.writeGrants(s.id, grantChanges(null, s));
      return;
    }
    // Nothing inserted: either the guard refused, or (with concurrent writers) another transaction
    // created the account after our lockAccount found none (its commit is visible to this new statement).
    if (this.sql.dialect.concurrentWriters) {
      const exists = await this.sql.query('SELECT 1 FROM accounts WHERE id = ?', [s.id]);
      if (exists.length > 0) throw this.sql.conflict(`account ${s.id} was created concurrently`);
    }
    throw new WriteConflictError(`account ${s.id} would open below zero`);
  }

  async updateAccount(before: AccountState, after: AccountState, guard: OverdraftGuard, catchUp = 0): Promise<void> {
    const r = accountMoveRecord({ before, after, guard, catchUp });
    // Bound in the statement's order: the SET's values, id and version, then the guard's.
    const rows = await this.sql.query(this.statements.updateAccount, [
      r.plan,
      r.da,
      r.dp,
      r.dpr,
      r.dd,
      r.dh,
      r.used,
      r.rolled,
      r.anchor,
      r.cstart,
      r.lreset,
      r.driver,
      r.updated,
      r.id,
      r.version,
      r.exempt,
      r.da,
      r.dp,
      r.dpr,
      r.dd,
      r.dh,
      r.catchup,
    ]);
    if (rows.length !== 1) {
      throw new WriteConflictError(`account ${before.id} changed since version ${before.version} or would overdraw`);
    }
    await this.writeGrants(before.id, grantChanges(before, after));
  }

  async insertEntries(entries: readonly EntryDraft[]): Promise<number[]> {
    const ids: number[] = [];
    for (const e of entries) {
      const [row] = isPooledEntry(e)
        ? await this.sql.query(this.statements.insertPooledEntry, pooledEntryCells(e))
        : await this.sql.query(this.statements.insertEntry, entryCells(e));
      if (!row) throw this.sql.conflict(`${e.kind} ${e.source}/${e.reference} was recorded by another transaction`);
      ids.push(int(row, 'id'));
    }
    return ids;
  }

  insertEvents(events: readonly EventDraft[]): Promise<void> {
    return writeEvents(this.sql, events);
  }

  async insertHold(h: NewHold): Promise<number> {
    const [row] = await this.sql.query(
      `INSERT INTO holds (account_id, amount, feature, created_at, expires_at, idempotency_key, pool_hold,
         pool_amount, member_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      [h.account, h.amount, h.feature, h.createdAt, h.expiresAt, h.idempotencyKey, h.poolHold, h.poolAmount, h.member],
    );
    if (!row) throw new Error('hold insert returned no id');
    return int(row, 'id');
  }

  async closeHolds(closures: readonly HoldClosure[]): Promise<void> {
    for (const c of closures) {
      // A pool's hold (member_id set) only expires alone: it is committed or released only with
      // the member's hold that names it, already closed to the same status by this write, so its
      // tokens never move without the member's hold and membership (see pool-settle.ts).
      const rows = await this.sql.query(
        `UPDATE holds SET status = ?, charged = ?, closed_at = ? WHERE id = ? AND status = ?
           AND (member_id IS NULL OR ? = 'expired'
             OR EXISTS (SELECT 1 FROM holds AS m WHERE m.id = ? AND m.pool_hold = holds.id AND m.status = ?))
         RETURNING id`,
        [c.status, c.charged, c.closedAt, c.id, c.from, c.status, c.memberHold ?? null, c.status],
      );
      // Holds close under their account's lock, which getHold takes too, so this is not
      // expected; if it happens on PostgreSQL, a re-run sees the hold as it is.
      if (rows.length !== 1) {
        throw this.sql.conflict(`hold ${c.id} is no longer ${c.from}, or is a pool's hold closed without its member's`);
      }
    }
  }

  async saveIdempotency(r: IdempotencyRecord): Promise<void> {
    const rows = await this.sql.query(this.statements.saveIdempotency, [
      r.account,
      r.operation,
      r.key,
      r.fingerprint,
      r.response,
      r.createdAt,
    ]);
    // Another transaction answered this key first: re-run, and the re-run replays its answer.
    if (rows.length !== 1) throw this.sql.conflict(`idempotency key ${r.key} was used concurrently`);
  }
}
