import { type AccountState, availableOf, balanceOf, includedEndsAt } from './account-state.ts';
import { burnOrder } from './burn-order.ts';
import type { Catalog, Plan } from './catalog.ts';
import type { GrantCategory } from './grant.ts';
import { isSpendable } from './grant.ts';
import { refusalMessage } from './messages.ts';
import { type Membership, poolShare, remainingThisCycle } from './pool.ts';

export interface FeatureAvailability {
  name: string;
  cost: number;
  allowed: boolean;
}

/** Everything a balance read shows about an account, as of one instant. */
export interface BalanceView {
  account: string;
  /** False when the account was never written: these are the figures it would open with. */
  exists: boolean;
  balance: number;
  available: number;
  held: number;
  /** Remaining tokens of the included grants (the plan's allocation). */
  allocation: number;
  /** Remaining tokens of the paid grants. */
  purchased: number;
  /** Remaining tokens of the promotional grants. */
  promotional: number;
  /** What refunds, disputes and corrections took beyond the grants; `balance = allocation + purchased + promotional - debt`. */
  debt: number;
  /** The grants tokens are spent from, in burn order. */
  grants: GrantSummary[];
  /** The soonest expiry of tokens (for included grants, only what exceeds the rollover cap), or null. */
  expiringNext: { at: number; tokens: number } | null;
  usedThisCycle: number;
  plan: string;
  monthlyAllocation: number;
  rolledOver: number;
  cycleStart: number;
  nextReset: number | null;
  lastReset: number | null;
  featuresDisabled: boolean;
  features: Record<string, FeatureAvailability>;
  /** For a pool's member: the pool's figures for it (`available` above counts its share); else null. */
  pool: PoolStanding | null;
}

/** A member's standing in its pool, as its balance shows it. */
export interface PoolStanding {
  id: string;
  /** The pool's own available balance. */
  available: number;
  limitPerCycle: number | null;
  usedThisCycle: number;
  /** What the member may still take this cycle (null: no limit). */
  remainingThisCycle: number | null;
}

/** A member's pool as a read sees it: the pool's available now, and the membership in its current cycle. */
export interface PoolReading {
  id: string;
  available: number;
  membership: Membership;
}

/** One active grant as the balance shows it. */
export interface GrantSummary {
  id: number;
  category: GrantCategory;
  remaining: number;
  priority: number;
  expiresAt: number | null;
}

/** Builds the read view of an account state already brought up to `now`. */
export function balanceView(
  state: AccountState,
  plan: Plan,
  catalog: Catalog,
  exists: boolean,
  now: number,
  pool: PoolReading | null = null,
): BalanceView {
  const available = availableOf(state) + (pool ? poolShare(pool.available, pool.membership) : 0);
  const features: Record<string, FeatureAvailability> = {};
  for (const f of catalog.features.values()) {
    features[f.id] = { name: f.name, cost: f.cost, allowed: refusalMessage(f.cost, available) === null };
  }
  return {
    account: state.id,
    exists,
    balance: balanceOf(state),
    available,
    held: state.held,
    allocation: state.allocation,
    purchased: state.purchased,
    promotional: state.promotional,
    debt: state.debt,
    grants: burnOrder(state.grants, now, includedEndsAt(state)).map((g) => ({
      id: g.id,
      category: g.category,
      remaining: g.remaining,
      priority: g.priority,
      expiresAt: g.category === 'included' ? includedEndsAt(state) : g.expiresAt,
    })),
    expiringNext: expiringNext(state, plan, now),
    usedThisCycle: state.usedThisCycle,
    plan: plan.id,
    monthlyAllocation: plan.monthlyAllocation,
    rolledOver: state.rolledOver,
    cycleStart: state.cycleStart,
    nextReset: includedEndsAt(state),
    lastReset: state.lastReset,
    featuresDisabled: available <= 0,
    features,
    pool: pool && {
      id: pool.id,
      available: pool.available,
      limitPerCycle: pool.membership.limitPerCycle,
      usedThisCycle: pool.membership.usedThisCycle,
      remainingThisCycle: remainingThisCycle(pool.membership),
    },
  };
}

/**
 * The soonest instant tokens leave the balance by expiry, and how many. At a cycle's end only
 * the allocation beyond the rollover cap expires; a subscription's period has no known end.
 */
function expiringNext(state: AccountState, plan: Plan, now: number): { at: number; tokens: number } | null {
  const soon = new Map<number, number>();
  for (const g of state.grants) {
    if (g.category === 'included' || g.expiresAt === null || !isSpendable(g, now)) continue;
    soon.set(g.expiresAt, (soon.get(g.expiresAt) ?? 0) + g.remaining);
  }
  const cycleEnd = includedEndsAt(state);
  const beyondCap = state.allocation - Math.min(state.allocation, plan.rolloverCap);
  if (cycleEnd !== null && beyondCap > 0) soon.set(cycleEnd, (soon.get(cycleEnd) ?? 0) + beyondCap);
  let next: { at: number; tokens: number } | null = null;
  for (const [at, tokens] of soon) if (next === null || at < next.at) next = { at, tokens };
  return next;
}
