import { type DisputeFact, disputedAmount } from './dispute-status.ts';

/** Everything known about one payment that decides how many of its tokens are taken back. */
export interface PaymentFacts {
  /** Tokens the payment granted. */
  tokens: number;
  /** What was paid, minor units. */
  amount: number;
  /** The largest cumulative refunded figure seen. */
  amountRefunded: number;
  /** Each dispute once, with its latest known status and amount. */
  disputes: readonly DisputeFact[];
}

/**
 * Tokens taken back for a payment: `floor(tokens × min(amount, refunded + Σ open or lost
 * disputes) / amount)`. A function of the payment's latest known facts only, so events that
 * arrive in any order, or twice, end at the same figure. A payment of nothing cannot be
 * refunded or disputed, and takes nothing back.
 */
export function takeBackTarget(f: PaymentFacts): number {
  if (f.amount <= 0 || f.tokens <= 0) return 0;
  const disputed = f.disputes.reduce((sum, d) => sum + disputedAmount(d), 0);
  const lost = Math.min(f.amount, Math.max(0, f.amountRefunded) + disputed);
  // BigInt keeps the product exact whatever the token count and currency magnitude.
  return Number((BigInt(f.tokens) * BigInt(lost)) / BigInt(f.amount));
}

/** Where a paid payment stands given its facts: disputed while a dispute is open or lost, else by its refunds. */
export function settledStatus(f: PaymentFacts): 'paid' | 'partially_refunded' | 'refunded' | 'disputed' {
  if (f.disputes.some((d) => d.status !== 'won')) return 'disputed';
  if (f.amountRefunded <= 0) return 'paid';
  return f.amountRefunded >= f.amount ? 'refunded' : 'partially_refunded';
}
