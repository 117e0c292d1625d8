import type { BalanceView } from '../core/balance-view.ts';
import type { LedgerEntry } from '../core/entry.ts';
import { invalid, isTokenmeterError } from '../core/errors.ts';
import { displayStatus, type Grant, type GrantDisplayStatus } from '../core/grant.ts';
import type {
  AdjustResult,
  CheckResult,
  CreditResult,
  DeductResult,
  History,
  HoldResult,
  MembershipView,
  PlanChanged,
  ReconcileReport,
  Refusal,
  ReserveResult,
} from './types.ts';

/**
 * The JSON shapes tokenmeter answers with, shared by the CLI's `--json` and the HTTP API:
 * snake_case names, the seed app's balance fields, times as ISO strings. Every answer carries
 * `success`; a failure carries `code` (from ERROR_CODES) and `error` (a message for people).
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** A refusal or error answer. */
export interface ErrorJson extends JsonObject {
  success: false;
  code: string;
  error: string;
}

const INTERNAL_MESSAGE = 'Internal error; the operation may not have completed. Details are in the log.';

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}

/** A date (`2026-12-31`, midnight UTC) or a date and time with its zone (`Z` or `±hh:mm`). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/**
 * A time given on the wire (an HTTP body, a command-line option) as epoch milliseconds. Only
 * ISO 8601 with an explicit zone is taken: a time without one would mean whatever zone the
 * server runs in, and `Date.parse` alone also takes "March 7" or "2026".
 */
export function parseIsoTime(field: string, text: string): number {
  const ms = ISO_TIME.test(text) && realDay(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw invalid(field, `is not an ISO 8601 time with a zone (e.g. 2026-12-31T23:59:59Z): "${text.slice(0, 40)}"`);
  }
  return ms;
}

/** `Date.parse` rolls 2026-02-30 over into March; a day the month does not have is a typo. */
function realDay(text: string): boolean {
  const [y, m, d] = text.slice(0, 10).split('-').map(Number);
  if (y === undefined || m === undefined || d === undefined) return false;
  return new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d;
}

/**
 * The seed app's `getBalance()` answer, with tokenmeter's extra figures. Every field stays:
 * other programs read them (the seed's front end reads `tokens_balance` and `features_disabled`).
 * The canonical fields and the library's BalanceView are one set, one meaning each. The rule:
 * a BalanceView key in snake_case (`featuresDisabled` ↔ `features_disabled`, `expiringNext` ↔
 * `expiring_next`; `account`, `exists`, `balance`, `available`, `held`, `allocation`,
 * `purchased`, `promotional`, `debt`, `grants`, `features` unchanged), except where the seed
 * already had a name: usedThisCycle ↔ tokens_used_this_month; plan ↔ package; monthlyAllocation
 * ↔ monthlyAllocation (the seed's own camelCase); rolledOver ↔ tokens_rollover; cycleStart ↔
 * billing_cycle_start; lastReset ↔ last_token_reset; nextReset ↔ next_token_reset. Nested
 * objects follow the rule (a grant's `expiresAt` ↔ `expires_at`); times are ISO strings; a
 * grant's draft id (a renewal due now, not yet stored: 0 or less) is null.
 * The seed's compatibility aliases repeat a canonical value: tokens_balance (balance),
 * usedThisMonth (tokens_used_this_month), token_package (package). `success` is the envelope
 * every answer carries. README ("Using the engine") and OpenAPI (`balanceAnswer` in
 * http/schemas.ts) say the same; test/http/balance-fields.test.ts holds all three together.
 */
