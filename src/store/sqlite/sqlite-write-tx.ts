import type { GrantCache, StagedGrants } from '../grant-cache.ts';
import { type GrantChanges, grantChanges } from '../grant-changes.ts';
import type { PaymentTx } from '../payment-tx.ts';
import type { RecoveryTx } from '../recovery-tx.ts';
import { SQLITE_DIALECT, sqliteParams } from '../sql-dialect.ts';
import { SqlRecoveryTx } from '../sql-recovery-tx.ts';
import { SqlWriteTx } from '../sql-write-tx.ts';
import type { BatchRead, BatchSnapshot, BatchWrite, IdTable } from '../store.ts';
import { WriteConflictError } from '../write-conflict.ts';
import * as batch from './sqlite-batch-writes.ts';
import type { SqliteConnection } from './sqlite-connection.ts';
import { sqlitePaymentTx } from './sqlite-payment-tx.ts';

/**
 * The write operations of one SQLite transaction (the caller holds BEGIN IMMEDIATE): the shared
 * statements of `SqlWriteTx`, and group commit's many-row statements.
 */
export class SqliteWriteTx extends SqlWriteTx {
  private readonly conn: SqliteConnection;
  readonly payments: PaymentTx;
  readonly recovery: RecoveryTx;
  /** Ids handed out by `allocateIds` in this transaction, per table (the last one given). */
  private readonly allocated = new Map<IdTable, number>();
  private readonly cache: GrantCache;
  /** What this transaction's batch leaves, for `cache` once it commits. */
  private readonly staged: StagedGrants;

  constructor(conn: SqliteConnection, cache: GrantCache, staged: StagedGrants) {
    super({
      query: async (sql, params) => conn.all(sql, ...sqliteParams(params)),
      // Writers are serialized: a guarded write that matched no row is not a race to re-run.
      conflict: (message) => new WriteConflictError(message),
      dialect: SQLITE_DIALECT,
    });
    this.conn = conn;
    this.cache = cache;
    this.staged = staged;
    this.payments = sqlitePaymentTx(conn);
    this.recovery = new SqlRecoveryTx(async (sql, params) => conn.all(sql, ...params), 'question');
  }

  async openBatch(read: BatchRead): Promise<BatchSnapshot> {
    // BEGIN IMMEDIATE holds the database's write lock: none of these rows can change under us.
    const all = [...read.accounts, ...read.pools];
    return {
      accounts: batch.lockAccounts(this.conn, all, this.cache),
      holds: batch.holdsExpiringBy(this.conn, all, read.holdsUntil),
      keys: read.keys.length === 0 ? [] : batch.findIdempotencies(this.conn, read.keys),
      deductions: read.deductions.length === 0 ? [] : batch.findDeductions(this.conn, read.deductions),
      entryIds: await this.allocateIds('ledger_entries', read.entryIds),
    };
  }

  async allocateIds(table: IdTable, count: number): Promise<number[]> {
    // Under the write lock nobody else inserts: ids follow the table's last one, counted here.
    const last = this.allocated.get(table) ?? batch.lastId(this.conn, table);
    this.allocated.set(table, last + count);
    return Array.from({ length: count }, (_, i) => last + 1 + i);
  }

  async writeBatch(write: BatchWrite): Promise<void> {
    // Published only if the transaction commits.
    this.staged.stageBatch(write);
    for (const { state, guard } of write.created) await this.insertAccount(state, guard);
    const grants: GrantChanges = { inserts: [], updates: [] };
    // Every account in a few many-row statements, each row guarded as `updateAccount` is.
    const moved = batch.updateAccounts(this.conn, write.changes);
    if (moved !== write.changes.length) {
      throw new WriteConflictError(`${write.changes.length - moved} accounts changed since read or would overdraw`);
    }
    for (const c of write.changes) {
      const changed = grantChanges(c.before, c.after);
      grants.inserts.push(...changed.inserts);
      grants.updates.push(...changed.updates);
    }
    await this.insertGrants(grants.inserts);
    // Every grant the batch drew from, likewise, each guarded as `updateGrant` is.
    const drawn = batch.updateGrants(this.conn, grants.updates);
    if (drawn !== grants.updates.length) {
      throw new WriteConflictError(`${grants.updates.length - drawn} grants changed under their accounts' lock`);
    }
    if (write.closures.length > 0) await this.closeHolds(write.closures);
    expectRows('holds', batch.insertHolds(this.conn, write.holds), write.holds.length);
    expectRows('ledger entries', batch.insertEntries(this.conn, write.entries), write.entries.length);
    expectRows('idempotency keys', batch.saveIdempotencies(this.conn, write.keys), write.keys.length);
    await this.pools.moveMemberships(write.memberships);
    if (write.events.length > 0) await this.insertEvents(write.events);
  }
}

function expectRows(what: string, inserted: number, expected: number): void {
  if (inserted !== expected) throw new WriteConflictError(`inserted ${inserted} of ${expected} ${what}`);
}
