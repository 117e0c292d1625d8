/**
 * Where a dispute stands: `open` while the bank holds (or may take) the money, `won` when it
 * was closed in the merchant's favour (or an inquiry closed without a chargeback), `lost` when
 * the money went back to the cardholder.
 */
export type DisputeStatus = 'open' | 'won' | 'lost';

export const DISPUTE_STATUSES: readonly DisputeStatus[] = ['open', 'won', 'lost'];

/**
 * The order facts about one dispute are merged in: a closed dispute never reopens, so an
 * update sent before the close but delivered after it cannot override it. `lost` outranks
 * `won` only so that the merge stays a pure function of the facts if a provider ever reported
 * both. The stores' upsert writes the same order into SQL.
 */
export const DISPUTE_RANK: Record<DisputeStatus, number> = { open: 1, won: 2, lost: 3 };

export interface DisputeFact {
  status: DisputeStatus;
  /** Minor units. */
  amount: number;
}

/** The dispute's latest known state: the higher-ranked status, the larger amount. */
export function mergeDispute(known: DisputeFact | undefined, fact: DisputeFact): DisputeFact {
  if (!known) return fact;
  return {
    status: DISPUTE_RANK[fact.status] > DISPUTE_RANK[known.status] ? fact.status : known.status,
    amount: Math.max(known.amount, fact.amount),
  };
}

/** A dispute counts against the payment while open and once lost; a won one counts 0. */
export function disputedAmount(d: DisputeFact): number {
  return d.status === 'won' ? 0 : d.amount;
}
