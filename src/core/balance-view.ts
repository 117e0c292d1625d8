import { type AccountState, availableOf, balanceOf, featuresDisabled } from './account-state.ts';
import type { Catalog, Plan } from './catalog.ts';
import { nextBoundaryAfter } from './cycles.ts';
import { refusalMessage } from './messages.ts';

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
  allocation: number;
  purchased: number;
  usedThisCycle: number;
  plan: string;
  monthlyAllocation: number;
  rolledOver: number;
  cycleStart: number;
  nextReset: number | null;
  lastReset: number | null;
  featuresDisabled: boolean;
  features: Record<string, FeatureAvailability>;
}

/** Builds the read view of an account state already brought up to `now`. */
export function balanceView(state: AccountState, plan: Plan, catalog: Catalog, exists: boolean): BalanceView {
  const available = availableOf(state);
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
    usedThisCycle: state.usedThisCycle,
    plan: plan.id,
    monthlyAllocation: plan.monthlyAllocation,
    rolledOver: state.rolledOver,
    cycleStart: state.cycleStart,
    nextReset: state.cycleDriver === 'lazy' ? nextBoundaryAfter(state.cycleAnchor, state.cycleStart) : null,
    lastReset: state.lastReset,
    featuresDisabled: featuresDisabled(state),
    features,
  };
}
