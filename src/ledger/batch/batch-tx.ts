import { type AccountState, availableOf } from '../../core/account-state.ts';
import { ALLOCATION_GRANT_KINDS } from '../../core/cycle-grants.ts';
import type { EntryDraft, EntryKind, LedgerEntry, NewEntry } from '../../core/entry.ts';
import type { EventDraft } from '../../core/event.ts';
import type { Grant } from '../../core/grant.ts';
import type { Hold, HoldClosure, NewHold } from '../../core/hold.ts';
import { isTakeBack } from '../../core/payment-refund.ts';
import type { PaymentTx } from '../../store/payment-tx.ts';
import type { RecoveryTx } from '../../store/recovery-tx.ts';
import type {
  BatchSnapshot,
  BatchWrite,
  DeductionRef,
  IdempotencyRecord,
  IdempotencyRef,
  IdTable,
  KeyedDebit,
  OverdraftGuard,
  WriteTx,
} from '../../store/store.ts';
import type { TopupTx } from '../../store/topup-tx.ts';
import { WriteConflictError } from '../../store/write-conflict.ts';
import { BatchPoolTx } from './batch-pool-tx.ts';
import { TwoKeyMap } from './two-key-map.ts';

/** What a batch will touch, known before it runs: its accounts and idempotency keys. */
export interface BatchPlan {
  accounts: readonly string[];
  /** Pools locked after `accounts` (a member's lock comes before its pool's); may repeat. */
  pools?: readonly string[];
  /** The memberships the batch's members were last seen in: read in one statement once their pools are locked. */
  memberships?: readonly { pool: string; member: string }[];
  keys: readonly IdempotencyRef[];
  deductions: readonly DeductionRef[];
  /** How many operations the batch holds (most write one row each): sizes the id reservations. */
  operations: number;
  /** The engine's clock when the batch starts. */
  now: number;
}

/** Holds expiring this far past the batch's start are read up front (ms). */
const HOLD_HORIZON_MS = 60_000;

/** Ids reserved beyond what is needed at once, after a batch's first reservation ran short. */
const ID_BLOCK = 16;

interface AccountSlot {
  /** As stored when the batch locked it; null when the batch provisions it. */
  stored: AccountState | null;
  current: AccountState | null;
  /** The strictest guard any operation asked for (null: not written): a batch is exempt only if every step was. */
  guard: OverdraftGuard | null;
  /** What fell due by the clock, summed over the batch's steps (see `WriteTx.updateAccount`). */
  catchUp: number;
}

const keyOf = (account: string, operation: string, key: string) => `${account}\u0000${operation}\u0000${key}`;
const refOf = (kind: EntryKind, source: string, reference: string) => `${kind}\u0000${source}\u0000${reference}`;

/**
 * One transaction shared by a batch of operations. Each operation runs its ordinary code
 * against this `WriteTx`: reads come from rows locked and read once for the whole batch,
 * overlaid with what earlier operations of the batch changed; writes are checked here as the
 * database would check them (version, overdraft guard, active holds, unique keys) and kept in
 * memory; `flush` then writes one update per account and each table's new rows in one
 * statement, under the same guards in the database.
 */
export class BatchTx implements WriteTx {
  private readonly tx: WriteTx;
  private readonly accounts = new Map<string, AccountSlot>();
  private readonly holds = new Map<number, Hold>();
  /** Holds read from the database, by account (active, expiring within the horizon). */
  private readonly dueHolds = new Map<string, Hold[]>();
  private readonly horizon: number;
  private readonly newHolds = new Map<number, Hold>();
  private readonly closures = new Map<number, HoldClosure>();
  private readonly entries: NewEntry[] = [];
  private readonly events: EventDraft[] = [];
  private readonly references = new Map<string, LedgerEntry>();
  private readonly storedKeys = new Map<string, IdempotencyRecord | null>();
  private readonly newKeys = new Map<string, IdempotencyRecord>();
  /** Keyed debits by (account, key): read for the batch (null: none stored), then this batch's own. */
  private readonly deductions = new TwoKeyMap<KeyedDebit | null>();
  private readonly idPools: Record<IdTable, number[]> = { ledger_entries: [], holds: [], grants: [] };
  private readonly operations: number;
  private readonly reserved = new Set<IdTable>();
  readonly pools: BatchPoolTx;

