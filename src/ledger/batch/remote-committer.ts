import { fromWire } from '../../store/wire-error.ts';
import type { WriterThread } from '../../store/writer-thread.ts';
import type { CommitSignals } from '../event-signal.ts';
import type { GroupCommitStats } from './group-commit-options.ts';
import type { RemoteJob, RemoteSettled, RemoteSetup } from './remote-job.ts';
import type { HostNotice } from './writer-host.ts';

// Tests and `node src/...` run the TypeScript; `dist/` holds the compiled JavaScript beside it.
const HOST_URL = new URL(import.meta.url.endsWith('.ts') ? './writer-host.ts' : './writer-host.js', import.meta.url);

const NO_STATS: GroupCommitStats = { batches: 0, operations: 0, largestBatch: 0, rejected: 0, splits: 0 };

/**
 * Group commit in the writer's thread, seen from the ledger: sends each job as data to a
 * `writer-host.ts` there, and keeps what the host reports (its group commit's figures, and
 * which commits recorded events or top-up intents) for the ledger to tell its listeners.
 */
export class RemoteCommitter {
  private readonly host;
  private figures: GroupCommitStats = NO_STATS;
  private pending = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(thread: WriterThread, setup: RemoteSetup, onSignals: (signals: CommitSignals) => void) {
    this.host = thread.host(HOST_URL.href, setup);
    this.host.onNotice((notice) => {
      const n = notice as HostNotice;
      if ('stats' in n) this.figures = n.stats;
      else onSignals(n.signals);
    });
  }

  /** Runs `job` in the writer's thread as of `now` (the ledger's clock); answers after its batch's COMMIT. */
  run<T>(job: RemoteJob, now: number): Promise<T> {
    return this.track(this.host.call('run', [job, now]));
  }

  /**
   * Runs `jobs` in the writer's thread as of `now`, each its own operation of group commit, as
   * if each had been sent by `run` in this turn; one message there and one back for all of them.
   */
  async runAll<T>(jobs: readonly RemoteJob[], now: number): Promise<PromiseSettledResult<T>[]> {
    const settled = await this.track<RemoteSettled[]>(this.host.call('runAll', [jobs, now]));
    return settled.map((s) =>
      s.ok ? { status: 'fulfilled', value: s.value as T } : { status: 'rejected', reason: fromWire(s.error) },
    );
  }

  /** Runs `job` in a transaction of its own in the writer's thread, as of `now`. */
  write<T>(job: RemoteJob, now: number): Promise<T> {
    return this.track(this.host.call('write', [job, now]));
  }

  /** Counts `call` as pending until it settles (`idle` waits for it). */
  private async track<T>(call: Promise<unknown>): Promise<T> {
    this.pending++;
    try {
      return (await call) as T;
    } finally {
      this.pending--;
      if (this.pending === 0) for (const wake of this.idleWaiters.splice(0)) wake();
    }
  }

  /** The host's group commit figures, as of its last report (always before the answers that followed it). */
  stats(): GroupCommitStats {
    return this.figures;
  }

  /** Resolves once every job sent has been answered. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
