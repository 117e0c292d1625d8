import { randomUUID } from 'node:crypto';
import { type AccountState, availableOf } from '../core/account-state.ts';
import { type Catalog, findPlan, planLowBalanceThreshold } from '../core/catalog.ts';
import type { EntryDraft } from '../core/entry.ts';
import type { EventData, EventDraft, EventType } from '../core/event.ts';
import type { Hold, HoldClosure } from '../core/hold.ts';
import { expireHolds } from '../core/holds.ts';
import { memberPlan, membershipMove, planOf } from '../core/pool.ts';
import type { Posted } from '../core/posting.ts';
import { provision } from '../core/provision.ts';
import { bringUpToDate } from '../core/renewal.ts';
import { eventsOfWrite } from '../core/write-events.ts';
import type { OverdraftGuard, WriteTx } from '../store/store.ts';
import { assignGrantIds } from './draft-grants.ts';

/** A new event id: `evt_` and 32 hex digits, the same in every delivery and read of it. */
export function newEventId(): string {
  return `evt_${randomUUID().replaceAll('-', '')}`;
}

/**
 * One account inside a write transaction: loaded (and locked) once, brought up to the
 * engine's clock (provisioned, renewed, expired holds freed), changed in memory by pure
 * decisions, and written once by `flush`, with the events the change causes.
 */
export class WorkingAccount {
  /** The row as stored, or null when this transaction provisions the account. */
  stored: AccountState | null;
  state: AccountState;
  entries: EntryDraft[];
  readonly closures: HoldClosure[];
  /** How much what fell due by the clock changed the available balance on load (see `WriteTx.updateAccount`). */
  readonly catchUp: number;
  /** The account brought up to the clock, before the operation: the middle of the write's two steps. */
  private readonly caughtUp: AccountState;
  /** How many of `entries` record what fell due by the clock. */
  private readonly dueEntries: number;
  /** Events the operation announces itself (a purchase, a refund, a dispute). */
  private readonly announced: EventDraft[] = [];
  private readonly catalog: Catalog;
  private readonly now: number;
  /**
   * A pool's holds for its members that expired on load: each member's membership frees their
   * amount with the pool's write (`flush`), unless the member's own operation took it (`takeExpired`).
   */
  private expiredForMembers: Hold[];

  private constructor(
    stored: AccountState | null,
    posted: Posted,
    closures: HoldClosure[],
    catalog: Catalog,
    now: number,
    expiredForMembers: Hold[] = [],
  ) {
    this.stored = stored;
    this.state = posted.state;
    this.caughtUp = posted.state;
    this.entries = [...posted.entries];
    this.dueEntries = stored ? posted.entries.length : 0;
    this.closures = closures;
    this.catchUp = stored ? availableOf(posted.state) - availableOf(stored) : 0;
    this.catalog = catalog;
    this.now = now;
    this.expiredForMembers = expiredForMembers;
  }

  /**
   * Loads and locks an account; a missing one is provisioned on `newPlan` (default: the config's),
   * as a pool's member when `asMember` (no allocation, no sign-up bonus: see `memberPlan`).
   */
  static async load(
    tx: WriteTx,
    id: string,
    catalog: Catalog,
    now: number,
    newPlan: string = catalog.defaultPlan,
    asMember = false,
  ): Promise<WorkingAccount> {
    const stored = await tx.lockAccount(id);
    if (!stored) {
      const plan = asMember ? memberPlan(findPlan(catalog, newPlan)) : findPlan(catalog, newPlan);
      return new WorkingAccount(null, provision(id, plan, now), [], catalog, now);
    }
    const renewed = bringUpToDate(stored, planOf(catalog, stored), now);
    const due = await tx.expiredHolds(id, now);
    const expired = expireHolds(renewed.state, due, now);
    return new WorkingAccount(
      stored,
      { state: expired.state, entries: renewed.entries },
      expired.closures,
      catalog,
      now,
      due.filter((h) => h.member !== null),
    );
  }