  private constructor(tx: WriteTx, horizon: number, operations: number) {
    this.tx = tx;
    this.pools = new BatchPoolTx(tx.pools);
    this.horizon = horizon;
    this.operations = operations;
  }

  /** Locks the batch's accounts (in id order), reads their due holds and keys, reserves ledger ids. */
  static async open(tx: WriteTx, plan: BatchPlan): Promise<BatchTx> {
    const batch = new BatchTx(tx, plan.now + HOLD_HORIZON_MS, plan.operations);
    const named = [...new Set(plan.accounts)].sort();
    const pools = [...new Set(plan.pools ?? [])].filter((p) => !named.includes(p)).sort();
    const ids = [...named, ...pools];
    const read = await tx.openBatch({
      accounts: named,
      pools,
      keys: plan.keys,
      deductions: plan.deductions,
      holdsUntil: batch.horizon,
      // Most operations write one ledger row: one id each, drawn in the same round trip; a
      // member's charge writes a second on its pool.
      entryIds: plan.operations + (plan.memberships?.length ?? 0),
    });
    for (const state of read.accounts) {
      batch.accounts.set(state.id, { stored: state, current: state, guard: null, catchUp: 0 });
    }
    for (const id of ids) {
      if (!batch.accounts.has(id)) batch.accounts.set(id, { stored: null, current: null, guard: null, catchUp: 0 });
      batch.dueHolds.set(id, []);
    }
    for (const hold of read.holds) {
      batch.holds.set(hold.id, hold);
      batch.dueHolds.get(hold.account)?.push(hold);
    }
    for (const ref of plan.keys) batch.storedKeys.set(keyOf(ref.account, ref.operation, ref.key), null);
    for (const record of read.keys) batch.storedKeys.set(keyOf(record.account, record.operation, record.key), record);
    for (const ref of plan.deductions) batch.deductions.set(ref.account, ref.key, null);
    for (const debit of read.deductions) {
      if (debit.idempotencyKey !== null) batch.deductions.set(debit.account, debit.idempotencyKey, debit);
    }
    batch.idPools.ledger_entries.push(...read.entryIds);
    if (plan.memberships && plan.memberships.length > 0) await batch.pools.prefetch(plan.memberships);
    return batch;
  }

  get payments(): PaymentTx {
    return this.tx.payments;
  }

  get recovery(): RecoveryTx {
    return this.tx.recovery;
  }

  get topups(): TopupTx {
    return this.tx.topups;
  }

  async lockAccount(id: string): Promise<AccountState | undefined> {
    let slot = this.accounts.get(id);
    if (!slot) {
      // An account the plan did not name (a member's pool): lock it now, and read its holds
      // due within the horizon once, as `open` does for the plan's, not once per operation.
      const stored = (await this.tx.lockAccount(id)) ?? null;
      slot = { stored, current: stored, guard: null, catchUp: 0 };
      this.accounts.set(id, slot);
      // Ledger ids reserved before this lock may be below ids another writer of this account
      // used since: the entries of an account must follow in id order (its balance chain), so
      // the rest of the batch draws ids from here on.
      this.idPools.ledger_entries = [];
      const due = stored ? await this.tx.expiredHolds(id, this.horizon) : [];
      for (const hold of due) this.holds.set(hold.id, hold);
      this.dueHolds.set(id, due);
    }
    return slot.current ?? undefined;
  }

  async findIdempotency(account: string, operation: string, key: string): Promise<IdempotencyRecord | undefined> {
    const k = keyOf(account, operation, key);
    const pending = this.newKeys.get(k);
    if (pending) return pending;
    if (this.storedKeys.has(k)) return this.storedKeys.get(k) ?? undefined;
    const record = await this.tx.findIdempotency(account, operation, key);
    this.storedKeys.set(k, record ?? null);
    return record;
  }

  async findDeduction(account: string, key: string): Promise<KeyedDebit | undefined> {
    // null: read for the batch, and none is stored.
    const known = this.deductions.get(account, key);
    if (known !== undefined) return known ?? undefined;
    const debit = await this.tx.findDeduction(account, key);
    this.deductions.set(account, key, debit ?? null);
    return debit;
  }

  async findEntryByReference(kind: EntryKind, source: string, reference: string): Promise<LedgerEntry | undefined> {
    return this.references.get(refOf(kind, source, reference)) ?? this.tx.findEntryByReference(kind, source, reference);
  }

