import type { AccountState } from '../../core/account-state.ts';
import type { EntryDraft, EntryKind, LedgerEntry } from '../../core/entry.ts';
import type { Hold, HoldClosure, NewHold } from '../../core/hold.ts';
import type { PaymentTx } from '../payment-tx.ts';
import type { RecoveryTx } from '../recovery-tx.ts';
import { ACCOUNT_COLUMNS, entryCells, int, toAccount, toEntry, toHold, toIdempotency, toKeyedDebit } from '../rows.ts';
import { SqlRecoveryTx } from '../sql-recovery-tx.ts';
import type {
  BatchRead,
  BatchSnapshot,
  BatchWrite,
  IdempotencyRecord,
  KeyedDebit,
  OverdraftGuard,
  WriteTx,
} from '../store.ts';
import { WriteConflictError } from '../write-conflict.ts';
import * as batch from './sqlite-batch-writes.ts';
import type { SqliteConnection } from './sqlite-connection.ts';
import { sqlitePaymentTx } from './sqlite-payment-tx.ts';

// The guard is evaluated by the database on the row as it is, not on what JavaScript believed:
// a guarded write may not leave `available` below zero, nor lower than it was when already below.
const UPDATE_ACCOUNT = `UPDATE accounts SET
  plan = ?, allocation = allocation + ?, purchased = purchased + ?, held = held + ?,
  used_this_cycle = ?, rolled_over = ?, cycle_anchor = ?, cycle_start = ?, last_reset = ?,
  cycle_driver = ?, updated_at = ?, version = version + 1
WHERE id = ? AND version = ?
  AND (? = 1 OR (allocation + ?) + (purchased + ?) - (held + ?) >= min(0, allocation + purchased - held))`;

const INSERT_ACCOUNT = `INSERT INTO accounts (${ACCOUNT_COLUMNS})
SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1
WHERE ? = 1 OR ? + ? - ? >= 0`;

const INSERT_ENTRY = `INSERT INTO ledger_entries (account_id, kind, amount, allocation_delta, purchased_delta,
  balance_after, feature, quantity, idempotency_key, source, reference, reason, actor, at, held_after)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`;

/** The write operations of one SQLite transaction (the caller holds BEGIN IMMEDIATE). */
export class SqliteWriteTx implements WriteTx {
  private readonly conn: SqliteConnection;
  readonly payments: PaymentTx;
  readonly recovery: RecoveryTx;
  /** Ids handed out by `allocateIds` in this transaction, per table (the last one given). */
  private readonly allocated = new Map<'ledger_entries' | 'holds', number>();

  constructor(conn: SqliteConnection) {
    this.conn = conn;
    this.payments = sqlitePaymentTx(conn);
    this.recovery = new SqlRecoveryTx(async (sql, params) => conn.all(sql, ...params), 'question');
  }

