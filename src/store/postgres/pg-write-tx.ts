import type { EventDraft } from '../../core/event.ts';
import type { GrantCache, StagedGrants } from '../grant-cache.ts';
import type { PaymentTx } from '../payment-tx.ts';
import type { RecoveryTx } from '../recovery-tx.ts';
import { numbered, PG_DIALECT } from '../sql-dialect.ts';
import { SqlRecoveryTx } from '../sql-recovery-tx.ts';
import { SqlWriteTx } from '../sql-write-tx.ts';
import type { BatchRead, BatchSnapshot, BatchWrite, IdTable } from '../store.ts';
import * as batch from './pg-batch-writes.ts';
import type { PgQueryable } from './pg-client.ts';
import { writeEventsAtOnce } from './pg-events.ts';
import { pgPaymentTx } from './pg-payment-tx.ts';
import { RetryableConflictError } from './retryable-conflict.ts';

/**
 * The write operations of one PostgreSQL transaction (READ COMMITTED): the shared statements of
 * `SqlWriteTx` with row locks, and group commit's many-row statements. A write another
 * transaction beat re-runs the whole operation.
 */
export class PgWriteTx extends SqlWriteTx {
  private readonly q: PgQueryable;
  readonly payments: PaymentTx;
  readonly recovery: RecoveryTx;

  private readonly cache: GrantCache;
  /** What this transaction's batch leaves, for `cache` once it commits. */
  private readonly staged: StagedGrants;

  constructor(q: PgQueryable, cache: GrantCache, staged: StagedGrants) {
    super({
      query: (sql, params) => q.query(numbered(sql), params),
      conflict: (message) => new RetryableConflictError(message),
      dialect: PG_DIALECT,
    });
    this.q = q;
    this.cache = cache;
    this.staged = staged;
    this.payments = pgPaymentTx(q);
    this.recovery = new SqlRecoveryTx((sql, params) => q.query(sql, params), 'numbered');
  }

  openBatch(read: BatchRead): Promise<BatchSnapshot> {
    return batch.openBatch(this.q, read, this.cache);
  }

  allocateIds(table: IdTable, count: number): Promise<number[]> {
    return count === 0 ? Promise.resolve([]) : batch.allocateIds(this.q, table, count);
  }

  override async insertEvents(events: readonly EventDraft[]): Promise<void> {
    if (events.length > 0 && !(await writeEventsAtOnce(this.q, events))) await super.insertEvents(events);
  }

  async writeBatch(write: BatchWrite): Promise<void> {
    // Published only if the transaction commits.
    this.staged.stageBatch(write);
    // The events go in the batch's statement; a reminder among them goes a statement at a time.
    const eventsWritten = await batch.writeBatch(this.q, write);
    // Rare beside the batch's own rows (a pool's members' draws): a statement of their own.
    await this.pools.moveMemberships(write.memberships);
    if (!eventsWritten && write.events.length > 0) await super.insertEvents(write.events);
  }
}
