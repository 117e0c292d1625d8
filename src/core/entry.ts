import type { GrantMove } from './grant.ts';

/** Ledger entry kinds: one kind per meaning. */
export const ENTRY_KINDS = [
  'opening_balance',
  'debit',
  'hold_commit',
  'credit',
  'purchase',
  'payment_refund',
  'adjustment',
  'plan_change',
  'cycle_grant',
  'cycle_expiry',
  'import',
  'debit_reversal',
  'grant',
  'grant_expiry',
  'grant_void',
  'bucket_migration',
] as const;

export type EntryKind = (typeof ENTRY_KINDS)[number];

/** A ledger entry before it is written (no id yet). Amounts are signed integers. */
export interface EntryDraft {
  account: string;
  kind: EntryKind;
  /** allocationDelta + purchasedDelta + promotionalDelta - debtDelta: the balance's change. */
  amount: number;
  /** Change of the included grants' remaining. */
  allocationDelta: number;
  /** Change of the paid grants' remaining. */
  purchasedDelta: number;
  /** Change of the promotional grants' remaining. */
  promotionalDelta: number;
  /** Change of the account's debt (what exempt operations took beyond its grants). */
  debtDelta: number;
  /** Which grants this entry drew from or added to, and by how much. */
  grantMoves: GrantMove[];
  balanceAfter: number;
  feature: string | null;
  quantity: number | null;
  idempotencyKey: string | null;
  source: string | null;
  /** With source, unique per kind: it makes credits, grants and recoveries idempotent. */
  reference: string | null;
  reason: string | null;
  actor: string | null;
  at: number;
  /**
   * The account's `held` once this entry's move applied, beside `balanceAfter`: with it a keyed
   * deduction's answer (`available` after it) is rebuilt from the entry alone.
   */
  heldAfter: number;
  /** On a pool member's entry: the pool it drew with (its stored answer is in idempotency_keys). */
  poolId?: string | null;
  /** On a pool's entry: the member whose use drew it. */
  memberId?: string | null;
  /** On a pool member's entry: the tokens of this use the pool paid (its own entry records them). */
  pooled?: number;
}

/** A written ledger entry, as history and reads show it. */
export interface LedgerEntry extends Omit<EntryDraft, 'heldAfter'> {
  id: number;
}

/** An entry this version writes: with its id and every figure of the draft. */
export interface NewEntry extends EntryDraft {
  id: number;
}
