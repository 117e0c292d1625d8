import type { AccountState } from '../core/account-state.ts';
import type { EntryDraft, EntryKind, LedgerEntry, NewEntry } from '../core/entry.ts';
import type { EventDraft } from '../core/event.ts';
import type { Grant } from '../core/grant.ts';
import type { Hold, HoldClosure, NewHold } from '../core/hold.ts';
import type { Membership, MembershipMove } from '../core/pool.ts';
import type { PaymentTx } from './payment-tx.ts';
import type { PoolTx } from './pool-tx.ts';
import type { RecoveryTx } from './recovery-tx.ts';
import type { ServiceStore } from './service-store.ts';
import type { TopupTx } from './topup-tx.ts';
import type { WriterThread } from './writer-thread.ts';

/** A stored idempotent response: the first successful result of (account, operation, key). */
export interface IdempotencyRecord {
  account: string;
  operation: string;
  key: string;
  /** The normalized parameters; the same key with other parameters is a conflict. */
  fingerprint: string;
  /** The JSON of the first result, replayed verbatim. */
  response: string;
  createdAt: number;
}

/**
 * A keyed deduction's debit entry: the one row that records it, and from which its replay is
 * rebuilt. The database holds one per (account, key) (a partial UNIQUE index on debits).
 */
export interface KeyedDebit extends LedgerEntry {
  /**
   * `held` after the debit. Null for a debit written before migration 6 (stored as -1, which no
   * `held` can be): its answer is the one stored in idempotency_keys.
   */
  heldAfter: number | null;
}

/** A deduction's idempotency key, unique per account. */
export interface DeductionRef {
  account: string;
  key: string;
}

/**
 * How the store guards an account update. `no_overdraft`: the write itself refuses to take
 * the available balance below zero (or lower, when it is already below). `exempt`: operator
 * adjustments, refunds and plan changes, the only paths that may leave a balance negative.
 */
export type OverdraftGuard = 'no_overdraft' | 'exempt';

/** The operations of one write transaction. Every write of an operation goes through one of these. */
export interface WriteTx {
  /** Payments, provider events, customers and subscriptions, in this same transaction. */
  readonly payments: PaymentTx;
  /** What `recover` counted (recovered_lines), in this same transaction. */
  readonly recovery: RecoveryTx;
  /** Automatic top-up: settings, saved cards, intents. */
  readonly topups: TopupTx;
  /** Pool memberships (written under the pool's lock). */
  readonly pools: PoolTx;
  /**
   * Reads an account with its live grants (see `AccountState.grants`) and locks it against
   * other writers until the transaction ends.
   */
  lockAccount(id: string): Promise<AccountState | undefined>;
  findIdempotency(account: string, operation: string, key: string): Promise<IdempotencyRecord | undefined>;
  /** The debit a keyed deduction wrote under `key` on `account`, if any. */
  findDeduction(account: string, key: string): Promise<KeyedDebit | undefined>;
  findEntryByReference(kind: EntryKind, source: string, reference: string): Promise<LedgerEntry | undefined>;
  /**
   * The account's entries of `ALLOCATION_GRANT_KINDS` at or after `since`, oldest first (what
   * its current cycle has granted is decided from them), read from the few such entries however
   * many the account has. Read after `lockAccount`, so no concurrent writer of the account can
   * add one before this transaction ends.
   */
  allocationGrantsSince(account: string, since: number): Promise<LedgerEntry[]>;
  getHold(id: number): Promise<Hold | undefined>;
  /** Grants of `account` among `ids` (any status), as stored: for a reversal into a used-up grant. */
  grantsById(account: string, ids: readonly number[]): Promise<Grant[]>;
  /**
   * The account's take-back steps (`TAKE_BACK_KINDS`) from `source` whose reference starts with
   * `prefix`, oldest first: read from the few such entries, however many the account has.
   */
  takeBackSteps(account: string, source: string, prefix: string): Promise<LedgerEntry[]>;
  /** The account's grant created by (source, reference), if any. */
  findGrant(account: string, source: string, reference: string): Promise<Grant | undefined>;
  /** Reserves ids for new grants (written with those ids by the account's update). */
  grantIds(count: number): Promise<number[]>;
  /** Active holds of an account whose expiry is at or before `now`. */
  expiredHolds(account: string, now: number): Promise<Hold[]>;
  /**
   * Inserts a new account and its grants (all of `state.grants`, with ids from `grantIds`);
   * refused by the database when an overdraft-guarded one would start below zero.
   */
  insertAccount(state: AccountState, guard: OverdraftGuard): Promise<void>;
  /**
   * Moves an account from `before` to `after` in one conditional UPDATE: the bucket sums and the
   * debt change as deltas, only if the row still has `before.version`, and under the guard. Its
   * grants change with it (`grantChanges`): new ones inserted, and each changed one by a delta
   * UPDATE of `remaining` guarded in the write (`remaining + delta` within 0..tokens, the status
   * still the one read). Throws when any row did not match (a bug or a lost race), so the
   * transaction rolls back.
   *
   * `catchUp`: how much what fell due by the clock in this write (renewals, grants taking effect
   * or expiring, expired holds freed) changed the available balance before the operation ran.
   * The guard holds the operation to the account as it stood after that (available after >=
   * min(0, available before + catchUp)): an expiry is no spending, and may leave available below
   * zero (a live hold's reservation is still payable); freed holds are available to spend.
   */
  updateAccount(before: AccountState, after: AccountState, guard: OverdraftGuard, catchUp?: number): Promise<void>;
  /** Appends entries in order and returns their ids. */
  insertEntries(entries: readonly EntryDraft[]): Promise<number[]>;
  /**
   * Appends events (the outbox) in order, after the accounts they name were locked and written in
   * this transaction: each gets the account's next `sequence`, and a pending delivery for every
   * webhook endpoint that wants its type.
   */
  insertEvents(events: readonly EventDraft[]): Promise<void>;
  insertHold(hold: NewHold): Promise<number>;
  /** Closes active holds; throws if any of them was not active any more. */
  closeHolds(closures: readonly HoldClosure[]): Promise<void>;
  saveIdempotency(record: IdempotencyRecord): Promise<void>;

