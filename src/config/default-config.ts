import type { CompleteConfigFile } from './config-schema.ts';

/** How long the service's token gate holds a feature's cost while its handler runs, unless configured. */
export const DEFAULT_GATE_HOLD_TTL_SECONDS = 120;

/** The `source` reported for the built-in configuration. */
export const BUILT_IN_CONFIG_SOURCE = 'built-in default';

/** The built-in configuration in the JSON file's shape; a fresh copy each call, so callers cannot alter the default. */
export function defaultConfig(): CompleteConfigFile {
  return {
    default_plan: 'free',
    plans: [
      { id: 'free', name: 'Free', monthly_allocation: 100, rollover_cap: 0 },
      { id: 'starter', name: 'Starter', monthly_allocation: 1_000, rollover_cap: 500 },
      { id: 'pro', name: 'Pro', monthly_allocation: 5_000, rollover_cap: 2_500 },
    ],
    features: [
      { id: 'outbound_call_single', name: 'Outbound call', cost: 1 },
      { id: 'crm_ai_agent', name: 'CRM AI agent', cost: 2 },
      { id: 'business_collector', name: 'Business collector', cost: 5 },
      { id: 'social_post', name: 'Social post', cost: 1 },
      { id: 'prospect_manager', name: 'Prospect manager', cost: 1 },
    ],
    // Top-ups are priced at $0.05 a token.
    packages: [
      { id: 'tokens_100', name: '100 tokens', kind: 'topup', tokens: 100, price_cents: 500, currency: 'usd' },
      { id: 'tokens_500', name: '500 tokens', kind: 'topup', tokens: 500, price_cents: 2_500, currency: 'usd' },
      { id: 'tokens_2000', name: '2,000 tokens', kind: 'topup', tokens: 2_000, price_cents: 10_000, currency: 'usd' },
      {
        id: 'plan_starter',
        name: 'Starter plan',
        kind: 'plan',
        plan: 'starter',
        tokens: 1_000,
        price_cents: 4_900,
        currency: 'usd',
      },
      {
        id: 'plan_pro',
        name: 'Pro plan',
        kind: 'plan',
        plan: 'pro',
        tokens: 5_000,
        price_cents: 19_900,
        currency: 'usd',
      },
    ],
  };
}
