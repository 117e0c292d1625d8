import type { AccountState } from '../core/account-state.ts';
import type { EntryKind } from '../core/entry.ts';
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

/** Storage for the service around the ledger: keys, shared settings, one-time tokens, operator reads. */
export interface ServiceStore {
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
  /** Accounts whose id contains `query`, in id order. */
  listAccounts(options: { query: string | null; limit: number; cursor: string | null }): Promise<AccountPage>;
  /** Ledger entries matching the filters, newest first. */
  queryLedger(query: LedgerQuery): Promise<HistoryPage>;
  usageByDay(from: number, to: number): Promise<UsageRow[]>;
  /** The account's entries in [from, to] as (time, balance after), oldest first, at most `limit`. */
  balanceSeries(account: string, from: number, to: number, limit: number): Promise<{ at: number; balance: number }[]>;
}
