import type { Clock } from '../../core/clock.ts';
import { isTokenmeterError, TokenmeterError } from '../../core/errors.ts';
import type { DeductionRef, IdempotencyRef, Store, WriteTx } from '../../store/store.ts';
import { PoolHints } from '../pool/pool-hints.ts';
import { BatchTx } from './batch-tx.ts';
import type { GroupCommitOptions, GroupCommitStats } from './group-commit-options.ts';
import type { RemoteJob } from './remote-job.ts';

/** A transaction body, and the same job as data for one the writer's own thread can make and run. */
export interface WriteJob<T> {
  remote?: RemoteJob;
  run: (tx: WriteTx) => Promise<T>;
}

/** What one queued operation will touch, and its ordinary transaction body. */
export interface BatchJob<T> extends WriteJob<T> {
  account: string;
  /** A key whose stored answer (idempotency_keys) the operation will look up. */
  key: IdempotencyRef | null;
  /** A keyed deduction's key, whose debit the operation will look up. */
  deduction?: DeductionRef | null;
}

interface Queued {
  job: BatchJob<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/**
 * Group commit. Operations queue here; a batch takes up to `maxBatch` of them in arrival
 * order, runs each one's ordinary transaction body against one shared `BatchTx` (so each is
 * decided, in order, against the running balance and gets its own answer), writes once and
 * commits once. Nobody is answered before that commit. A batch that fails is rolled back and
 * its operations re-run one transaction each, so one bad operation fails alone; a failure whose
 * outcome is unknown (`unavailable`: the connection dropped, perhaps mid-commit) is not re-run.
 */
export class GroupCommitter {
  private readonly store: Store;
  private readonly clock: Clock;
  private readonly options: GroupCommitOptions;
  private queue: Queued[] = [];
  /** Batches in their transaction now; more than one only where the store has several writers. */
  private inFlight = 0;
  private readonly maxInFlight: number;
  /** Payers (see `payerOf`) of the batches in flight, with how many batches hold each. */
  private readonly busy = new Map<string, number>();
  private scheduled = false;
  private idleWaiters: (() => void)[] = [];
  private readonly counters: GroupCommitStats = { batches: 0, operations: 0, largestBatch: 0, rejected: 0, splits: 0 };

  private readonly hints: PoolHints;

  constructor(store: Store, clock: Clock, options: GroupCommitOptions, hints: PoolHints = new PoolHints()) {
    this.store = store;
    this.clock = clock;
    this.options = options;
    this.hints = hints;
    // SQLite has one writer: a second batch would only wait for the first. On PostgreSQL,
    // batches start on other connections when more than a full batch is waiting, or when
    // enough is waiting to split it by account (see `nextBatches`).
    this.maxInFlight = store.backend === 'sqlite' ? 1 : 4;
  }

