import type { SubscriptionRow } from '../../ledger/operator-queries.ts';

/** Subscription states in which the provider still bills, so its invoices still drive the cycle. */
const LIVE = ['active', 'trialing', 'past_due'];

/** The subscription that drives the account's cycle now: a live one with a known period end first. */
export function currentSubscription(subs: SubscriptionRow[]): SubscriptionRow | undefined {
  const live = (x: SubscriptionRow) => LIVE.includes(x.status);
  return subs.find((x) => live(x) && x.periodEnd !== null) ?? subs.find(live) ?? subs[0];
}

/** The account answer's next-reset fields (README, "The operator's console"). */
export interface NextResetJson {
  /** When the included tokens renew next: the calendar cycle's end, or the subscription's stored period end. */
  next_token_reset: string | null;
  /** The time above has passed and no paid invoice has renewed the cycle yet. */
  next_token_reset_overdue: boolean;
  /** In words, when the time alone does not say it (no time yet, overdue, a subscription not active). */
  next_token_reset_note: string | null;
}

/**
 * When the account's cycle resets next, true in every case: a calendar cycle ends on its own
 * (`calendarReset`); a subscription's ends where its last paid invoice says, and before its
 * first paid invoice no one knows when, only that the invoice will start it.
 */
export function nextResetJson(
  calendarReset: number | null,
  subscription: SubscriptionRow | undefined,
  now: number,
): NextResetJson {
  if (calendarReset !== null) {
    return { next_token_reset: iso(calendarReset), next_token_reset_overdue: false, next_token_reset_note: null };
  }
  if (!subscription) {
    return {
      next_token_reset: null,
      next_token_reset_overdue: false,
      next_token_reset_note: 'at the subscription’s next paid invoice (none recorded yet)',
    };
  }
  const status = subscription.status === 'active' ? '' : ` (subscription ${subscription.status})`;
  if (subscription.periodEnd === null) {
    return {
      next_token_reset: null,
      next_token_reset_overdue: false,
      next_token_reset_note: `at the first paid invoice${status}`,
    };
  }
  const overdue = subscription.periodEnd <= now;
  return {
    next_token_reset: iso(subscription.periodEnd),
    next_token_reset_overdue: overdue,
    next_token_reset_note: overdue
      ? `the period ended; the reset waits for the renewal invoice to be paid${status}`
      : status === ''
        ? null
        : `at the renewal invoice, once paid${status}`,
  };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
