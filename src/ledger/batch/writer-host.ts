// Loaded into the SQLite writer's thread (see store/writer-thread.ts): makes the hot-path jobs
// (deductions, reservations, credits) a ledger sends as data (remote-job.ts) and runs them
// through a group committer of its own, against the thread's own store, so a batch is read,
// decided, written and committed without waiting for the main thread between its statements.
import type { Clock } from '../../core/clock.ts';
import { silentLogger } from '../../log/logger.ts';
import type { Store } from '../../store/store.ts';
import { toWire } from '../../store/wire-error.ts';
import type { CreateHost } from '../../store/writer-thread.ts';
import { commitEach, type LedgerContext } from '../context.ts';
import { type CommitSignals, signalCommits } from '../event-signal.ts';
import { creditJob } from '../ops/credit.ts';
import { deductJob } from '../ops/deduct.ts';
import { reserveJob } from '../ops/reserve.ts';
import { settleJob } from '../ops/settle-hold.ts';
import { PoolHints } from '../pool/pool-hints.ts';
import type { GroupCommitStats } from './group-commit-options.ts';
import { type BatchJob, GroupCommitter, type WriteJob } from './group-committer.ts';
import type { RemoteJob, RemoteSettled, RemoteSetup } from './remote-job.ts';

/** What the host tells the main thread unasked, before the answers it concerns. */
export type HostNotice = { stats: GroupCommitStats } | { signals: CommitSignals };

export const createHost: CreateHost<Store> = (store, notify, setup) => {
  const { catalog, groupCommit, topupRetryMs } = setup as RemoteSetup;
  // The committer's clock (a batch's start, for the holds it reads ahead) follows the main
  // thread's: each job carries the time its ledger read when it was sent.
  let latest = 0;
  const clock: Clock = { now: () => latest };
  const signalled = signalCommits(store, (signals) => notify({ signals } satisfies HostNotice));
  const poolHints = new PoolHints();
  const committer = new GroupCommitter(signalled, clock, groupCommit, poolHints);
  const base: LedgerContext = {
    store: signalled,
    catalog,
    clock,
    logger: silentLogger,
    topupRetryMs,
    commit: (job) => committer.submit(job),
    commitAll: commitEach((job) => committer.submit(job)),
    write: (job) => signalled.write(job.run),
    poolHints,
  };
  let told = '';
  const tellStats = () => {
    const stats = committer.stats();
    const text = `${stats.batches}/${stats.rejected}/${stats.splits}`;
    if (text === told) return;
    told = text;
    notify({ stats } satisfies HostNotice);
  };
  /** `job` made as of `now` and queued for the next batch. */
  const submit = (job: RemoteJob, ctx: LedgerContext): Promise<unknown> => {
    try {
      const made = makeJob(ctx, job);
      if (!('account' in made)) throw new Error(`${job.op} is not a batched job`);
      return committer.submit(made as BatchJob<unknown>);
    } catch (err) {
      return Promise.reject(err);
    }
  };
  /** The context of a job sent at `now`; batched ones also move the committer's clock. */
  const at = (now: number): LedgerContext => ({ ...base, clock: { now: () => now } });
  const asOf = (now: number): LedgerContext => {
    latest = Math.max(latest, now);
    return at(now);
  };
  return {
    async run(job: RemoteJob, now: number): Promise<unknown> {
      try {
        return await submit(job, asOf(now));
      } finally {
        tellStats();
      }
    },
    /** Jobs sent together: queued in order in this turn, each settling alone; one answer for all. */
    async runAll(jobs: RemoteJob[], now: number): Promise<RemoteSettled[]> {
      const ctx = asOf(now);
      const settled = await Promise.allSettled(jobs.map((job) => submit(job, ctx)));
      tellStats();
      return settled.map((s) =>
        s.status === 'fulfilled' ? { ok: true, value: s.value } : { ok: false, error: toWire(s.reason) },
      );
    },
    /** A job that is not batched: one transaction of its own. */
    write(job: RemoteJob, now: number): Promise<unknown> {
      return signalled.write(makeJob(at(now), job).run);
    },
  };
};

/** The job `job` describes, made as the sending ledger made it. */
function makeJob(ctx: LedgerContext, job: RemoteJob): WriteJob<unknown> {
  switch (job.op) {
    case 'deduct':
      return deductJob(ctx, job.scope);
    case 'reserve':
      return reserveJob(ctx, job.scope);
    case 'credit':
      return creditJob(ctx, job.scope);
    case 'settleHold':
      return settleJob(ctx, job.holdId, job.how);
  }
}