  async allocationGrantsSince(account: string, since: number): Promise<LedgerEntry[]> {
    const stored = await this.tx.allocationGrantsSince(account, since);
    const pending = this.entries.filter(
      (e) => e.account === account && e.at >= since && ALLOCATION_GRANT_KINDS.includes(e.kind),
    );
    return [...stored, ...pending];
  }

  async getHold(id: number): Promise<Hold | undefined> {
    const hold = this.newHolds.get(id) ?? this.holds.get(id) ?? (await this.tx.getHold(id));
    if (!hold) return undefined;
    const closure = this.closures.get(id);
    return closure ? { ...hold, ...closure } : hold;
  }

  grantsById(account: string, ids: readonly number[]): Promise<Grant[]> {
    return this.tx.grantsById(account, ids);
  }

  async takeBackSteps(account: string, source: string, prefix: string): Promise<LedgerEntry[]> {
    const stored = await this.tx.takeBackSteps(account, source, prefix);
    const pending = this.entries.filter(
      (e) => e.account === account && e.source === source && isTakeBack(e) && e.reference?.startsWith(prefix) === true,
    );
    return [...stored, ...pending];
  }

  findGrant(account: string, source: string, reference: string): Promise<Grant | undefined> {
    return this.tx.findGrant(account, source, reference);
  }

  grantIds(count: number): Promise<number[]> {
    return this.takeIds('grants', count);
  }

  async expiredHolds(account: string, now: number): Promise<Hold[]> {
    const due = this.dueHolds.get(account);
    const read = due && now <= this.horizon ? due : await this.tx.expiredHolds(account, now);
    if (read.length === 0 && this.newHolds.size === 0) return [];
    const fresh = [...this.newHolds.values()].filter((h) => h.account === account);
    return [...read, ...fresh]
      .filter((h) => h.status === 'active' && h.expiresAt <= now && !this.closures.has(h.id))
      .sort((a, b) => a.id - b.id);
  }

  async insertAccount(state: AccountState, guard: OverdraftGuard): Promise<void> {
    const slot = this.accounts.get(state.id);
    if (slot?.current) throw new WriteConflictError(`account ${state.id} already exists`);
    if (guard === 'no_overdraft' && availableOf(state) < 0) {
      throw new WriteConflictError(`account ${state.id} would open below zero`);
    }
    const current = { ...state, version: 1 };
    this.accounts.set(state.id, { stored: null, current, guard: strictest(slot?.guard ?? null, guard), catchUp: 0 });
  }

  async updateAccount(before: AccountState, after: AccountState, guard: OverdraftGuard, catchUp = 0): Promise<void> {
    const slot = this.accounts.get(before.id);
    const current = slot?.current;
    if (!slot || !current || current.version !== before.version) {
      throw new WriteConflictError(`account ${before.id} changed since version ${before.version}`);
    }
    // The database's guard, step by step: each step keeps available >= min(0, available before
    // it once what fell due is applied). The one UPDATE at the end checks the whole batch against
    // the stored row plus everything that fell due; a batch that passes each step but not that
    // (a rare mix of freed and expired tokens) is refused whole and its operations run alone.
    if (guard === 'no_overdraft' && availableOf(after) < Math.min(0, availableOf(current) + catchUp)) {
      throw new WriteConflictError(`account ${before.id} would overdraw`);
    }
    slot.current = { ...after, version: before.version + 1 };
    slot.guard = strictest(slot.guard, guard);
    slot.catchUp += catchUp;
  }

  async insertEntries(drafts: readonly EntryDraft[]): Promise<number[]> {
    // Each await costs a turn of the microtask queue: the ids `open` reserved, and the keys it
    // read, are taken without one (two of a keyed deduction's 13: docs/SCALING.md, session 23).
    const ids =
      this.reservedIds('ledger_entries', drafts.length) ?? (await this.takeIds('ledger_entries', drafts.length));
    for (const [i, draft] of drafts.entries()) {
      const entry: NewEntry = { ...draft, id: ids[i] as number };
      if (entry.reference !== null && entry.source !== null) {
        const ref = refOf(entry.kind, entry.source, entry.reference);
        if (this.references.has(ref)) throw new WriteConflictError(`${entry.kind} ${ref} recorded twice`);
        this.references.set(ref, entry);
      }
      if (entry.kind === 'debit' && entry.idempotencyKey !== null) {
        // The database's unique (account, key) index on debits, checked as it will be.
        const known = this.deductions.get(entry.account, entry.idempotencyKey);
        const prior = known === undefined ? await this.findDeduction(entry.account, entry.idempotencyKey) : known;
        if (prior !== undefined && prior !== null) {
          throw new WriteConflictError(`deduction key ${entry.idempotencyKey} recorded twice`);
        }
        this.deductions.set(entry.account, entry.idempotencyKey, entry);
      }
      this.entries.push(entry);
    }
    return ids;
  }

