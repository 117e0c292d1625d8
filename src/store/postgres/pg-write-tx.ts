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
import * as batch from './pg-batch-writes.ts';
import type { PgQueryable } from './pg-client.ts';
import { pgPaymentTx } from './pg-payment-tx.ts';
import { RetryableConflictError } from './retryable-conflict.ts';

// The guard is evaluated by the database on the row as it is, not on what JavaScript believed:
// a guarded write may not leave `available` below zero, nor lower than it was when already below.
const UPDATE_ACCOUNT = `UPDATE accounts SET
  plan = $1, allocation = allocation + $2::bigint, purchased = purchased + $3::bigint, held = held + $4::bigint,
  used_this_cycle = $5, rolled_over = $6, cycle_anchor = $7, cycle_start = $8, last_reset = $9,
  cycle_driver = $10, updated_at = $11, version = version + 1
WHERE id = $12 AND version = $13
  AND ($14::boolean OR (allocation + $2::bigint) + (purchased + $3::bigint) - (held + $4::bigint)
                       >= LEAST(0, allocation + purchased - held))
RETURNING version`;

// A concurrent creation of the same account is met with DO NOTHING, not an aborted transaction.
const INSERT_ACCOUNT = `INSERT INTO accounts (${ACCOUNT_COLUMNS})
SELECT $1::text, $2::text, $3::bigint, $4::bigint, $5::bigint, $6::bigint, $7::bigint, $8::bigint, $9::bigint,
  $10::bigint, $11::text, $12::bigint, $13::bigint, 1
WHERE $14::boolean OR $3::bigint + $4::bigint - $5::bigint >= 0
ON CONFLICT (id) DO NOTHING
RETURNING id`;

const INSERT_ENTRY = `INSERT INTO ledger_entries (account_id, kind, amount, allocation_delta, purchased_delta,
  balance_after, feature, quantity, idempotency_key, source, reference, reason, actor, at, held_after)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
ON CONFLICT (kind, source, reference) WHERE reference IS NOT NULL DO NOTHING
RETURNING id`;

/**
 * The write operations of one PostgreSQL transaction (READ COMMITTED). The account row lock
 * taken by `lockAccount` serializes every writer of that account; each later statement sees
 * what the previous lock holder committed.
 */
export class PgWriteTx implements WriteTx {
  private readonly q: PgQueryable;
  readonly payments: PaymentTx;
  readonly recovery: RecoveryTx;

  constructor(q: PgQueryable) {
    this.q = q;
    this.payments = pgPaymentTx(q);
    this.recovery = new SqlRecoveryTx((sql, params) => q.query(sql, params), 'numbered');
  }

  async lockAccount(id: string): Promise<AccountState | undefined> {
    const [row] = await this.q.query(`SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE id = $1 FOR UPDATE`, [id]);
    return row ? toAccount(row) : undefined;
  }

  async findIdempotency(account: string, operation: string, key: string): Promise<IdempotencyRecord | undefined> {
    const [row] = await this.q.query(
      'SELECT * FROM idempotency_keys WHERE account_id = $1 AND operation = $2 AND key = $3',
      [account, operation, key],
    );
    return row ? toIdempotency(row) : undefined;
  }

  async findDeduction(account: string, key: string): Promise<KeyedDebit | undefined> {
    // After lockAccount: a new statement sees the debit of any transaction that held the lock
    // before us. (A debit raced in by an account's creation hits the unique index: retried.)
    const [row] = await this.q.query(
      // `|| ''`: served by the (idempotency_key, account_id) index, never by a walk of the
      // account's own entries (see READ_BATCH in pg-batch-writes.ts).
      "SELECT * FROM ledger_entries WHERE idempotency_key = $2 AND kind = 'debit' AND account_id || '' = $1",
      [account, key],
    );
    return row ? toKeyedDebit(row) : undefined;
  }

  async findEntryByReference(kind: EntryKind, source: string, reference: string): Promise<LedgerEntry | undefined> {
    const [row] = await this.q.query(
      'SELECT * FROM ledger_entries WHERE kind = $1 AND source = $2 AND reference = $3',
      [kind, source, reference],
    );
    return row ? toEntry(row) : undefined;
  }

  async entriesSince(account: string, since: number, kinds: readonly EntryKind[]): Promise<LedgerEntry[]> {
    if (kinds.length === 0) return [];
    const rows = await this.q.query(
      `SELECT * FROM ledger_entries WHERE account_id = $1 AND at >= $2
         AND kind IN (${kinds.map((_, i) => `$${i + 3}`).join(', ')})
       ORDER BY id`,
      [account, since, ...kinds],
    );
    return rows.map(toEntry);
  }