  // Group commit: a batch of operations reads once, decides in memory, and writes once.

  /**
   * Locks the batch's accounts (in id order, so batches never deadlock) and then its pools,
   * then reads their active holds expiring by `holdsUntil`, the stored idempotency keys among `keys`, the debits
   * recorded under `deductions`, and reserves `entryIds` ledger ids. Accounts that do not exist are simply absent.
   */
  openBatch(read: BatchRead): Promise<BatchSnapshot>;
  /** Reserves more ids for rows this transaction will insert with explicit ids. */
  allocateIds(table: IdTable, count: number): Promise<number[]>;
  /**
   * Writes everything a batch decided (one statement on PostgreSQL). Throws, so the whole
   * transaction rolls back, if any guarded update, hold closure or unique row did not apply.
   */
  writeBatch(write: BatchWrite): Promise<void>;
}

/** Tables whose rows a batch inserts with ids reserved up front. */
export type IdTable = 'ledger_entries' | 'holds' | 'grants';

export interface BatchRead {
  /** Sorted, distinct. */
  accounts: readonly string[];
  /**
   * Pools of the batch's members, locked after `accounts` (sorted, distinct, none of
   * `accounts`): a member's lock comes before its pool's in every writer. The ledger ids are
   * drawn after every lock, so no entry of a locked account can get an id below one another
   * writer gave it first.
   */
  pools: readonly string[];
  keys: readonly IdempotencyRef[];
  /** Keys of the batch's keyed deductions. */
  deductions: readonly DeductionRef[];
  holdsUntil: number;
  entryIds: number;
}

export interface BatchSnapshot {
  accounts: AccountState[];
  holds: Hold[];
  keys: IdempotencyRecord[];
  deductions: KeyedDebit[];
  /** Ascending. */
  entryIds: number[];
}

export interface BatchWrite {
  created: { state: AccountState; guard: OverdraftGuard }[];
  changes: AccountChange[];
  closures: HoldClosure[];
  /** New holds with their ids, already in their final status. */
  holds: Hold[];
  entries: NewEntry[];
  keys: IdempotencyRecord[];
  /** The batch's events, in order (most batches have none). */
  events: EventDraft[];
  /** Pool memberships' usage moves, one per membership (most batches have none). */
  memberships: MembershipMove[];
}