export function balanceJson(view: BalanceView): JsonObject {
  const features: JsonObject = {};
  for (const [id, f] of Object.entries(view.features)) {
    features[id] = { name: f.name, cost: f.cost, allowed: f.allowed };
  }
  return {
    success: true,
    account: view.account,
    exists: view.exists,
    balance: view.balance,
    tokens_balance: view.balance,
    available: view.available,
    held: view.held,
    usedThisMonth: view.usedThisCycle,
    tokens_used_this_month: view.usedThisCycle,
    package: view.plan,
    token_package: view.plan,
    monthlyAllocation: view.monthlyAllocation,
    tokens_rollover: view.rolledOver,
    billing_cycle_start: iso(view.cycleStart),
    last_token_reset: isoOrNull(view.lastReset),
    next_token_reset: isoOrNull(view.nextReset),
    features_disabled: view.featuresDisabled,
    allocation: view.allocation,
    purchased: view.purchased,
    promotional: view.promotional,
    debt: view.debt,
    grants: view.grants.map((g) => ({
      // Null, as in grantJson: a grant a read shows before any write stored it has a draft id.
      id: g.id > 0 ? g.id : null,
      category: g.category,
      remaining: g.remaining,
      priority: g.priority,
      expires_at: isoOrNull(g.expiresAt),
    })),
    expiring_next:
      view.expiringNext === null ? null : { at: iso(view.expiringNext.at), tokens: view.expiringNext.tokens },
    features,
    pool:
      view.pool === null
        ? null
        : {
            id: view.pool.id,
            available: view.pool.available,
            limit_per_cycle: view.pool.limitPerCycle,
            used_this_cycle: view.pool.usedThisCycle,
            remaining_this_cycle: view.pool.remainingThisCycle,
          },
  };
}

/**
 * What a read shows as remaining on a grant of `status` (its `displayStatus`). An expiry takes
 * everything left, so a grant a read already sees as expired has nothing remaining, even before
 * the write that records its `grant_expiry` entry.
 */
export function remainingShown(g: Grant, status: GrantDisplayStatus): number {
  return status === 'expired' ? 0 : g.remaining;
}

/**
 * One grant, as the admin API and `tokenmeter grant`/`grants` show it. `status` is what a
 * read at `now` sees: `used_up` for an active grant with nothing left, and a due expiry or
 * start already applied (the stored status catches up at the next write).
 */
export function grantJson(g: Grant, now: number): JsonObject {
  const status = displayStatus(g, now);
  return {
    // Null: a grant a read shows before any write stored it (a renewal due now).
    id: g.id > 0 ? g.id : null,
    account: g.account,
    category: g.category,
    tokens: g.tokens,
    remaining: remainingShown(g, status),
    priority: g.priority,
    effective_at: iso(g.effectiveAt),
    expires_at: isoOrNull(g.expiresAt),
    status,
  };
}

/** An expected refusal (insufficient tokens, idempotency conflict, ...): nothing was written. */
export function refusalJson(r: Refusal): ErrorJson {
  return {
    success: false,
    code: r.code,
    error: r.message,
    account: r.account,
    balance: r.balance,
    available: r.available,
    ...(r.cost === undefined ? {} : { cost: r.cost }),
  };
}

export function deductJson(r: DeductResult): JsonObject {
  if (!r.ok) return refusalJson(r);
  return {
    success: true,
    account: r.account,
    feature: r.feature,
    quantity: r.quantity,
    cost: r.cost,
    balance_before: r.balanceBefore,
    balance: r.balance,
    available: r.available,
    entry_id: r.entryId,
    replayed: r.replayed,
    ...(r.pooled === undefined ? {} : { pooled: r.pooled }),
  };
}

export function checkJson(r: CheckResult): JsonObject {
  return {
    success: true,
    account: r.account,
    feature: r.feature,
    quantity: r.quantity,
    allowed: r.allowed,
    cost: r.cost,
    balance: r.balance,
    available: r.available,
    features_disabled: r.featuresDisabled,
    message: r.message,
  };
}

export function adjustJson(r: AdjustResult): JsonObject {
  if (!r.ok) return refusalJson(r);
  return {
    success: true,
    account: r.account,
    delta: r.delta,
    balance_before: r.balanceBefore,
    balance: r.balance,
    available: r.available,
    entry_id: r.entryId,
    replayed: r.replayed,
  };
}

export function creditJson(r: CreditResult): JsonObject {
  if (!r.ok) return refusalJson(r);
  return {
    success: true,
    account: r.account,
    tokens: r.tokens,
    balance: r.balance,
    available: r.available,
    entry_id: r.entryId,
    replayed: r.replayed,
  };
}

