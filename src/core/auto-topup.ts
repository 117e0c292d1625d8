import { type AccountState, availableOf } from './account-state.ts';
import { TokenmeterError } from './errors.ts';

/** `off`: not enabled; `active`: armed; `suspended`: enabled, but stopped after failures until a new card or a re-enable. */
export const TOPUP_STATUSES = ['off', 'active', 'suspended'] as const;
export type TopupStatus = (typeof TOPUP_STATUSES)[number];

/** How long after a declined charge the next try starts, unless configured (`TOKENMETER_TOPUP_RETRY_S`). */
export const DEFAULT_TOPUP_RETRY_MS = 3_600_000;

/** Consecutive failed charges that suspend auto top-up. */
export const MAX_CONSECUTIVE_FAILURES = 3;

/** A decline that no off-session retry can cure: the user must pay with the buyer present. */
export const AUTHENTICATION_REQUIRED = 'authentication_required';

/** The bounds of `monthly_limit`: successful automatic top-ups per calendar month (UTC). */
export const MONTHLY_LIMIT_MIN = 1;
export const MONTHLY_LIMIT_MAX = 100;

/** An account's auto top-up settings and state, as stored. */
export interface AutoTopupSettings {
  account: string;
  enabled: boolean;
  /** Top up when available drops below this. */
  threshold: number;
  /** The top-up package bought each time. */
  packageId: string;
  monthlyLimit: number;
  status: TopupStatus;
  /** Failed charges since the last success, re-enable or new card. */
  failures: number;
  lastError: string | null;
  updatedAt: number;
}

/** What a user or operator asks for (`PUT /api/payment/auto-topup`). */
export interface AutoTopupRequest {
  account: string;
  enabled: boolean;
  threshold: number;
  packageId: string;
  monthlyLimit: number;
}

/** Checks a request's numbers; the package is checked against the catalog by the caller. */
export function validateTopupRequest(r: AutoTopupRequest): void {
  if (!Number.isSafeInteger(r.threshold) || r.threshold < 0) {
    throw new TokenmeterError('invalid_request', 'threshold must be a non-negative integer', 'threshold');
  }
  if (
    !Number.isSafeInteger(r.monthlyLimit) ||
    r.monthlyLimit < MONTHLY_LIMIT_MIN ||
    r.monthlyLimit > MONTHLY_LIMIT_MAX
  ) {
    throw new TokenmeterError(
      'invalid_request',
      `monthly_limit must be an integer from ${MONTHLY_LIMIT_MIN} to ${MONTHLY_LIMIT_MAX}`,
      'monthly_limit',
    );
  }
}

/**
 * The settings after a request. Enabling (from off or suspended) makes auto top-up active and
 * forgets past failures; saving an enabled, active one keeps its state; disabling turns it off.
 */
export function settingsAfterRequest(
  current: AutoTopupSettings | undefined,
  r: AutoTopupRequest,
  now: number,
): AutoTopupSettings {
  const reactivated = r.enabled && current?.status !== 'active';
  return {
    account: r.account,
    enabled: r.enabled,
    threshold: r.threshold,
    packageId: r.packageId,
    monthlyLimit: r.monthlyLimit,
    status: r.enabled ? 'active' : 'off',
    failures: reactivated || !r.enabled ? 0 : (current?.failures ?? 0),
    lastError: reactivated ? null : (current?.lastError ?? null),
    updatedAt: now,
  };
}

/**
 * Whether a settings change must record an intent at once: it leaves auto top-up active with
 * available already below the threshold, and it (re-)armed it or moved the threshold. Re-saving
 * unchanged settings starts nothing: after a top-up, the next one waits for available to come
 * back up and cross again.
 */
export function armsBelowThreshold(
  before: AutoTopupSettings | undefined,
  after: AutoTopupSettings,
  available: number,
): boolean {
  if (after.status !== 'active' || available >= after.threshold) return false;
  return before?.status !== 'active' || before.threshold !== after.threshold;
}

