import type { AccountState } from './account-state.ts';
import { type Posted, post } from './posting.ts';

/** The figures of a purchase that its refunds and disputes are measured against. */
export interface RefundBasis {
  tokens: number;
  /** What was paid, minor units. */
  amount: number;
  tokensTakenBack: number;
}

/**
 * Tokens a refund takes back: the refunded share of the purchase's tokens, less what earlier
 * refunds took. `amountRefunded` is cumulative, so a late, smaller report takes nothing and
 * partial refunds add up to exactly the refunded share whatever order they arrive in.
 */
export function tokensToTakeBack(basis: RefundBasis, amountRefunded: number): number {
  if (basis.amount <= 0) return basis.tokens - basis.tokensTakenBack;
  const share = Math.floor((basis.tokens * Math.min(amountRefunded, basis.amount)) / basis.amount);
  return Math.max(0, Math.min(share, basis.tokens) - basis.tokensTakenBack);
}

/**
 * Takes purchased tokens back for a refund or dispute. The balance may go negative: the
 * tokens were spent before the money went back, and a negative balance disables features.
 */
export function decidePaymentTakeBack(
  state: AccountState,
  tokens: number,
  link: { source: string; reference: string; reason: string },
  now: number,
): Posted {
  return post(state, { kind: 'payment_refund', allocationDelta: 0, purchasedDelta: -tokens, ...link }, now);
}
