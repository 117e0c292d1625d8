import type { Catalog } from '../core/catalog.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../log/logger.ts';
import type { Store } from '../store/store.ts';
import type { BatchJob, WriteJob } from './batch/group-committer.ts';
import type { PoolHints } from './pool/pool-hints.ts';

/** What every ledger operation works with. */
export interface LedgerContext {
  store: Store;
  catalog: Catalog;
  clock: Clock;
  logger: Logger;
  /** How long after a declined automatic top-up the next try starts. */
  topupRetryMs: number;
  /**
   * Runs a hot-path write (deduct, reserve, credit): in a group-commit batch when group commit
   * is on, else in a transaction of its own. Either way the body sees an ordinary `WriteTx`.
   */
  commit<T>(job: BatchJob<T>): Promise<T>;
  /**
   * Runs hot-path writes sent together, in order: each is its own operation, as if each had been
   * passed to `commit` in the same turn, and each settles alone. Where the writer has a thread of
   * its own, they cross to it as one message and come back as one.
   */
  commitAll<T>(jobs: readonly BatchJob<T>[]): Promise<PromiseSettledResult<T>[]>;
  /**
   * Runs a write in a transaction of its own: beside the writer when the job has a `remote`
   * form and the store's writer has a thread of its own, else here through `store.write`.
   */
  write<T>(job: WriteJob<T>): Promise<T>;
  /** Which pool each member was last seen in: the lock order of group-commit batches. */
  poolHints: PoolHints;
}

/** `commitAll` made of a `commit`: each job passed to it in order, in the same turn. */
export function commitEach(commit: LedgerContext['commit']): LedgerContext['commitAll'] {
  return (jobs) => Promise.allSettled(jobs.map((job) => commit(job)));
}
