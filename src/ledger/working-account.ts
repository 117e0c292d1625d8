import { type AccountState, availableOf } from '../core/account-state.ts';
import { type Catalog, findPlan } from '../core/catalog.ts';
import type { EntryDraft } from '../core/entry.ts';
import type { HoldClosure } from '../core/hold.ts';
import { expireHolds } from '../core/holds.ts';
import type { Posted } from '../core/posting.ts';
import { provision } from '../core/provision.ts';
import { bringUpToDate } from '../core/renewal.ts';
import type { OverdraftGuard, WriteTx } from '../store/store.ts';
import { assignGrantIds } from './draft-grants.ts';

/**
 * One account inside a write transaction: loaded (and locked) once, brought up to the
 * engine's clock (provisioned, renewed, expired holds freed), changed in memory by pure
 * decisions, and written once by `flush`.
 */
export class WorkingAccount {
  /** The row as stored, or null when this transaction provisions the account. */
  stored: AccountState | null;
  state: AccountState;
  entries: EntryDraft[];
  readonly closures: HoldClosure[];
  /** How much what fell due by the clock changed the available balance on load (see `WriteTx.updateAccount`). */
  readonly catchUp: number;

  private constructor(stored: AccountState | null, posted: Posted, closures: HoldClosure[]) {
    this.stored = stored;
    this.state = posted.state;
    this.entries = [...posted.entries];
    this.closures = closures;
    this.catchUp = stored ? availableOf(posted.state) - availableOf(stored) : 0;
  }

  /** Loads and locks an account; a missing one is provisioned on `newPlan` (default: the config's). */
  static async load(
    tx: WriteTx,
    id: string,
    catalog: Catalog,
    now: number,
    newPlan: string = catalog.defaultPlan,
  ): Promise<WorkingAccount> {
    const stored = await tx.lockAccount(id);
    if (!stored) return new WorkingAccount(null, provision(id, findPlan(catalog, newPlan), now), []);
    const renewed = bringUpToDate(stored, findPlan(catalog, stored.plan), now);
    const expired = expireHolds(renewed.state, await tx.expiredHolds(id, now), now);
    return new WorkingAccount(stored, { state: expired.state, entries: renewed.entries }, expired.closures);
  }

  get provisioned(): boolean {
    return this.stored === null;
  }

  apply(posted: Posted): void {
    this.state = posted.state;
    this.entries.push(...posted.entries);
  }

  /**
   * Makes grants the account holds but did not load (a used-up grant a reversal returns tokens
   * to) part of it, as stored: they are read inside this transaction, under the account's lock.
   */
  async loadGrants(tx: WriteTx, ids: readonly number[]): Promise<void> {
    const held = new Set(this.state.grants.map((g) => g.id));
    const missing = ids.filter((id) => id > 0 && !held.has(id));
    if (missing.length === 0) return;
    const found = (await tx.grantsById(this.state.id, missing)).filter((g) => !held.has(g.id));
    this.state = { ...this.state, grants: [...this.state.grants, ...found] };
    if (this.stored) this.stored = { ...this.stored, grants: [...this.stored.grants, ...found] };
  }

  /** Writes the account, its grants, its hold closures and its entries; returns the entry ids in order. */
  async flush(tx: WriteTx, guard: OverdraftGuard): Promise<number[]> {
    const assigned = await assignGrantIds(tx, { state: this.state, entries: this.entries });
    this.state = assigned.state;
    this.entries = assigned.entries;
    if (this.stored) await tx.updateAccount(this.stored, this.state, guard, this.catchUp);
    else await tx.insertAccount(this.state, guard);
    if (this.closures.length > 0) await tx.closeHolds(this.closures);
    return this.entries.length > 0 ? tx.insertEntries(this.entries) : [];
  }
}
