import { TokenmeterError } from './errors.ts';

/** A subscription plan: tokens granted each monthly cycle, and how many unused ones roll over. */
export interface Plan {
  id: string;
  name: string;
  monthlyAllocation: number;
  rolloverCap: number;
  /** Below this available an account gets `balance.low` (an account may set its own); see `planLowBalanceThreshold`. */
  lowBalanceThreshold?: number;
  /** Granted once (promotional) when an account on this plan is provisioned. */
  signupBonus?: SignupBonus | null;
}

export interface SignupBonus {
  tokens: number;
  /** Null: the bonus never expires. */
  expiresInDays: number | null;
}

/** A token-costing feature of the app. */
export interface Feature {
  id: string;
  name: string;
  cost: number;
  /** How long the service's token gate holds the cost while the feature's handler runs. */
  holdTtlSeconds: number;
  /** Where the service's token gate sends a run (config `handler_url`); null: no configured handler. */
  handlerUrl: string | null;
}

/** Something a user can buy: a top-up of tokens, or a plan subscription. */
export interface TokenPackage {
  id: string;
  name: string;
  tokens: number;
  priceCents: number;
  currency: string;
  kind: 'topup' | 'plan';
  /** For kind `plan`: the plan it subscribes to. */
  plan: string | null;
  /** A top-up's tokens expire this many days after purchase; absent or null: never. */
  expiresInDays?: number | null;
}

/** The validated configuration the engine prices and plans with. */
export interface Catalog {
  plans: ReadonlyMap<string, Plan>;
  features: ReadonlyMap<string, Feature>;
  packages: ReadonlyMap<string, TokenPackage>;
  defaultPlan: string;
}

export function findPlan(catalog: Catalog, id: string): Plan {
  const plan = catalog.plans.get(id);
  if (!plan) throw new TokenmeterError('unknown_plan', `Unknown plan "${id}"`, 'plan');
  return plan;
}

export function findFeature(catalog: Catalog, id: unknown): Feature {
  const feature = typeof id === 'string' ? catalog.features.get(id) : undefined;
  if (!feature) {
    throw new TokenmeterError('unknown_feature', `Unknown feature "${String(id)}"`, 'feature');
  }
  return feature;
}

/** A plan's low-balance threshold: the config's, else 10% of its allocation, rounded up. */
export function planLowBalanceThreshold(plan: Plan): number {
  return plan.lowBalanceThreshold ?? Math.ceil(plan.monthlyAllocation / 10);
}
