/** JSON Schemas shared by the routes; they validate requests and generate the OpenAPI document. */

/**
 * The engine's text rule (`src/core/well-formed-text.ts`) as a schema keyword: no lone
 * surrogates, no control characters. An `x-` name, so the OpenAPI document stays valid.
 */
export const WELL_FORMED = 'x-well-formed';

export const accountId = { type: 'string', minLength: 1, maxLength: 128, [WELL_FORMED]: true } as const;
export const featureId = { type: 'string', minLength: 1, maxLength: 64 } as const;
export const packageId = { type: 'string', minLength: 1, maxLength: 64 } as const;
export const idempotencyKey = { type: 'string', minLength: 1, maxLength: 255, [WELL_FORMED]: true } as const;
export const quantity = { type: 'integer', minimum: 1, maximum: 1_000_000 } as const;
export const tokenAmount = { type: 'integer', minimum: 1, maximum: 1_000_000_000 } as const;
export const reason = { type: 'string', minLength: 1, maxLength: 500, [WELL_FORMED]: true } as const;
export const limit = { type: 'integer', minimum: 1, maximum: 1000 } as const;
export const cursor = { type: 'string', minLength: 1, maxLength: 64 } as const;

/** A closed object: unknown properties are refused, not dropped. */
export function closed(properties: Record<string, unknown>, required: string[] = []) {
  return { type: 'object', additionalProperties: false, properties, required } as const;
}

export const errorResponse = {
  type: 'object',
  description: 'Every non-2xx answer',
  properties: { success: { const: false }, code: { type: 'string' }, error: { type: 'string' } },
  required: ['success', 'code', 'error'],
} as const;

/** One deduction, as `POST /api/tokens/deduct` takes it and as each item of the batch route. */
export const deduction = closed({ account: accountId, feature: featureId, quantity, idempotency_key: idempotencyKey }, [
  'account',
  'feature',
]);

/** Most items one `POST /api/tokens/deduct/batch` may carry. */
export const MAX_BATCH_ITEMS = 1000;

/** `POST /api/tokens/deduct/batch`: 1 to 1,000 deductions, each exactly the single route's body. */
export const deductBatch = closed(
  { deductions: { type: 'array', minItems: 1, maxItems: MAX_BATCH_ITEMS, items: deduction } },
  ['deductions'],
);

/** The Idempotency-Key header, accepted as well as the body field. */
export const idempotencyHeaders = {
  type: 'object',
  properties: { 'idempotency-key': idempotencyKey },
} as const;

/** How the OpenAPI document marks a compatibility alias: this text, naming its canonical field. */
export const aliasOf = (canonical: string) =>
  `The seed's compatibility alias of \`${canonical}\` (same value); kept for apps that read it.`;
const isoOrNull = { type: ['string', 'null'], format: 'date-time' } as const;

/**
 * `GET /api/tokens/balance` (documentation only: every field is sent as before). The wire is
 * snake_case, the library's BalanceView camelCase, with the same set of fields: each canonical
 * field's description starts with "Canonical" and ends with its BalanceView name in brackets;
 * each of the seed's compatibility aliases is described by `aliasOf`. Two of the seed's
 * camelCase names are on the wire as it spelled them: `monthlyAllocation` (canonical) and
 * `usedThisMonth` (an alias). The mapping rule is in `balanceJson` (ledger/wire.ts).
 */
