import type { Catalog } from '../../core/catalog.ts';
import type { WireError } from '../../store/wire-error.ts';
import type { CreditScope } from '../ops/credit.ts';
import type { DeductScope } from '../ops/deduct.ts';
import type { ReserveScope } from '../ops/reserve.ts';
import type { SettleHow } from '../ops/settle-hold.ts';
import type { GroupCommitOptions } from './group-commit-options.ts';

/**
 * A hot-path job as data. Where the store's writer runs on a thread of its own (SQLite's
 * worker), the job is sent there, made again from this description by the same code
 * (`makeJob`), and run by a group committer beside the writer: one crossing per operation
 * instead of three per batch, each of which waited for the main thread's event loop.
 */
export type RemoteJob =
  | { op: 'deduct'; scope: DeductScope }
  | { op: 'reserve'; scope: ReserveScope }
  | { op: 'credit'; scope: CreditScope }
  /** Not batched: a transaction of its own (`LedgerContext.write`). */
  | { op: 'settleHold'; holdId: number; how: SettleHow };

/** What the writer's thread needs to make and batch jobs as this ledger would. */
export interface RemoteSetup {
  catalog: Catalog;
  groupCommit: GroupCommitOptions;
  topupRetryMs: number;
}

/** The jobs' remote forms, in order; null if any has none (then none is sent). */
export function remoteForms(jobs: readonly { remote?: RemoteJob | undefined }[]): RemoteJob[] | null {
  const forms: RemoteJob[] = [];
  for (const job of jobs) {
    if (!job.remote) return null;
    forms.push(job.remote);
  }
  return forms;
}

/** How one job of a `runAll` ended, as data (its error rebuilt on the sending side). */
export type RemoteSettled = { ok: true; value: unknown } | { ok: false; error: WireError };
