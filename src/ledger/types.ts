import type { LedgerEntry } from '../core/entry.ts';
import type { Hold } from '../core/hold.ts';

export interface DeductInput {
  account: string;
  feature: string;
  /** Units used; the cost is the feature's cost times this. Default 1. */
  quantity?: number;
  idempotencyKey?: string;
}

export interface Deducted {
  ok: true;
  account: string;
  feature: string;
  quantity: number;
  cost: number;
  balanceBefore: number;
  balance: number;
  available: number;
  entryId: number;
  /** True when an idempotency key replayed an earlier result instead of charging. */
  replayed: boolean;
  /** For a pool's member: the tokens of `cost` the pool paid (`balance` is the member's own). */
  pooled?: number;
}

/** An expected refusal: nothing was written. */
export interface Refusal {
  ok: false;
  code: 'insufficient_tokens' | 'idempotency_conflict' | 'balance_changed' | 'hold_not_active';
  message: string;
  account: string;
  balance: number;
  available: number;
  /** For insufficient_tokens: what the operation would have cost. */
  cost?: number;
}

export type DeductResult = Deducted | Refusal;

export interface CheckInput {
  account: string;
  feature: string;
  quantity?: number;
}

export interface CheckResult {
  account: string;
  feature: string;
  quantity: number;
  allowed: boolean;
  cost: number;
  balance: number;
  available: number;
  featuresDisabled: boolean;
  /** Why it is not allowed, in the words a deduction would refuse with. */
  message: string | null;
}

export interface CreditInput {
  account: string;
  tokens: number;
  /** Where the tokens come from (e.g. `stripe`, `grant`); with reference, the idempotency key. */
  source: string;
  reference: string;
  kind?: 'credit' | 'purchase';
  reason?: string;
  actor?: string;
}

export interface Credited {
  ok: true;
  account: string;
  tokens: number;
  balance: number;
  available: number;
  entryId: number;
  replayed: boolean;
}

export type CreditResult = Credited | Refusal;

/** `ledger.grant`: tokens granted by a caller (never `included`, which only a plan grants). */
export interface GrantInput {
  account: string;
  tokens: number;
  category: 'promotional' | 'paid';
  /** Date or epoch milliseconds; absent: never expires. */
  expiresAt?: Date | number | null;
  /** Date or epoch milliseconds; absent: now. */
  effectiveAt?: Date | number;
  /** 0 to 100, lower is spent first; default 50. */
  priority?: number;
  reason: string;
  actor: string;
  /** Makes the grant once: the same reference with the same parameters returns the first grant. */
  reference?: string;
}

export type AdjustInput = {
  account: string;
  reason: string;
  actor: string;
  /** Refuse with balance_changed unless the balance is still this. */
  expectedBalance?: number;
  /** Optional evidence link; with both set the adjustment happens at most once. */
  source?: string;
  reference?: string;
  /** Scoped to (account, 'adjust'): a repeat replays the first result; other parameters are idempotency_conflict. */
  idempotencyKey?: string;
} & ({ amount: number; setBalance?: undefined } | { setBalance: number; amount?: undefined });

export interface Adjusted {
  ok: true;
  account: string;
  delta: number;
  balanceBefore: number;
  balance: number;
  available: number;
  /** Null when the balance already was the one asked for, so nothing was written. */
  entryId: number | null;
  replayed: boolean;
}

export type AdjustResult = Adjusted | Refusal;

export interface SetPlanInput {
  account: string;
  plan: string;
  reason: string;
  actor: string;
}

export interface PlanChanged {
  ok: true;
  account: string;
  previousPlan: string | null;
  plan: string;
  balance: number;
  available: number;
  rolledOver: number;
  entryId: number | null;
}

export interface ReserveInput {
  account: string;
  /** Reserve the cost of this feature (times quantity)... */
  feature?: string;
  quantity?: number;
  /** ...or this many tokens. */
  amount?: number;
  /** Default 300 s. */
  ttlSeconds?: number;
  idempotencyKey?: string;
  /**
   * Whose keys `idempotencyKey` is unique among: `reserve` (the default) for callers of
   * `reserve`, `run_hold` for the service's token gate, so a gate run and a direct reservation
   * with the same key never answer for each other, and the key keeps its full 255 characters.
   */
  keyScope?: 'reserve' | 'run_hold';
}

export interface Reserved {
  ok: true;
  account: string;
  holdId: number;
  amount: number;
  expiresAt: number;
  balance: number;
  available: number;
  replayed: boolean;
}

export type ReserveResult = Reserved | Refusal;

export interface HoldSettled {
  ok: true;
  account: string;
  holdId: number;
  status: 'committed' | 'released';
  reserved: number;
  charged: number;
  /** Tokens asked for beyond what the account could pay (commit only). */
  shortfall: number;
  balance: number;
  available: number;
  entryId: number | null;
}

export type HoldResult = HoldSettled | Refusal;

export interface HistoryOptions {
  limit?: number;
  cursor?: string | null;
}

export interface History {
  account: string;
  entries: LedgerEntry[];
  nextCursor: string | null;
}

export interface ReconcileReport {
  accountsChecked: number;
  drift: {
    account: string;
    check: string;
    expected: number;
    actual: number;
    entryId: number | null;
  }[];
}

export type { Hold, LedgerEntry };

export interface ImportAccountInput {
  /** The legacy app's user id. */
  account: string;
  plan: string;
  /** The legacy balance (NULL already replaced by the plan's allocation); may be negative. */
  balance: number;
  /** The legacy "used this month" counter. Default 0. */
  usedThisCycle?: number;
  /** Recorded on the opening entry: where the account came from. */
  reason?: string;
  actor?: string;
}

export interface ImportOptions {
  /** Decide everything inside the transaction, then roll it back: an exact preview that writes nothing. */
  dryRun?: boolean;
}

/** What importing one legacy account did. Nothing is ever overwritten. */
export type ImportOutcome =
  | {
      status: 'imported';
      account: string;
      plan: string;
      balance: number;
      allocation: number;
      purchased: number;
      usedThisCycle: number;
      /** The opening_balance entry; null in a dry run. */
      entryId: number | null;
    }
  | {
      /** An earlier import opened it: nothing is written again. */
      status: 'already_imported';
      account: string;
      /** tokenmeter's balance now. */
      balance: number;
      /** The balance the earlier import opened it with. */
      importedBalance: number;
      importedAt: number;
      entryId: number;
    }
  | {
      /** tokenmeter already holds this account (provisioned by use): it is left as it is. */
      status: 'already_active';
      account: string;
      /** tokenmeter's balance now. */
      balance: number;
      /** The balance the legacy source holds. */
      legacyBalance: number;
      plan: string;
    };

export interface JoinPoolInput {
  member: string;
  pool: string;
  /** Tokens the member may take from the pool per pool cycle; null or absent: no limit. */
  limitPerCycle?: number | null;
}

/** A membership as reads show it, its usage as of the pool's current cycle. */
export interface MembershipView {
  pool: string;
  member: string;
  limitPerCycle: number | null;
  /** Tokens drawn from the pool in the pool's current cycle. */
  usedThisCycle: number;
  /** Tokens the member's live holds reserve from the pool. */
  held: number;
  /** What the member may still take this cycle (null: no limit). */
  remainingThisCycle: number | null;
  cycleStart: number;
  joinedAt: number;
}
