import type { AutoTopupSettings } from '../core/auto-topup.ts';
import type { TopupCharge } from '../core/topup-charge.ts';

/** A card saved for off-session charges, as stored (brand and last four digits only). */
export interface SavedMethodRow {
  account: string;
  provider: string;
  methodId: string;
  brand: string;
  last4: string;
  savedAt: number;
}

export type TopupIntentStatus = 'pending' | 'charging' | 'succeeded' | 'failed' | 'cancelled' | 'limited';

/** A recorded need to top up: written by the database in the transaction of the write that crossed the threshold. */
export interface TopupIntent {
  id: number;
  account: string;
  /** 1, 2, 3 per account: unique with the account. */
  sequence: number;
  /** `pending`: waiting for an attempt; `charging`: an attempt is under way (its payment may exist at the provider). */
  status: TopupIntentStatus;
  /** Attempts started; the current one while `charging`. */
  attempt: number;
  provider: string | null;
  /** The provider's payment of the current attempt, stored before it is confirmed. */
  paymentId: string | null;
  /**
   * What the current (or last) attempt charges for, fixed when it started; null while pending, and
   * on an attempt started before migration 20.
   */
  charge: TopupCharge | null;
  claim: string | null;
  nextAttemptAt: number | null;
  error: string | null;
  createdAt: number;
  updatedAt: number;
  settledAt: number | null;
}

export type IntentChange = Partial<
  Pick<
    TopupIntent,
    'status' | 'attempt' | 'provider' | 'paymentId' | 'charge' | 'claim' | 'nextAttemptAt' | 'error' | 'settledAt'
  >
>;

/** An off-session charge the offline test provider made (one per idempotency key). */
export interface TestChargeRow {
  idempotencyKey: string;
  paymentId: string;
  account: string;
  methodId: string;
  amount: number;
  currency: string;
  status: 'succeeded' | 'failed';
  reason: string | null;
  createdAt: number;
}

/** Automatic top-up's statements inside a write transaction. */
export interface TopupTx {
  settings(account: string): Promise<AutoTopupSettings | undefined>;
  /** Inserts or replaces an account's settings; the database re-arms `accounts.topup_threshold` from them. */
  saveSettings(settings: AutoTopupSettings): Promise<void>;
  /** The account's most recently saved card, of any provider. */
  savedMethod(account: string): Promise<SavedMethodRow | undefined>;
  /** Remembers a card as the account's for its provider (replacing an earlier one). */
  saveMethod(method: SavedMethodRow): Promise<void>;
  intent(id: number): Promise<TopupIntent | undefined>;
  /** Records an intent (numbered next for the account) unless one is open; whether it did. Call under the account's lock. */
  insertIntent(account: string, now: number): Promise<boolean>;
  /** Changes an intent; with `from`, only while its status and attempt are still those (whether it did). */
  updateIntent(
    id: number,
    change: IntentChange & { updatedAt: number },
    from?: { status: TopupIntentStatus; attempt: number },
  ): Promise<boolean>;
  /** Successful top-ups of the account settled at or after `since`. */
  succeededSince(account: string, since: number): Promise<number>;
  /** The account's intents, newest first. */
  intents(account: string, limit: number): Promise<TopupIntent[]>;
  /**
   * Claims up to `limit` open intents due by `now` (skipping ones another process is claiming),
   * moving each one's `next_attempt_at` to `leaseUntil`: a worker that dies leaves them due again then.
   */
  claimDue(now: number, leaseUntil: number, claim: string, limit: number): Promise<TopupIntent[]>;
  /** When the earliest open intent falls due, or null. */
  nextDue(): Promise<number | null>;
  /** Stores a test charge unless one with its key exists; returns the one stored. */
  recordTestCharge(charge: TestChargeRow): Promise<TestChargeRow>;
  testCharge(paymentId: string): Promise<TestChargeRow | undefined>;
  testCharges(account: string): Promise<TestChargeRow[]>;
}
