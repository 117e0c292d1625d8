import type { AccountState } from '../core/account-state.ts';
import type { DisputeStatus } from '../core/dispute-status.ts';
import type { EntryKind } from '../core/entry.ts';
import type { Membership } from '../core/pool.ts';
import type { OutboxStore } from './outbox-store.ts';
import type { PaymentRow, SubscriptionRow } from './payment-tx.ts';
import type { HistoryPage } from './store.ts';

export type KeyScope = 'app' | 'admin';

/** A secret API key as stored: never the key itself, only its SHA-256 and a display prefix. */
export interface ApiKeyRecord {
  id: number;
  name: string;
  scope: KeyScope;
  hash: string;
  prefix: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface AccountPage {
  accounts: AccountState[];
  nextCursor: string | null;
}

/** How the operator's account list is ordered. */
export type AccountSort = 'account' | 'balance' | 'available' | 'last_activity';
export const ACCOUNT_SORTS: readonly AccountSort[] = ['account', 'balance', 'available', 'last_activity'];

/** The account list's filters, on the stored figures. */
export interface AccountFilters {
  /** Available (balance − held) at or below 0: what the gate refuses. */
  featuresDisabled?: boolean;
  negativeBalance?: boolean;
  /** Automatic top-up enabled (active or suspended). */
  autoTopup?: boolean;
  /** A member of a shared pool (its `poolId` is set). */
  pool?: boolean;
}

export interface AccountListQuery {
  /** Accounts whose id contains this text, or every account. */
  query: string | null;
  limit: number;
  /** A cursor from a page of the same sort and order. */
  cursor: string | null;
  sort?: AccountSort;
  order?: 'asc' | 'desc';
  filters?: AccountFilters;
}

export interface PaymentListQuery {
  account?: string;
  /** Only payments with money refunded. */
  refundedOnly?: boolean;
  limit: number;
}

/** A provider event as recorded, for an operator. */
export interface PaymentEventRow {
  provider: string;
  eventId: string;
  type: string;
  status: 'pending';
  /** The payment or subscription it waits for. */
  matchKey: string | null;
  reason: string | null;
  receivedAt: number;
}

/** A dispute, with its payment and account when tokenmeter knows the payment. */
export interface DisputeRow {
  provider: string;
  disputeId: string;
  paymentIntent: string;
  status: DisputeStatus;
  amount: number;
  currency: string | null;
  account: string | null;
  paymentReference: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface LedgerQuery {
  account?: string;
  kind?: EntryKind;
  from?: number;
  to?: number;
  limit: number;
  cursor: string | null;
}

/** Tokens charged per feature per UTC day. */
export interface UsageRow {
  day: string;
  feature: string;
  tokens: number;
  uses: number;
}

/** Tokens charged on one UTC day to one of the accounts that used the most in a window, or (`account` null) to all the others. */
export interface AccountUsageRow {
  day: string;
  account: string | null;
  tokens: number;
  uses: number;
}

/** The top accounts' use per day in a window, the top first (most tokens, then id byte-wise), each by day; the others last. */
export interface AccountUsage {
  rows: AccountUsageRow[];
  /** How many accounts used tokens in the window, the top ones included. */
  accounts: number;
}

/** Storage for the service around the ledger: keys, shared settings, one-time tokens, operator reads, the outbox. */
export interface ServiceStore extends OutboxStore {
  insertApiKey(key: Omit<ApiKeyRecord, 'id' | 'revokedAt'>): Promise<ApiKeyRecord>;
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  listApiKeys(): Promise<ApiKeyRecord[]>;
  /** Revokes the active keys with this display prefix; returns how many. */
  revokeApiKey(prefix: string, at: number): Promise<number>;
  /** The setting's value; `initial` is stored first if it has none (the first process wins). */
  settingOrInit(key: string, initial: string): Promise<string>;
  /** Records a one-time token's nonce; false when it was used before. Forgets expired ones. */
  consumeNonce(nonce: string, expiresAt: number, now: number): Promise<boolean>;
  /** Whether a one-time token's nonce has been recorded (its token is spent). */
  nonceUsed(nonce: string): Promise<boolean>;
  /** Accounts whose id contains `query`, filtered, in the chosen order (default: id), a keyset page at a time. */
  listAccounts(options: AccountListQuery): Promise<AccountPage>;
  /** Ledger entries matching the filters, newest first. */
  queryLedger(query: LedgerQuery): Promise<HistoryPage>;
  /** Tokens charged per feature per UTC day in [from, to], of every account or of one. */
  usageByDay(from: number, to: number, account?: string): Promise<UsageRow[]>;
  /** Tokens charged per UTC day in [from, to] to each of the `top` accounts that used the most, and to the rest together. */
  usageByAccount(from: number, to: number, top: number): Promise<AccountUsage>;
  /**
   * The account's entries in [from, to] as (time, balance after), oldest first: all of them when
   * there are at most `points`, else the last entry of each of `points` equal time buckets.
   */
  balanceSeries(account: string, from: number, to: number, points: number): Promise<{ at: number; balance: number }[]>;
  /** The time of the account's first ledger entry, or null when it has none. */
  firstEntryAt(account: string): Promise<number | null>;
  /** Payments newest first (all accounts, or one). */
  listPayments(query: PaymentListQuery): Promise<PaymentRow[]>;
  /** Provider events kept pending until their payment or subscription arrives, newest first. */
  pendingPaymentEvents(limit: number): Promise<PaymentEventRow[]>;
  /** Disputes, most recently changed first. */
  listDisputes(limit: number): Promise<DisputeRow[]>;
  /** The account's subscriptions, most recently updated first. */
  subscriptionsOf(account: string): Promise<SubscriptionRow[]>;
  /**
   * The current members of `pool` with their memberships as stored (usage of the cycle each
   * names), by member id; `held` is what each one's holds live at `liveAt` reserve in the pool,
   * read in the same snapshot as the usage.
   */
  poolMembers(pool: string, liveAt: number): Promise<Membership[]>;
  /** Tokens `member` drew from `pool` per UTC day in [from, to] (the pool's entries naming it). */
  memberUsageByDay(pool: string, member: string, from: number, to: number): Promise<{ day: string; tokens: number }[]>;
}