  /**
   * What this pool's holds for `member` that expired on load reserved: the member's own
   * operation frees it from the membership it moves; the pool's flush then leaves it alone.
   */
  takeExpired(member: string): number {
    const taken = this.expiredForMembers.filter((h) => h.member === member);
    this.expiredForMembers = this.expiredForMembers.filter((h) => h.member !== member);
    return taken.reduce((sum, h) => sum + h.amount, 0);
  }

  get provisioned(): boolean {
    return this.stored === null;
  }

  /** Whether flushing would write anything. */
  get changed(): boolean {
    return this.entries.length > 0 || this.state !== this.stored || this.announced.length > 0;
  }

  apply(posted: Posted): void {
    this.state = posted.state;
    this.entries.push(...posted.entries);
  }

  /**
   * Announces an event of the operation's own, written with the account's change; with a
   * `dedupeKey`, only if no event with that key was ever written.
   */
  emit<T extends EventType>(type: T, data: EventData[T], dedupeKey: string | null = null): void {
    this.announced.push({
      id: newEventId(),
      type,
      account: this.state.id,
      at: this.now,
      recordedAt: this.now,
      data,
      dedupeKey,
    } as EventDraft);
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

  /** Writes the account, its grants, its hold closures, its entries and its events; returns the entry ids in order. */
  async flush(tx: WriteTx, guard: OverdraftGuard): Promise<number[]> {
    if (this.state.grants.some((g) => g.id < 0)) {
      const assigned = await assignGrantIds(tx, { state: this.state, entries: this.entries });
      this.state = assigned.state;
      this.entries = assigned.entries;
    }
    this.keepInTime();
    if (this.stored) await tx.updateAccount(this.stored, this.state, guard, this.catchUp);
    else await tx.insertAccount(this.state, guard);
    if (this.closures.length > 0) await tx.closeHolds(this.closures);
    if (this.expiredForMembers.length > 0) await this.freeExpiredForMembers(tx);
    const ids = this.entries.length > 0 ? await tx.insertEntries(this.entries) : [];
    const events = eventsOfWrite(
      {
        stored: this.stored,
        caughtUp: this.caughtUp,
        final: this.state,
        entries: this.entries,
        dueEntries: this.dueEntries,
        threshold: this.state.lowBalanceThreshold ?? planLowBalanceThreshold(findPlan(this.catalog, this.state.plan)),
        now: this.now,
      },
      newEventId,
      this.announced,
    );
    if (events.length > 0) await tx.insertEvents(events);
    return ids;
  }

  /**
   * An account's entries never go back in time (migration 16's trigger refuses one that would):
   * each is written at the latest of its own time, the account's last write and the entry
   * before it. The clock can be behind the last write (stepped back, or read by a writer before
   * it waited for the account's lock); the account's `updatedAt`, the next write's floor, keeps
   * up. Only the recorded time moves, by as much as the clock was behind: what was decided by the
   * clock (what fell due, the cycle) stands.
   */
  private keepInTime(): void {
    let last = this.stored?.updatedAt ?? Number.NEGATIVE_INFINITY;
    let moved = false;
    const entries = this.entries.map((e) => {
      if (e.at >= last) {
        last = e.at;
        return e;
      }
      moved = true;
      return { ...e, at: last };
    });
    if (moved) this.entries = entries;
    if (this.state.updatedAt < last) this.state = { ...this.state, updatedAt: last };
  }

  /** Frees, in each member's membership, what this pool's expired holds for it reserved. */
  private async freeExpiredForMembers(tx: WriteTx): Promise<void> {
    const members = new Set(this.expiredForMembers.map((h) => h.member ?? ''));
    for (const member of members) {
      const stored = await tx.pools.membership(this.state.id, member);
      if (!stored) throw new Error(`hold of pool ${this.state.id} names ${member}, which has no membership`);
      const freed = this.takeExpired(member);
      await tx.pools.moveMemberships([membershipMove(stored, { ...stored, held: stored.held - freed }, this.now)]);
    }
  }
}
