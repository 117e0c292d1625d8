// The random operations the engine and the model both run (see engine-vs-model.test.ts).
import fc from 'fast-check';

const DAY = 24 * 3600 * 1000;

export const MODEL_ACCOUNTS = ['a', 'b', '7'] as const;
const accountArb = fc.constantFrom(...MODEL_ACCOUNTS);

export const opArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('deduct' as const),
      account: accountArb,
      feature: fc.constantFrom('outbound_call_single', 'crm_ai_agent', 'business_collector'),
      quantity: fc.integer({ min: 1, max: 30 }),
    }),
  },
  // Several deductions sent together (ledger.deductMany): decided in their order, as the model
  // applies them one after another.
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('deduct-many' as const),
      items: fc.array(
        fc.record({
          account: accountArb,
          feature: fc.constantFrom('outbound_call_single', 'crm_ai_agent', 'business_collector'),
          quantity: fc.integer({ min: 1, max: 30 }),
        }),
        { minLength: 1, maxLength: 6 },
      ),
    }),
  },
  // Spends exactly what is available (plus a small offset), to hit the boundary of every refusal rule.
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('drain' as const),
      account: accountArb,
      offset: fc.integer({ min: -1, max: 1 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('credit' as const),
      account: accountArb,
      tokens: fc.integer({ min: 1, max: 60 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('adjust' as const),
      account: accountArb,
      amount: fc.integer({ min: -150, max: 80 }).filter((n) => n !== 0),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('set-balance' as const),
      account: accountArb,
      target: fc.integer({ min: 0, max: 200 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('grant' as const),
      account: accountArb,
      category: fc.constantFrom('promotional' as const, 'paid' as const),
      tokens: fc.integer({ min: 1, max: 80 }),
      // Absent: the default (50, the included grant's); 50 also comes up often enough to tie.
      priority: fc.option(fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constant(50)), { nil: undefined }),
      // Takes effect later (null: now).
      delay: fc.option(fc.integer({ min: 1, max: 20 * DAY }), { nil: null, freq: 2 }),
      // Never, exactly at the account's cycle end (ties with the included grant), or after a while.
      expiry: fc.oneof(
        fc.constant(null),
        fc.constant('cycle-end' as const),
        fc.integer({ min: 1, max: 40 * DAY }),
        fc.integer({ min: 1, max: 1000 }),
      ),
    }),
  },
  // A top-up through the payments API, its refunds (cumulative, as providers report them) and disputes.
  { weight: 1, arbitrary: fc.record({ op: fc.constant('buy' as const), account: accountArb }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('refund' as const),
      pick: fc.nat(),
      cents: fc.integer({ min: 1, max: 500 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('dispute' as const),
      pick: fc.nat(),
      cents: fc.integer({ min: 1, max: 500 }),
      won: fc.boolean(),
    }),
  },
  // The same grant again: replayed, or a conflict when its parameters differ.
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('regrant' as const), pick: fc.nat(), conflict: fc.boolean() }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('void' as const), pick: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('reserve' as const),
      account: accountArb,
      amount: fc.integer({ min: 1, max: 40 }),
      ttl: fc.integer({ min: 1, max: 3 * 24 * 3600 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('commit' as const),
      pick: fc.nat(),
      actual: fc.integer({ min: 0, max: 60 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('release' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('advance' as const),
      ms: fc.oneof(fc.integer({ min: 1, max: 20 * DAY }), fc.integer({ min: 1, max: 2000 })),
    }),
  },
);

export type ModelOp = typeof opArb extends fc.Arbitrary<infer T> ? T : never;