  submit<T>(job: BatchJob<T>): Promise<T> {
    if (this.queue.length >= this.options.maxQueue) {
      this.counters.rejected++;
      return Promise.reject(
        new TokenmeterError('unavailable', `Too many operations waiting (${this.options.maxQueue}); try again shortly`),
      );
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ job: job as BatchJob<unknown>, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  stats(): GroupCommitStats {
    return { ...this.counters };
  }

  /** Resolves once every queued operation has been answered. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.inFlight === 0 && !this.scheduled;
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    // setImmediate (or the configured wait) lets everything that arrives in this turn of the
    // event loop, including callers answered by the previous batch, join the next batch.
    const start = () => {
      this.scheduled = false;
      this.launch();
    };
    if (this.options.maxWaitMs > 0) setTimeout(start, this.options.maxWaitMs);
    else setImmediate(start);
  }

  private launch(): void {
    while (this.inFlight < this.maxInFlight) {
      const batches = this.nextBatches();
      if (batches.length === 0) return;
      for (const batch of batches) this.start(batch);
    }
  }

  private start(batch: Queued[]): void {
    const payers = new Set(batch.map((q) => this.payerOf(q)));
    for (const p of payers) this.busy.set(p, (this.busy.get(p) ?? 0) + 1);
    this.inFlight++;
    void this.execute(batch).finally(() => {
      for (const p of payers) {
        const left = (this.busy.get(p) ?? 1) - 1;
        if (left === 0) this.busy.delete(p);
        else this.busy.set(p, left);
      }
      this.inFlight--;
      this.schedule();
      if (this.isIdle()) for (const wake of this.idleWaiters.splice(0)) wake();
    });
  }

  /** The account whose row an operation's write contends on: a member's pool (as last seen), else its own. */
  private payerOf(q: Queued): string {
    return this.hints.poolOf(q.job.account) ?? q.job.account;
  }

  /**
   * The batches to start now, none if nothing is ready. An operation whose payer a batch in
   * flight holds waits for that batch (it would only wait on its row lock) and then joins the
   * next batch with everything else that waited for it: an account's operations stay in arrival
   * order, and a hot account or a pool is one batch at a time, never several queued on one lock.
   * Where the store has several writers and at least SPLIT_MIN ready operations wait for each
   * free one, they are split by payer, one batch per free writer; the batches lock disjoint
   * accounts and run side by side. Otherwise one batch of up to `maxBatch`. What does not fit
   * stays queued, in order.
   */
  private nextBatches(): Queued[][] {
    const payers = this.queue.map((q) => this.payerOf(q));
    const ready = payers.filter((p) => !this.busy.has(p)).length;
    if (ready === 0) return [];
    const ways = Math.max(1, Math.min(this.maxInFlight - this.inFlight, Math.floor(ready / SPLIT_MIN)));
    const batches: Queued[][] = Array.from({ length: ways }, () => []);
    const rest: Queued[] = [];
    this.queue.forEach((q, i) => {
      const payer = payers[i] as string;
      const batch = this.busy.has(payer) ? undefined : batches[ways === 1 ? 0 : slotOf(payer, ways)];
      if (batch && batch.length < this.options.maxBatch) batch.push(q);
      else rest.push(q);
    });
    this.queue = rest;
    return batches.filter((b) => b.length > 0);
  }

  private async execute(batch: Queued[]): Promise<void> {
    try {
      const results = await this.store.write(async (tx) => {
        const keys = batch.flatMap((q) => (q.job.key ? [q.job.key] : []));
        const deductions = batch.flatMap((q) => (q.job.deduction ? [q.job.deduction] : []));
        // Lock order: the batch's accounts in id order, then the pools its members were last
        // seen in (and accounts known as pools), in id order: the order single writes of a
        // member and its pool use too, so batches and single writes do not deadlock.
        const named = batch.map((q) => q.job.account);
        const memberships = named.flatMap((member) => {
          const pool = this.hints.poolOf(member);
          return pool === null ? [] : [{ pool, member }];
        });
        const shared = await BatchTx.open(tx, {
          accounts: named.filter((a) => !this.hints.isPool(a)),
          pools: [...named.filter((a) => this.hints.isPool(a)), ...memberships.map((m) => m.pool)],
          memberships,
          keys,
          deductions,
          operations: batch.length,
          now: this.clock.now(),
        });
        const out: unknown[] = [];
        for (const q of batch) out.push(await q.job.run(shared));
        await shared.flush();
        return out;
      });
      this.counters.batches++;
      this.counters.operations += batch.length;
      this.counters.largestBatch = Math.max(this.counters.largestBatch, batch.length);
      batch.forEach((q, i) => {
        q.resolve(results[i]);
      });
    } catch (err) {
      if (batch.length === 1 || outcomeUnknown(err)) {
        for (const q of batch) q.reject(err);
        return;
      }
      // Nothing of this batch was written. Run each operation alone: it fails alone.
      this.counters.splits++;
      for (const q of batch) await this.execute([q]);
    }
  }
}

/**
 * Operations waiting for each free writer before a launch splits them (below it, one batch).
 * Measured on PostgreSQL, 256 callers, 2 cores: split by payer into four batches of ~64, 10,000
 * uniform accounts went +30% and the hot account and the pool stayed as they were; blind
 * batches of ~32 or ~128 gained nothing (docs/SCALING.md, session 9).
 */
const SPLIT_MIN = 64;

/** Which of `ways` batches an account's operations join (FNV-1a of its id). */
function slotOf(account: string, ways: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < account.length; i++) h = Math.imul(h ^ account.charCodeAt(i), 0x01000193);
  return (h >>> 0) % ways;
}

function outcomeUnknown(err: unknown): boolean {
  return isTokenmeterError(err) && err.code === 'unavailable';
}