  async insertEvents(events: readonly EventDraft[]): Promise<void> {
    this.events.push(...events);
  }

  async insertHold(hold: NewHold): Promise<number> {
    const [id] = await this.takeIds('holds', 1);
    if (id === undefined) throw new Error('no hold id reserved');
    this.newHolds.set(id, { ...hold, id, status: 'active', charged: 0, closedAt: null });
    return id;
  }

  async closeHolds(closures: readonly HoldClosure[]): Promise<void> {
    for (const c of closures) {
      const hold = this.newHolds.get(c.id) ?? this.holds.get(c.id) ?? (await this.tx.getHold(c.id));
      if (hold?.status !== c.from || this.closures.has(c.id)) {
        throw new WriteConflictError(`hold ${c.id} is no longer ${c.from}`);
      }
      // A batch settles no hold by id: a pool's hold only expires in one (as its write refuses otherwise).
      if (hold.member !== null && c.status !== 'expired') {
        throw new WriteConflictError(`hold ${c.id} is a pool's hold: a batch only expires it`);
      }
      this.closures.set(c.id, c);
    }
  }

  async saveIdempotency(record: IdempotencyRecord): Promise<void> {
    const k = keyOf(record.account, record.operation, record.key);
    if (this.newKeys.has(k) || this.storedKeys.get(k)) {
      throw new WriteConflictError(`idempotency key ${record.key} saved twice`);
    }
    this.newKeys.set(k, record);
  }

  /** Writes everything the batch decided, at once. */
  async flush(): Promise<void> {
    const write: BatchWrite = {
      created: [],
      changes: [],
      closures: [],
      holds: [],
      entries: this.entries,
      keys: [],
      events: this.events,
      memberships: this.pools.pending(),
    };
    for (const slot of this.accounts.values()) {
      if (!slot.current || slot.guard === null) continue;
      if (slot.stored) {
        write.changes.push({ before: slot.stored, after: slot.current, guard: slot.guard, catchUp: slot.catchUp });
      } else write.created.push({ state: slot.current, guard: slot.guard });
    }
    for (const closure of this.closures.values()) if (!this.newHolds.has(closure.id)) write.closures.push(closure);
    for (const hold of this.newHolds.values()) {
      const closure = this.closures.get(hold.id);
      write.holds.push(closure ? { ...hold, ...closure } : hold);
    }
    write.keys.push(...this.newKeys.values());
    await this.tx.writeBatch(write);
  }

  /** `count` ids of those already reserved for `table`, or null when fewer are left. */
  private reservedIds(table: IdTable, count: number): number[] | null {
    const pool = this.idPools[table];
    return pool.length >= count ? pool.splice(0, count) : null;
  }

  private async takeIds(table: IdTable, count: number): Promise<number[]> {
    const pool = this.idPools[table];
    if (pool.length < count) {
      // Ledger ids for the whole batch come with `open`; holds' on first need, one for each
      // operation of the batch; past those, a block at a time.
      // Ids reserved and not used are never written: SQLite's next batch starts after the last
      // written one; on PostgreSQL they are gaps, as after any rollback.
      const extra = this.reserved.has(table) || table !== 'holds' ? ID_BLOCK : this.operations - 1;
      this.reserved.add(table);
      pool.push(...(await this.tx.allocateIds(table, count - pool.length + extra)));
    }
    return pool.splice(0, count);
  }

  // Operations of a batch never call these: they are the batch's own statements.
  allocateIds(): Promise<number[]> {
    throw new Error('not available inside a batch');
  }
  openBatch(): Promise<BatchSnapshot> {
    throw new Error('not available inside a batch');
  }
  writeBatch(): Promise<void> {
    throw new Error('not available inside a batch');
  }
}

/** `exempt` only when every step was exempt; one guarded step makes the whole write guarded. */
function strictest(a: OverdraftGuard | null, b: OverdraftGuard): OverdraftGuard {
  return a === null ? b : a === 'exempt' && b === 'exempt' ? 'exempt' : 'no_overdraft';
}