export interface IdempotencyRef {
  account: string;
  operation: string;
  key: string;
}

/** One account moved from `before` (as stored) to `after`, under `guard` (see `WriteTx.updateAccount` for `catchUp`). */
export interface AccountChange {
  before: AccountState;
  after: AccountState;
  guard: OverdraftGuard;
  catchUp: number;
}

/** An account and its active holds as of one instant; for a pool's member, its pool too. */
export interface AccountSnapshot {
  account: AccountState;
  holds: Hold[];
  /** For an account in a pool: its membership, and the pool with its active holds, in the same snapshot. */
  pool?: { membership: Membership; account: AccountState; holds: Hold[] } | null;
}

export interface HistoryPage {
  entries: LedgerEntry[];
  /** Pass back to get the next (older) page; null at the end. */
  nextCursor: string | null;
}

/** One way an account's stored figures disagree with its ledger. */
export interface Drift {
  account: string;
  /**
   * `grant`: a grant's remaining is not the sum of its moves (`entryId` is then the grant's id);
   * `grants`: a bucket sum is not its grants' remaining, or a closed grant keeps tokens;
   * `pool_usage` / `pool_held`: a pool member's usage this cycle or held (`account` is the member)
   * is not what the pool's entries and holds naming it say.
   */
  check:
    | 'balance'
    | 'allocation'
    | 'purchased'
    | 'promotional'
    | 'debt'
    | 'held'
    | 'chain'
    | 'grant'
    | 'grants'
    | 'pool_usage'
    | 'pool_held';
  /** What the ledger (or the holds) say the figure should be. */
  expected: number;
  /** What is stored. */
  actual: number;
  /** For `chain`: the first entry whose balance-after does not follow from the one before. */
  entryId: number | null;
}

export interface ReconcileScan {
  accountsChecked: number;
  drift: Drift[];
}

/** Plans and features that stored data still refers to (a config must keep them). */
export interface UsageInUse {
  plans: string[];
  features: string[];
}

/**
 * Persistence for the engine. Reads see committed data only; `write` runs one serialized,
 * atomic transaction (retried internally only for transient conflicts, never half-applied).
 */
export interface Store {
  readonly backend: 'sqlite' | 'postgres';
  /** A description safe to log (no credentials). */
  readonly location: string;
  /** Keys, shared settings, one-time tokens and operator reads, beside the ledger. */
  readonly service: ServiceStore;
  migrate(): Promise<void>;
  write<T>(fn: (tx: WriteTx) => Promise<T>): Promise<T>;
  getAccount(id: string): Promise<AccountState | undefined>;
  /**
   * An account and its active holds as of one instant (one snapshot): never a row from before
   * a write and holds from after it.
   */
  getAccountWithHolds(id: string): Promise<AccountSnapshot | undefined>;
  activeHolds(account: string): Promise<Hold[]>;
  getHold(id: number): Promise<Hold | undefined>;
  /** An account's grants, newest first: the live ones, or with `includeInactive` all of them. */
  grants(account: string, options: { includeInactive: boolean }): Promise<Grant[]>;
  /** One grant by id, any account, any status. */
  getGrant(id: number): Promise<Grant | undefined>;
  history(account: string, options: { limit: number; cursor: string | null }): Promise<HistoryPage>;
  /** Sum of the account's entries at or before `time`. */
  balanceAt(account: string, time: number): Promise<number>;
  reconcile(): Promise<ReconcileScan>;
  inUse(): Promise<UsageInUse>;
  /** A consistent copy of the database, taken while it serves. */
  backup(file: string): Promise<void>;
  /**
   * Calls `onEvents` when another process commits events (PostgreSQL's LISTEN/NOTIFY); resolves
   * to what stops it. Absent where only polling can tell (SQLite).
   */
  watchEvents?(onEvents: () => void): Promise<() => Promise<void>>;
  /** Calls `onIntents` when any process records a top-up intent (PostgreSQL server only, like `watchEvents`). */
  watchTopups?(onIntents: () => void): Promise<() => Promise<void>>;
  /** Present where the writer runs on a thread of its own (SQLite's worker): code can run beside it. */
  readonly writerThread?: WriterThread;
  close(): Promise<void>;
}