  async getHold(id: number): Promise<Hold | undefined> {
    // Settling reads the hold before it loads the account. Lock the owning account first (the
    // order every writer uses: account, then its holds), then read the hold in a new statement,
    // which sees what the previous lock holder committed: two settlements of one hold cannot
    // both find it active.
    const [owner] = await this.q.query(
      'SELECT a.id FROM accounts a JOIN holds h ON h.account_id = a.id WHERE h.id = $1 FOR UPDATE OF a',
      [id],
    );
    if (!owner) return undefined;
    const [row] = await this.q.query('SELECT * FROM holds WHERE id = $1', [id]);
    return row ? toHold(row) : undefined;
  }

  async expiredHolds(account: string, now: number): Promise<Hold[]> {
    const rows = await this.q.query(
      "SELECT * FROM holds WHERE account_id = $1 AND status = 'active' AND expires_at <= $2 ORDER BY id",
      [account, now],
    );
    return rows.map(toHold);
  }

  async insertAccount(s: AccountState, guard: OverdraftGuard): Promise<void> {
    const rows = await this.q.query(INSERT_ACCOUNT, [
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
      guard === 'exempt',
    ]);
    if (rows.length === 1) return;
    // Nothing inserted: either the guard refused, or another transaction created the account
    // after our lockAccount found none (its commit is visible to this new statement).
    const exists = await this.q.query('SELECT 1 FROM accounts WHERE id = $1', [s.id]);
    if (exists.length > 0) throw new RetryableConflictError(`account ${s.id} was created concurrently`);
    throw new WriteConflictError(`account ${s.id} would open below zero`);
  }

  async updateAccount(before: AccountState, after: AccountState, guard: OverdraftGuard): Promise<void> {
    const rows = await this.q.query(UPDATE_ACCOUNT, [
      after.plan,
      after.allocation - before.allocation,
      after.purchased - before.purchased,
      after.held - before.held,
      after.usedThisCycle,
      after.rolledOver,
      after.cycleAnchor,
      after.cycleStart,
      after.lastReset,
      after.cycleDriver,
      after.updatedAt,
      before.id,
      before.version,
      guard === 'exempt',
    ]);
    if (rows.length !== 1) {
      throw new WriteConflictError(`account ${before.id} changed since version ${before.version} or would overdraw`);
    }
  }

  async insertEntries(entries: readonly EntryDraft[]): Promise<number[]> {
    const ids: number[] = [];
    for (const e of entries) {
      const [row] = await this.q.query(INSERT_ENTRY, entryCells(e));
      if (!row) {
        throw new RetryableConflictError(`${e.kind} ${e.source}/${e.reference} was recorded by another transaction`);
      }
      ids.push(int(row, 'id'));
    }
    return ids;
  }

  async insertHold(h: NewHold): Promise<number> {
    const [row] = await this.q.query(
      `INSERT INTO holds (account_id, amount, feature, created_at, expires_at, idempotency_key)
       VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
      [h.account, h.amount, h.feature, h.createdAt, h.expiresAt, h.idempotencyKey],
    );
    if (!row) throw new Error('hold insert returned no id');
    return int(row, 'id');
  }

  async closeHolds(closures: readonly HoldClosure[]): Promise<void> {
    for (const c of closures) {
      const rows = await this.q.query(
        'UPDATE holds SET status = $1, charged = $2, closed_at = $3 WHERE id = $4 AND status = $5 RETURNING id',
        [c.status, c.charged, c.closedAt, c.id, c.from],
      );
      // Holds close under their account's row lock, which getHold takes too, so this is not
      // expected; if it happens, a re-run sees the hold as it is.
      if (rows.length !== 1) throw new RetryableConflictError(`hold ${c.id} is no longer ${c.from}`);
    }
  }

  async saveIdempotency(r: IdempotencyRecord): Promise<void> {
    const rows = await this.q.query(
      `INSERT INTO idempotency_keys (account_id, operation, key, fingerprint, response, created_at)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (account_id, operation, key) DO NOTHING
       RETURNING key`,
      [r.account, r.operation, r.key, r.fingerprint, r.response, r.createdAt],
    );
    // Another transaction answered this key first: re-run, and the re-run replays its answer.
    if (rows.length !== 1) throw new RetryableConflictError(`idempotency key ${r.key} was used concurrently`);
  }

  openBatch(read: BatchRead): Promise<BatchSnapshot> {
    return batch.openBatch(this.q, read);
  }

  allocateIds(table: 'ledger_entries' | 'holds', count: number): Promise<number[]> {
    return count === 0 ? Promise.resolve([]) : batch.allocateIds(this.q, table, count);
  }

  writeBatch(write: BatchWrite): Promise<void> {
    return batch.writeBatch(this.q, write);
  }
}