export function planJson(r: PlanChanged): JsonObject {
  return {
    success: true,
    account: r.account,
    previous_plan: r.previousPlan,
    plan: r.plan,
    package: r.plan,
    balance: r.balance,
    available: r.available,
    tokens_rollover: r.rolledOver,
    entry_id: r.entryId,
  };
}

export function reserveJson(r: ReserveResult): JsonObject {
  if (!r.ok) return refusalJson(r);
  return {
    success: true,
    account: r.account,
    hold_id: r.holdId,
    amount: r.amount,
    expires_at: iso(r.expiresAt),
    balance: r.balance,
    available: r.available,
    replayed: r.replayed,
  };
}

/** The answer to committing or releasing a hold. */
export function holdJson(r: HoldResult): JsonObject {
  if (!r.ok) return refusalJson(r);
  return {
    success: true,
    account: r.account,
    hold_id: r.holdId,
    status: r.status,
    reserved: r.reserved,
    charged: r.charged,
    shortfall: r.shortfall,
    balance: r.balance,
    available: r.available,
    entry_id: r.entryId,
  };
}

export function entryJson(e: LedgerEntry): JsonObject {
  return {
    id: e.id,
    account: e.account,
    kind: e.kind,
    amount: e.amount,
    allocation_delta: e.allocationDelta,
    purchased_delta: e.purchasedDelta,
    promotional_delta: e.promotionalDelta,
    debt_delta: e.debtDelta,
    grants: e.grantMoves.map((m) => ({ id: m.grant, delta: m.delta })),
    balance_after: e.balanceAfter,
    feature: e.feature,
    quantity: e.quantity,
    idempotency_key: e.idempotencyKey,
    source: e.source,
    reference: e.reference,
    reason: e.reason,
    actor: e.actor,
    at: iso(e.at),
    // A pool member's entry names its pool and what the pool paid of the use (its amount is the
    // member's own part); the pool's entry for that use names the member.
    pool: e.poolId ?? null,
    pooled: e.pooled ?? 0,
    member: e.memberId ?? null,
  };
}

/**
 * An entry as the account's own user sees it. An entry an operator made (an adjustment, or any
 * entry with an actor: plan changes, imports) shows its kind and figures, but not the operator's
 * reason, name (the actor is the admin key's name) or evidence link; operators keep them.
 */
export function userEntryJson(e: LedgerEntry): JsonObject {
  const json = entryJson(e);
  if (e.kind !== 'adjustment' && e.actor === null) return json;
  return { ...json, reason: null, actor: null, source: null, reference: null };
}

/** A history page; `audience: 'user'` for a user token or session (see userEntryJson). */
export function historyJson(h: History, audience: 'operator' | 'user' = 'operator'): JsonObject {
  const entry = audience === 'user' ? userEntryJson : entryJson;
  return { success: true, account: h.account, entries: h.entries.map(entry), next_cursor: h.nextCursor };
}

/** `success` says the scan ran; an empty `drift` says the ledger is consistent. */
export function reconcileJson(report: ReconcileReport): JsonObject {
  return {
    success: true,
    accounts_checked: report.accountsChecked,
    drift: report.drift.map((d) => ({
      account: d.account,
      check: d.check,
      expected: d.expected,
      actual: d.actual,
      entry_id: d.entryId,
      balance: d.check === 'balance' ? d.actual : null,
      ledger_sum: d.check === 'balance' ? d.expected : null,
    })),
  };
}

/**
 * A thrown error as an answer: a TokenmeterError's code and message; anything else is
 * `internal` with a generic message, since its text may carry SQL, paths or a stack.
 */
export function errorJson(err: unknown): ErrorJson {
  if (isTokenmeterError(err)) return { success: false, code: err.code, error: err.message };
  return { success: false, code: 'internal', error: INTERNAL_MESSAGE };
}

/** A pool membership on the wire, its usage as of the pool's current cycle. */
export function membershipJson(m: MembershipView): JsonObject {
  return {
    pool: m.pool,
    member: m.member,
    limit_per_cycle: m.limitPerCycle,
    used_this_cycle: m.usedThisCycle,
    held: m.held,
    remaining_this_cycle: m.remainingThisCycle,
    cycle_start: iso(m.cycleStart),
    joined_at: iso(m.joinedAt),
  };
}
