import type { AccountState } from '../core/account-state.ts';
import type { Grant } from '../core/grant.ts';
import { isLiveGrant } from './rows.ts';
import type { BatchWrite } from './store.ts';

/** Accounts whose grants are remembered; past this, those first remembered are forgotten. */
const GRANT_CACHE_ACCOUNTS = 20_000;

interface Cached {
  version: number;
  grants: readonly Grant[];
}

/**
 * The live grants (`LIVE_GRANT`) of accounts this process's group-commit batches wrote, each as
 * of the account version the batch left. Every change to a grant is committed with its
 * account's row, whose version the write bumps (`SqlWriteTx.updateAccount`, both backends' batch
 * statements); so while an account's stored version is the one remembered, its grants are the
 * ones remembered, whoever else (another process, another connection) wrote in between. A batch
 * locks its account rows, then reads the grants only of those whose version it does not hold:
 * once its accounts were written here, no grant rows to read or decode.
 *
 * Entries are staged by a transaction's write and published only after its COMMIT: a rolled-back
 * write leaves nothing behind. A grant row changed by hand in the database, without its account's
 * row, is not seen by a running process until the account is next written elsewhere (or the
 * process restarts); such an edit also breaks `reconcile`'s sums, which is how it shows.
 */
export class GrantCache {
  private readonly entries = new Map<string, Cached>();
  private readonly limit: number;

  constructor(limit = GRANT_CACHE_ACCOUNTS) {
    this.limit = limit;
  }

  /** The account's live grants if `version` is the one remembered, else undefined. */
  get(account: string, version: number): readonly Grant[] | undefined {
    const hit = this.entries.get(account);
    return hit?.version === version ? hit.grants : undefined;
  }

  /** Remembers committed writes (see `StagedGrants`). */
  publish(staged: StagedGrants): void {
    for (const [account, cached] of staged.entries) this.entries.set(account, cached);
    // A Map iterates in insertion order: past the limit, the accounts remembered first go.
    if (this.entries.size <= this.limit) return;
    for (const account of this.entries.keys()) {
      if (this.entries.size <= this.limit) break;
      this.entries.delete(account);
    }
  }

  /** Forgets everything (a migration may change grants without a write of their accounts). */
  clear(): void {
    this.entries.clear();
  }
}

/** What one transaction's writes leave, account by account: published by the store after its COMMIT. */
export class StagedGrants {
  readonly entries: [string, Cached][] = [];

  /** What a batch's write leaves: each row's version is 1 when inserted, one up when updated. */
  stageBatch(write: BatchWrite): void {
    for (const { state } of write.created) this.stage(state, 1);
    for (const c of write.changes) this.stage(c.after, c.before.version + 1);
  }

  /**
   * The account as a write stores it, at the version the database gives the row. Its grants are
   * never changed in place (decisions copy what they change), so they are kept as they are.
   */
  private stage(state: AccountState, version: number): void {
    // In id order, as the database reads them.
    const grants = state.grants.filter(isLiveGrant).sort((a, b) => a.id - b.id);
    this.entries.push([state.id, { version, grants }]);
  }
}