  async lockAccount(id: string): Promise<AccountState | undefined> {
    // BEGIN IMMEDIATE already holds the database's write lock: the row cannot change under us.
    const row = this.conn.get(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = ?`, id);
    return row ? toAccount(row) : undefined;
  }

  async findIdempotency(account: string, operation: string, key: string): Promise<IdempotencyRecord | undefined> {
    const row = this.conn.get(
      'SELECT * FROM idempotency_keys WHERE account_id = ? AND operation = ? AND key = ?',
      account,
      operation,
      key,
    );
    return row ? toIdempotency(row) : undefined;
  }

  async findDeduction(account: string, key: string): Promise<KeyedDebit | undefined> {
    const row = this.conn.get(batch.FIND_DEDUCTION, account, key);
    return row ? toKeyedDebit(row) : undefined;
  }

  async findEntryByReference(kind: EntryKind, source: string, reference: string): Promise<LedgerEntry | undefined> {
    const row = this.conn.get(
      'SELECT * FROM ledger_entries WHERE kind = ? AND source = ? AND reference = ?',
      kind,
      source,
      reference,
    );
    return row ? toEntry(row) : undefined;
  }

  async entriesSince(account: string, since: number, kinds: readonly EntryKind[]): Promise<LedgerEntry[]> {
    if (kinds.length === 0) return [];
    return this.conn
      .all(
        `SELECT * FROM ledger_entries WHERE account_id = ? AND at >= ? AND kind IN (${kinds.map(() => '?').join(', ')})
         ORDER BY id`,
        account,
        since,
        ...kinds,
      )
      .map(toEntry);
  }

  async getHold(id: number): Promise<Hold | undefined> {
    const row = this.conn.get('SELECT * FROM holds WHERE id = ?', id);
    return row ? toHold(row) : undefined;
  }

  async expiredHolds(account: string, now: number): Promise<Hold[]> {
    return this.conn
      .all(
        "SELECT * FROM holds WHERE account_id = ? AND status = 'active' AND expires_at <= ? ORDER BY id",
        account,
        now,
      )
      .map(toHold);
  }

  async insertAccount(s: AccountState, guard: OverdraftGuard): Promise<void> {
    const changes = this.conn.run(
      INSERT_ACCOUNT,
      s.id,
      s.plan,
      s.allocation,
      s.purchased,
      s.held,
      s.usedThisCycle,
      s.rolledOver,
      s.cycleAnchor,
      s.cycleStart,
      s.lastReset,
      s.cycleDriver,
      s.createdAt,
      s.updatedAt,
      guard === 'exempt' ? 1 : 0,
      s.allocation,
      s.purchased,
      s.held,
    );
    if (changes !== 1) throw new WriteConflictError(`account ${s.id} would open below zero`);
  }

  async updateAccount(before: AccountState, after: AccountState, guard: OverdraftGuard): Promise<void> {
    const da = after.allocation - before.allocation;
    const dp = after.purchased - before.purchased;
    const dh = after.held - before.held;
    const changes = this.conn.run(
      UPDATE_ACCOUNT,
      after.plan,
      da,
      dp,
      dh,
      after.usedThisCycle,
      after.rolledOver,
      after.cycleAnchor,
      after.cycleStart,
      after.lastReset,
      after.cycleDriver,
      after.updatedAt,
      before.id,
      before.version,
      guard === 'exempt' ? 1 : 0,
      da,
      dp,
      dh,
    );
    if (changes !== 1) {
      throw new WriteConflictError(`account ${before.id} changed since version ${before.version} or would overdraw`);
    }
  }

  async insertEntries(entries: readonly EntryDraft[]): Promise<number[]> {
    return entries.map((e) => {
      const row = this.conn.get(INSERT_ENTRY, ...entryCells(e));
      if (!row) throw new Error('ledger insert returned no id');
      return int(row, 'id');
    });
  }

  async insertHold(h: NewHold): Promise<number> {
    const row = this.conn.get(
      `INSERT INTO holds (account_id, amount, feature, created_at, expires_at, idempotency_key)
       VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
      h.account,
      h.amount,
      h.feature,
      h.createdAt,
      h.expiresAt,
      h.idempotencyKey,
    );
    if (!row) throw new Error('hold insert returned no id');
    return int(row, 'id');
  }

  async closeHolds(closures: readonly HoldClosure[]): Promise<void> {
    for (const c of closures) {
      const changes = this.conn.run(
        'UPDATE holds SET status = ?, charged = ?, closed_at = ? WHERE id = ? AND status = ?',
        c.status,
        c.charged,
        c.closedAt,
        c.id,
        c.from,
      );
      if (changes !== 1) throw new WriteConflictError(`hold ${c.id} is no longer ${c.from}`);
    }
  }

  async saveIdempotency(r: IdempotencyRecord): Promise<void> {
    this.conn.run(
      `INSERT INTO idempotency_keys (account_id, operation, key, fingerprint, response, created_at)
       VALUES (?, ?, ?, ?, ?, ?)`,
      r.account,
      r.operation,
      r.key,
      r.fingerprint,
      r.response,
      r.createdAt,
    );
  }

  async openBatch(read: BatchRead): Promise<BatchSnapshot> {
    // BEGIN IMMEDIATE holds the database's write lock: none of these rows can change under us.
    return {
      accounts: batch.lockAccounts(this.conn, read.accounts),
      holds: batch.holdsExpiringBy(this.conn, read.accounts, read.holdsUntil),
      keys: read.keys.length === 0 ? [] : batch.findIdempotencies(this.conn, read.keys),
      deductions: read.deductions.length === 0 ? [] : batch.findDeductions(this.conn, read.deductions),
      entryIds: await this.allocateIds('ledger_entries', read.entryIds),
    };
  }

  async allocateIds(table: 'ledger_entries' | 'holds', count: number): Promise<number[]> {
    // Under the write lock nobody else inserts: ids follow the table's last one, counted here.
    const last = this.allocated.get(table) ?? batch.lastId(this.conn, table);
    this.allocated.set(table, last + count);
    return Array.from({ length: count }, (_, i) => last + 1 + i);
  }

  async writeBatch(write: BatchWrite): Promise<void> {
    for (const { state, guard } of write.created) await this.insertAccount(state, guard);
    for (const c of write.changes) await this.updateAccount(c.before, c.after, c.guard);
    if (write.closures.length > 0) await this.closeHolds(write.closures);
    expectRows('holds', batch.insertHolds(this.conn, write.holds), write.holds.length);
    expectRows('ledger entries', batch.insertEntries(this.conn, write.entries), write.entries.length);
    expectRows('idempotency keys', batch.saveIdempotencies(this.conn, write.keys), write.keys.length);
  }
}

function expectRows(what: string, inserted: number, expected: number): void {
  if (inserted !== expected) throw new WriteConflictError(`inserted ${inserted} of ${expected} ${what}`);
}
