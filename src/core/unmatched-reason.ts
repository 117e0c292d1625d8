/**
 * Why a provider event was recorded `unmatched`: stored with the event and logged, so an
 * operator can tell a stray webhook from money that needs a hand.
 */
export const UNMATCHED_REASONS = [
  /** The event names no account, or one tokenmeter does not hold. */
  'unknown_account',
  /** The event names no package, or one the config does not have. */
  'unknown_package',
  /** A session tokenmeter did not create charged another amount or currency than the package's price. */
  'price_mismatch',
  /** The event is about a checkout tokenmeter has no record of. */
  'unknown_payment',
  /** An invoice paid after its subscription was canceled. */
  'subscription_canceled',
] as const;

export type UnmatchedReason = (typeof UNMATCHED_REASONS)[number];
