/**
 * What a grant is for. `included`: a plan's allocation for a cycle. `paid`: bought, or a
 * positive operator correction. `promotional`: bonuses, compensation, trials.
 */
export const GRANT_CATEGORIES = ['included', 'paid', 'promotional'] as const;
export type GrantCategory = (typeof GRANT_CATEGORIES)[number];

/** The categories a caller may grant directly; `included` comes only from a plan. */
export const CALLER_GRANT_CATEGORIES = ['paid', 'promotional'] as const;
export type CallerGrantCategory = (typeof CALLER_GRANT_CATEGORIES)[number];

/**
 * A grant's stored status. `scheduled`: written, not yet effective (nothing of it is in the
 * balance). `active`: in the balance. `expired` and `voided` are final, with nothing remaining.
 * "Used up" is not stored: it is an active grant with nothing remaining, which a reversal may
 * make spendable again.
 */
export const GRANT_STATUSES = ['scheduled', 'active', 'expired', 'voided'] as const;
export type GrantStatus = (typeof GRANT_STATUSES)[number];

/** What a read shows: the stored status, with "used up" and a due expiry or activation resolved. */
export type GrantDisplayStatus = GrantStatus | 'used_up';

export const MIN_PRIORITY = 0;
export const MAX_PRIORITY = 100;
export const DEFAULT_PRIORITY = 50;

/** One grant of tokens to one account. All amounts are integers; `remaining` is within 0..tokens. */
export interface Grant {
  /** Negative while only decided in memory: the ledger gives it its stored id before writing. */
  id: number;
  account: string;
  category: GrantCategory;
  tokens: number;
  remaining: number;
  /** 0 to 100, lower is spent first. */
  priority: number;
  effectiveAt: number;
  /** Null: never expires (an included grant ends with its cycle, see `renewal.ts`). */
  expiresAt: number | null;
  /** What created it; unique per (account, source, reference). */
  source: string;
  reference: string;
  status: GrantStatus;
  reason: string | null;
  actor: string | null;
  createdAt: number;
  closedAt: number | null;
}

/** A change of one grant's remaining tokens, recorded on the ledger entry that made it. */
export interface GrantMove {
  grant: number;
  delta: number;
}

/** Spendable now: active, in effect, not past its expiry, something left. */
export function isSpendable(g: Grant, now: number): boolean {
  return g.status === 'active' && g.remaining > 0 && !isPastExpiry(g, now);
}

/** A non-included grant whose expiry has come (included grants end with their cycle instead). */
export function isPastExpiry(g: Grant, now: number): boolean {
  return g.category !== 'included' && g.expiresAt !== null && g.expiresAt <= now;
}

export function displayStatus(g: Grant, now: number): GrantDisplayStatus {
  if (g.status === 'expired' || g.status === 'voided') return g.status;
  if (isPastExpiry(g, now)) return 'expired';
  if (g.status === 'scheduled') return g.effectiveAt <= now ? 'active' : 'scheduled';
  return g.remaining === 0 ? 'used_up' : 'active';
}

/** An id no grant in `grants` has yet: below every id in use, so never a stored (positive) one. */
export function nextDraftGrantId(grants: readonly Grant[]): number {
  let lowest = 0;
  for (const g of grants) if (g.id < lowest) lowest = g.id;
  return lowest - 1;
}
