// Grants as issue 15 states them, for the model: written from the issue text alone.

export type ModelCategory = 'included' | 'paid' | 'promotional';

/** What a read shows. "Used up" is an active grant with nothing remaining. */
export type ModelGrantStatus = 'scheduled' | 'active' | 'expired' | 'voided';

export interface ModelGrant {
  /** Creation order in the model; within one account the engine's ids ascend in the same order. */
  seq: number;
  account: string;
  category: ModelCategory;
  tokens: number;
  remaining: number;
  priority: number;
  effectiveAt: number;
  /** Null: never. An included grant ends with its cycle instead, whatever this says. */
  expiresAt: number | null;
  status: ModelGrantStatus;
}

/** "Lower is spent first, default 50". */
export const DEFAULT_PRIORITY = 50;

/** Within equal priority and expiry: "promotional before included before paid". */
const CATEGORY_RANK: Record<ModelCategory, number> = { promotional: 0, included: 1, paid: 2 };

/** Tokens a charge may take from now (the model brings statuses up to date before every use). */
export function spendable(g: ModelGrant): boolean {
  return g.status === 'active' && g.remaining > 0;
}

/**
 * The burn order: lowest priority number first, then soonest expiry (never-expiring last; an
 * included grant expires at its cycle's end, `cycleEnd`), then promotional before included
 * before paid, then oldest first.
 */
export function burnOrder(grants: readonly ModelGrant[], cycleEnd: number): ModelGrant[] {
  const end = (g: ModelGrant) => (g.category === 'included' ? cycleEnd : (g.expiresAt ?? Number.POSITIVE_INFINITY));
  return grants
    .filter(spendable)
    .sort(
      (a, b) =>
        a.priority - b.priority ||
        (end(a) === end(b) ? 0 : end(a) < end(b) ? -1 : 1) ||
        CATEGORY_RANK[a.category] - CATEGORY_RANK[b.category] ||
        a.seq - b.seq,
    );
}