export const balanceAnswer = {
  type: 'object',
  description:
    'Canonical fields are the library’s BalanceView in snake_case (its name in brackets), except the names the ' +
    'seed app already had; aliases repeat a canonical value under the name the seed app used. ' +
    'The seed front end reads tokens_balance and features_disabled.',
  additionalProperties: true,
  properties: {
    success: { type: 'boolean', description: 'The envelope every answer carries (true here); not a balance field.' },
    account: { type: 'string', description: 'Canonical. The account id [account].' },
    exists: {
      type: 'boolean',
      description:
        'Canonical. False when the account was never written: the figures are those it would open with ' +
        '(the default plan’s), and reading wrote nothing [exists].',
    },
    balance: { type: 'integer', description: 'Canonical. Tokens in the account, may be negative [balance].' },
    tokens_balance: { type: 'integer', description: aliasOf('balance') },
    available: { type: 'integer', description: 'Canonical. balance − held: what features may spend [available].' },
    held: { type: 'integer', description: 'Canonical. Reserved by active holds [held].' },
    allocation: {
      type: 'integer',
      description: 'Canonical. Remaining tokens of the included grants (the plan’s allocation) [allocation].',
    },
    purchased: { type: 'integer', description: 'Canonical. Remaining tokens of the paid grants [purchased].' },
    promotional: {
      type: 'integer',
      description: 'Canonical. Remaining tokens of the promotional grants [promotional].',
    },
    debt: {
      type: 'integer',
      description:
        'Canonical. What refunds, disputes and corrections took beyond the grants (0 or more); ' +
        'balance = allocation + purchased + promotional − debt [debt].',
    },
    grants: {
      type: 'array',
      description: 'Canonical. The active grants, in the order tokens are spent from them [grants].',
      items: {
        type: 'object',
        additionalProperties: true,
        properties: {
          id: {
            type: ['integer', 'null'],
            description: 'Null for a grant a read shows before any write stored it (a renewal due now).',
          },
          category: { type: 'string', enum: ['included', 'paid', 'promotional'] },
          remaining: { type: 'integer' },
          priority: { type: 'integer' },
          expires_at: { ...isoOrNull, description: 'Null: never (an included grant: the cycle’s end, if known).' },
        },
      },
    },
    expiring_next: {
      type: ['object', 'null'],
      description:
        'Canonical. The soonest expiry of tokens and how many (of included grants only what exceeds the ' +
        'rollover cap), or null [expiringNext].',
      additionalProperties: true,
      properties: { at: { type: 'string', format: 'date-time' }, tokens: { type: 'integer' } },
    },
    tokens_used_this_month: {
      type: 'integer',
      description: 'Canonical. Tokens charged this cycle [usedThisCycle].',
    },
    usedThisMonth: { type: 'integer', description: aliasOf('tokens_used_this_month') },
    package: { type: 'string', description: 'Canonical. The plan id, e.g. free [plan].' },
    token_package: { type: 'string', description: aliasOf('package') },
    monthlyAllocation: {
      type: 'integer',
      description:
        'Canonical (the seed’s own camelCase name; no alias). The plan’s monthly allocation [monthlyAllocation].',
    },
    tokens_rollover: { type: 'integer', description: 'Canonical. Tokens rolled over into this cycle [rolledOver].' },
    billing_cycle_start: { type: 'string', format: 'date-time', description: 'Canonical [cycleStart].' },
    last_token_reset: { ...isoOrNull, description: 'Canonical [lastReset].' },
    next_token_reset: {
      ...isoOrNull,
      description: 'Canonical. Null when a subscription’s invoices drive the cycle [nextReset].',
    },
    features_disabled: {
      type: 'boolean',
      description: 'Canonical. True when available ≤ 0: every feature is refused [featuresDisabled].',
    },
    features: {
      type: 'object',
      description: 'Canonical. Per feature id: name, cost, allowed [features].',
      additionalProperties: {
        type: 'object',
        additionalProperties: true,
        properties: { name: { type: 'string' }, cost: { type: 'integer' }, allowed: { type: 'boolean' } },
      },
    },
    pool: {
      type: ['object', 'null'],
      description:
        'Canonical. For a member of a shared pool: the pool’s id and available tokens, the member’s limit per ' +
        'pool cycle (null: none), what it drew this cycle and may still draw (null: no limit); `available` ' +
        'above already counts its share. Null for an account in no pool [pool].',
      additionalProperties: true,
      properties: {
        id: { type: 'string' },
        available: { type: 'integer' },
        limit_per_cycle: { type: ['integer', 'null'] },
        used_this_cycle: { type: 'integer' },
        remaining_this_cycle: { type: ['integer', 'null'] },
      },
    },
  },
} as const;
