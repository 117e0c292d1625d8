// The random set-ups and operations the engine and the pool model both run (see pools-model.test.ts).
import fc from 'fast-check';

const DAY = 24 * 3600 * 1000;

export const POOL_MEMBERS = ['m1', 'm2', 'm3'] as const;
const memberArb = fc.constantFrom(...POOL_MEMBERS);

/** No limit, none to spend (0), a small one the runs reach, or one they rarely do. */
const limitArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 30 }) },
  { weight: 2, arbitrary: fc.integer({ min: 31, max: 150 }) },
);

/** Mostly unkeyed; a key from a small set repeats, to replay or conflict. */
const keyArb = fc.option(fc.constantFrom('k1', 'k2'), { nil: null, freq: 3 });

/**
 * How each member starts, after a pause (so its own cycle is anchored apart from the pool's):
 * a plain account first (its included grant ends when it joins), a member from its first write,
 * or a plain account that joins later, if ever.
 */
export const memberStartArb = fc.record({
  pause: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 25 * DAY })),
  how: fc.constantFrom('account' as const, 'member' as const, 'account-then-member' as const),
  limit: limitArb,
});
export const setupArb = fc.tuple(memberStartArb, memberStartArb, memberStartArb);
export type MemberStart = typeof memberStartArb extends fc.Arbitrary<infer T> ? T : never;

const featureArb = fc.constantFrom('outbound_call_single', 'crm_ai_agent', 'business_collector');

export const poolOpArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('deduct' as const),
      member: memberArb,
      feature: featureArb,
      quantity: fc.integer({ min: 1, max: 12 }),
      key: keyArb,
    }),
  },
  // Spends exactly what the member has (plus a small offset), to hit the edge of its limit and the pool.
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('drain' as const),
      member: memberArb,
      offset: fc.integer({ min: -1, max: 1 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('pool-deduct' as const),
      feature: featureArb,
      quantity: fc.integer({ min: 1, max: 15 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('credit' as const),
      account: fc.constantFrom('pool' as const, ...POOL_MEMBERS),
      tokens: fc.integer({ min: 1, max: 40 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('reserve' as const),
      member: memberArb,
      amount: fc.integer({ min: 1, max: 40 }),
      // Seconds: some expire within a run's advances, some outlive a pool boundary.
      ttl: fc.oneof(fc.integer({ min: 1, max: 600 }), fc.integer({ min: 601, max: 3 * 24 * 3600 })),
      key: keyArb,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('commit' as const),
      pick: fc.nat(),
      actual: fc.integer({ min: 0, max: 60 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('release' as const), pick: fc.nat() }) },
  // Joins, rejoins, or changes the limit of the membership it has.
  { weight: 2, arbitrary: fc.record({ op: fc.constant('join' as const), member: memberArb, limit: limitArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('leave' as const), member: memberArb }) },
  // Long ones cross a boundary about once a run; short ones expire holds.
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('advance' as const),
      ms: fc.oneof(fc.integer({ min: 1, max: 31 * DAY }), fc.integer({ min: 1, max: 900_000 })),
    }),
  },
);

export type PoolOp = typeof poolOpArb extends fc.Arbitrary<infer T> ? T : never;
