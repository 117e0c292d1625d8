/** The wire JSON of the operator API (`/api/admin/*`, admin key), as in `src/http/routes/admin.ts`. */
import type {
  BalanceResponse,
  EntryKind,
  GrantCategory,
  GrantDisplayStatus,
  LedgerEntryJson,
  TimeInput,
} from './types.ts';

export interface ListAccountsRequest {
  /** Accounts whose id contains this text. */
  query?: string;
  /** 1 to 500. */
  limit?: number;
  /** `next_cursor` of a page with the same sort, order and filters. */
  cursor?: string;
  sort?: 'account' | 'balance' | 'available' | 'last_activity';
  order?: 'asc' | 'desc';
  /** Only accounts whose available balance is 0 or below (on the stored figures). */
  features_disabled?: boolean;
  /** Only accounts whose balance is below 0. */
  negative_balance?: boolean;
  /** Only accounts with automatic top-up enabled. */
  auto_topup?: boolean;
  /** Only accounts that are members of a shared pool. */
  pool?: boolean;
}

export interface AccountRowJson {
  account: string;
  plan: string;
  balance: number;
  available: number;
  held: number;
  used_this_cycle: number;
  features_disabled: boolean;
  created_at: string;
  updated_at: string;
  /** The pool the account is a member of, or null. */
  pool: string | null;
}

export interface ListAccountsResponse {
  success: true;
  accounts: AccountRowJson[];
  next_cursor: string | null;
}

export interface HoldRowJson {
  hold_id: number;
  amount: number;
  feature: string | null;
  created_at: string;
  expires_at: string;
}

export interface AccountResponse extends BalanceResponse {
  holds: HoldRowJson[];
  /** The next reset has passed without a paid renewal invoice. */
  next_token_reset_overdue: boolean;
  /** In words when the time alone does not say it (e.g. "at the first paid invoice"), else null. */
  next_token_reset_note: string | null;
}

interface AdjustCommon {
  reason: string;
  /** Refused with 409 balance_changed unless the balance is still this. */
  expected_balance?: number;
  /**
   * At most once per (account, key): a repeat replays the first answer; the same key with
   * another amount, balance, reason or expected_balance is 409 idempotency_conflict.
   */
  idempotency_key?: string;
}

/** Adjust by an amount or to a balance: exactly one of the two. */
export type AdjustRequest =
  | (AdjustCommon & { amount: number; balance?: undefined })
  | (AdjustCommon & { balance: number; amount?: undefined });

export interface AdjustResponse {
  success: true;
  account: string;
  delta: number;
  balance_before: number;
  balance: number;
  available: number;
  /** Null when the balance already was the one asked for, so nothing was written. */
  entry_id: number | null;
  replayed: boolean;
}

export interface SetPlanRequest {
  plan: string;
  reason: string;
}

export interface SetPlanResponse {
  success: true;
  account: string;
  previous_plan: string | null;
  plan: string;
  package: string;
  balance: number;
  available: number;
  tokens_rollover: number;
  entry_id: number | null;
}

/** `POST /api/admin/accounts/:id/grants`. */
export interface CreateGrantRequest {
  tokens: number;
  /** `included` grants come only from a plan. */
  category: Exclude<GrantCategory, 'included'>;
  /** ISO 8601 with a zone, in the future and after `effective_at`; absent: never expires. */
  expires_at?: string;
  /** ISO 8601 with a zone; absent: now. */
  effective_at?: string;
  /** 0 to 100, lower is spent first; default 50. */
  priority?: number;
  reason: string;
  /** At most once per account: a repeat returns the first grant; other parameters are 409 idempotency_conflict. */
  reference?: string;
}

/** A grant as the admin API shows it. */
export interface GrantJson {
  id: number;
  account: string;
  category: GrantCategory;
  tokens: number;
  remaining: number;
  priority: number;
  effective_at: string;
  expires_at: string | null;
  status: GrantDisplayStatus;
}