/** A saved card brings a suspended auto top-up back (the failures were the old card's). */
export function settingsAfterNewCard(current: AutoTopupSettings, now: number): AutoTopupSettings {
  if (current.status !== 'suspended') return current;
  return { ...current, status: 'active', failures: 0, lastError: null, updatedAt: now };
}

/** The settings after a declined charge: the error kept, and suspended at the third or on `authentication_required`. */
export function settingsAfterFailure(current: AutoTopupSettings, reason: string, now: number): AutoTopupSettings {
  const failures = current.failures + 1;
  const suspend =
    current.status === 'active' && (reason === AUTHENTICATION_REQUIRED || failures >= MAX_CONSECUTIVE_FAILURES);
  return { ...current, failures, lastError: reason, status: suspend ? 'suspended' : current.status, updatedAt: now };
}

/** After a success the failure count starts over. */
export function settingsAfterSuccess(current: AutoTopupSettings, now: number): AutoTopupSettings {
  if (current.failures === 0 && current.lastError === null) return current;
  return { ...current, failures: 0, lastError: null, updatedAt: now };
}

/** Whether a declined attempt is tried again off session (while available stays below the threshold). */
export function retriesAfter(settings: AutoTopupSettings): boolean {
  return settings.status === 'active';
}

/** The start of `now`'s calendar month, UTC (epoch ms): successful top-ups since then count toward the limit. */
export function monthStart(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** `2026-11`: the month a limit was reached in (the `topup.limit_reached` event names it). */
export function monthName(now: number): string {
  return new Date(now).toISOString().slice(0, 7);
}

/** What the worker does with an intent it claimed, decided under the account's lock. */
export type IntentDecision =
  | { kind: 'cancel'; reason: 'disabled' | 'suspended' | 'recovered' | 'no_payment_method' }
  | { kind: 'limit' }
  | { kind: 'charge' };

/**
 * An open intent, judged afresh before any charge: cancelled if auto top-up was turned off or
 * suspended meanwhile, if available is back at or above the threshold, or if no card is saved;
 * refused by the monthly cap; else charged. An attempt already under way (its payment may
 * exist at the provider) is always finished, whatever changed: it is asked about, never dropped.
 */
export function decideIntent(input: {
  settings: AutoTopupSettings | undefined;
  available: number;
  succeededThisMonth: number;
  hasMethod: boolean;
  inFlight: boolean;
}): IntentDecision {
  if (input.inFlight) return { kind: 'charge' };
  const s = input.settings;
  if (!s?.enabled) return { kind: 'cancel', reason: 'disabled' };
  if (s.status !== 'active') return { kind: 'cancel', reason: 'suspended' };
  if (input.available >= s.threshold) return { kind: 'cancel', reason: 'recovered' };
  if (!input.hasMethod) return { kind: 'cancel', reason: 'no_payment_method' };
  if (input.succeededThisMonth >= s.monthlyLimit) return { kind: 'limit' };
  return { kind: 'charge' };
}

/**
 * The provider idempotency key of one attempt: the same on every retry of that attempt, across
 * restarts. The intent's creation time keeps it unique beyond one database: a database started
 * afresh numbers its intents from 1 again, and must not meet an earlier one's keys at the provider
 * (Stripe keeps them for 24 hours).
 */
export function attemptKey(intent: { id: number; createdAt: number }, attempt: number): string {
  return `tokenmeter-topup-${intent.id}-${intent.createdAt.toString(36)}-${attempt}`;
}

/**
 * Whether a write from `before` to `after` takes available from at or above the armed threshold
 * to below it: the rule the database's trigger applies (m010-auto-topup.ts), here only to wake
 * the worker after the commit.
 */
export function topupCrossed(before: AccountState, after: AccountState): boolean {
  const threshold = after.topupThreshold;
  if (threshold === null || threshold === undefined) return false;
  return availableOf(before) >= threshold && availableOf(after) < threshold;
}
