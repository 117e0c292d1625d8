import type { Grant, GrantCategory } from './grant.ts';
import { isSpendable } from './grant.ts';

/** Within equal priority and expiry: bonuses go first, paid tokens last. */
const CATEGORY_RANK: Record<GrantCategory, number> = { promotional: 0, included: 1, paid: 2 };

/**
 * The burn order, the same everywhere: lowest priority number first, then soonest expiry
 * (never-expiring last), then promotional before included before paid, then oldest first (by
 * creation, then id). With no priorities set this is the seed's rule: this cycle's allocation
 * (which ends at the cycle boundary) before purchased tokens (which never expire).
 *
 * An included grant's expiry is its cycle's end, passed in as `includedEndsAt` (null for a
 * subscription's period, which ends when the provider's next invoice arrives).
 */
function compareBurnOrder(a: Grant, b: Grant, includedEndsAt: number | null): number {
  if (a.priority !== b.priority) return a.priority - b.priority;
  const ea = endOf(a, includedEndsAt);
  const eb = endOf(b, includedEndsAt);
  if (ea !== eb) return ea - eb;
  const ca = CATEGORY_RANK[a.category];
  const cb = CATEGORY_RANK[b.category];
  if (ca !== cb) return ca - cb;
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return creationRank(a.id) - creationRank(b.id);
}

/** Stored grants (positive ids, ascending) are older than grants decided now (-1, -2, ...). */
function creationRank(id: number): number {
  return id > 0 ? id : Number.MAX_SAFE_INTEGER / 2 - id;
}

function endOf(g: Grant, includedEndsAt: number | null): number {
  const end = g.category === 'included' ? includedEndsAt : g.expiresAt;
  return end ?? Number.POSITIVE_INFINITY;
}

/**
 * The first of `grants` a charge may draw from now in burn order, or null: what `burnOrder(...)[0]`
 * is, found in one pass without sorting or copying (a deduction usually draws from it alone).
 */
export function firstInBurnOrder(
  grants: readonly Grant[],
  now: number,
  includedEndsAt: number | null,
  accept: (g: Grant) => boolean = () => true,
): Grant | null {
  let first: Grant | null = null;
  for (const g of grants) {
    if (!isSpendable(g, now) || !accept(g)) continue;
    if (first === null || compareBurnOrder(g, first, includedEndsAt) < 0) first = g;
  }
  return first;
}

/** The grants a charge may draw from now, in burn order. */
export function burnOrder(grants: readonly Grant[], now: number, includedEndsAt: number | null): Grant[] {
  return grants.filter((g) => isSpendable(g, now)).sort((a, b) => compareBurnOrder(a, b, includedEndsAt));
}