/** The answer to creating (201) or voiding (200) a grant. */
export interface GrantResponse {
  success: true;
  grant: GrantJson;
}

/** `GET /api/admin/accounts/:id/grants`: every grant, newest first. */
export interface GrantsResponse {
  success: true;
  grants: GrantJson[];
}

/** `POST /api/admin/grants/:id/void`. */
export interface VoidGrantRequest {
  reason: string;
}

export interface TimeRange {
  from?: TimeInput;
  to?: TimeInput;
}

export interface BalanceSeriesResponse {
  success: true;
  account: string;
  from: string;
  to: string;
  points: { at: string; balance: number }[];
}

export interface LedgerRequest extends TimeRange {
  account?: string;
  kind?: EntryKind;
  limit?: number;
  cursor?: string;
}

export interface LedgerResponse {
  success: true;
  entries: LedgerEntryJson[];
  next_cursor: string | null;
}

export interface DriftJson {
  account: string;
  check: string;
  expected: number;
  actual: number;
  entry_id: number | null;
  balance: number | null;
  ledger_sum: number | null;
}

export interface ReconcileResponse {
  success: true;
  accounts_checked: number;
  /** Empty when every account matches its ledger. */
  drift: DriftJson[];
}

export interface StatsResponse {
  success: true;
  by: 'feature';
  usage: { day: string; feature: string; tokens: number; uses: number }[];
}

/** `GET /api/admin/stats?by=account`: the accounts that used the most tokens in the window, per day. */
export interface AccountStatsResponse {
  success: true;
  by: 'account';
  from: string;
  to: string;
  /** Most tokens first. */
  accounts: { account: string; tokens: number; uses: number }[];
  /** Everyone else together; null when every account with use is listed. */
  others: { accounts: number; tokens: number; uses: number } | null;
  /** One row per day and listed account; `account: null` is the others. */
  usage: { day: string; account: string | null; tokens: number; uses: number }[];
}

/** `PUT /api/admin/accounts/:member/pool`: both fields required. */
export interface JoinPoolRequest {
  /** The pool's account id: an existing account that is not itself a member. */
  pool: string;
  /** The most the member may take from the pool per pool cycle (an integer, 0 or more); null: no limit. */
  limit_per_cycle: number | null;
}

/** A pool membership, its usage as of the pool's current cycle. */
export interface MembershipJson {
  pool: string;
  member: string;
  /** Null: no limit. */
  limit_per_cycle: number | null;
  /** Tokens drawn from the pool in the pool's current cycle. */
  used_this_cycle: number;
  /** Tokens the member's live holds reserve from the pool. */
  held: number;
  /** What the member may still take this cycle; null: no limit. */
  remaining_this_cycle: number | null;
  /** The start of the pool's current cycle. */
  cycle_start: string;
  joined_at: string;
}

/** The answer to joining a pool or changing a member's limit. */
export interface MembershipResponse {
  success: true;
  membership: MembershipJson;
}

/** `DELETE /api/admin/accounts/:member/pool`: the pool the member left. */
export interface LeavePoolResponse {
  success: true;
  membership: { pool: string; member: string };
}

/** `GET /api/admin/accounts/:pool/members`: the current members, by member id. */
export interface PoolMembersResponse {
  success: true;
  members: MembershipJson[];
}

export interface MemberUsageRequest {
  /** How many days back from now, 1 to 366; default 30. */
  days?: number;
}

/** `GET /api/admin/accounts/:pool/members/:member/usage`: tokens the member drew from the pool per UTC day. */
export interface MemberUsageResponse {
  success: true;
  pool: string;
  member: string;
  /** The window, by the server's clock (ISO 8601). */
  from: string;
  to: string;
  /** Only days with use, oldest first; `day` is `YYYY-MM-DD`. */
  days: { day: string; tokens: number }[];
}
