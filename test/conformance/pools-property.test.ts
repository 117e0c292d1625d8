import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import type { DeductResult, HoldResult, Refusal, ReserveResult } from '../../src/ledger/types.ts';
import { accepted } from '../helpers/ledger.ts';
import { conformance } from '../helpers/suite.ts';

// Members of one pool, with random limits and a few tokens of their own, racing: bursts of
// deductions and reservations sent at once (Promise.all), then their holds settled at once beside
// more deductions. Whatever the interleaving, the pool pays exactly what the answers say it paid,
// never goes below zero, no membership passes its limit, and usage per member is the sum of its
// pool parts; reconcile stays clean. And deductions that all fit charge the same whatever their
// order, one at a time or all at once.

const COSTS: Record<string, number> = { outbound_call_single: 1, crm_ai_agent: 2, business_collector: 5 };
const featureArb = fc.constantFrom(...Object.keys(COSTS));
const ops = { reason: 'property', actor: 'prop' };
const RUNS = Number(process.env.POOL_PROPERTY_RUNS ?? 5);

const memberArb = fc.record({
  limit: fc.option(fc.integer({ min: 0, max: 40 }), { nil: null, freq: 3 }),
  own: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 12 })),
});

const deductArb = fc.record({
  kind: fc.constant('deduct' as const),
  member: fc.nat(),
  feature: featureArb,
  quantity: fc.integer({ min: 1, max: 4 }),
});
const reserveArb = fc.record({
  kind: fc.constant('reserve' as const),
  member: fc.nat(),
  amount: fc.integer({ min: 1, max: 25 }),
});
const useArb = fc.oneof({ weight: 3, arbitrary: deductArb }, { weight: 1, arbitrary: reserveArb });
type Use = typeof useArb extends fc.Arbitrary<infer T> ? T : never;

/** What a use asks for: a deduction's cost, a reservation's amount. */
function costOf(u: Use): number {
  return u.kind === 'deduct' ? (COSTS[u.feature] as number) * u.quantity : u.amount;
}

/** Sends a use by `account`; reservations live through the run (the clock does not move). */
function send(ledger: TokenLedger, account: string, u: Use): Promise<DeductResult | ReserveResult> {
  return u.kind === 'deduct'
    ? ledger.deduct({ account, feature: u.feature, quantity: u.quantity })
    : ledger.reserve({ account, amount: u.amount, ttlSeconds: 600 });
}

const burstArb = fc.record({
  // The pool's 100 moved by this: sometimes the pool runs dry before the limits do.
  poolDelta: fc.integer({ min: -90, max: 40 }),
  members: fc.array(memberArb, { minLength: 2, maxLength: 3 }),
  first: fc.array(useArb, { minLength: 5, maxLength: 24 }),
  // Per hold, in order: commit this much (beyond the reservation sometimes), or release (null).
  settle: fc.array(fc.option(fc.integer({ min: 0, max: 30 }), { nil: null, freq: 4 }), { maxLength: 24 }),
  second: fc.array(deductArb, { maxLength: 10 }),
});

/**
 * Deductions per member that all fit by construction: each member's limit (when it has one) and
 * the pool leave a small slack beyond what its uses need from the pool after its own tokens.
 */
const fittingArb = fc.record({
  members: fc.array(
    fc.record({
      own: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 15 })),
      uses: fc.array(fc.record({ feature: featureArb, quantity: fc.integer({ min: 1, max: 3 }) }), {
        minLength: 1,
        maxLength: 4,
      }),
      unlimited: fc.boolean(),
      slack: fc.integer({ min: 0, max: 3 }),
    }),
    { minLength: 2, maxLength: 3 },
  ),
  poolSlack: fc.integer({ min: 0, max: 3 }),
  // Sort keys: the two orders the same deductions are sent in.
  orderA: fc.array(fc.double({ noNaN: true }), { minLength: 12, maxLength: 12 }),
  orderB: fc.array(fc.double({ noNaN: true }), { minLength: 12, maxLength: 12 }),
});

/** A pool opened with its 100, moved to `tokens`, and members with their limits and own tokens. */
async function openPool(
  ledger: TokenLedger,
  pool: string,
  tokens: number,
  members: readonly { id: string; limit: number | null; own: number }[],
): Promise<void> {
  await ledger.createAccount({ account: pool });
  if (tokens !== 100) await ledger.adjust({ account: pool, setBalance: tokens, ...ops });
  await Promise.all(
    members.map(async (m) => {
      await ledger.joinPool({ member: m.id, pool, limitPerCycle: m.limit });
      if (m.own > 0) await ledger.credit({ account: m.id, tokens: m.own, source: 'prop', reference: `${m.id}-own` });
    }),
  );
}

/** A refusal must have been right when it was made: it quotes a figure below the cost. */
function justified(r: Refusal, cost: number, where: string): void {
  assert.equal(r.code, 'insufficient_tokens', where);
  assert.ok(r.available < cost, `refused ${cost} with ${r.available} available: ${where}`);
}

async function balances(ledger: TokenLedger, ids: readonly string[]): Promise<number> {
  let sum = 0;
  for (const id of ids) sum += (await ledger.getBalance(id)).balance;
  return sum;
}

/** Every membership within its limit; returns the usage of each and the pool's part of their holds. */
async function memberships(
  ledger: TokenLedger,
  pool: string,
  where: string,
): Promise<{ used: Map<string, number>; held: number }> {
  const used = new Map<string, number>();
  let held = 0;
  for (const m of await ledger.poolMembers(pool)) {
    if (m.limitPerCycle !== null) {
      assert.ok(
        m.usedThisCycle + m.held <= m.limitPerCycle,
        `${m.member} passed its limit: ${JSON.stringify(m)} ${where}`,
      );
    }
    used.set(m.member, m.usedThisCycle);
    held += m.held;
  }
  return { used, held };
}

const sum = (xs: Iterable<number>) => [...xs].reduce((a, b) => a + b, 0);

/** What the answers of a burst say: per member, its own and its pool's parts, what it reserved, and its holds. */
class Tally {
  readonly pooled = new Map<string, number>();
  readonly own = new Map<string, number>();
  readonly reserved = new Map<string, number>();
  readonly holds: { id: number; amount: number }[] = [];
  /** Tokens charged, by the answers. */
  spent = 0;

  add(account: string, u: Use, r: DeductResult | ReserveResult, where: string): void {
    const cost = costOf(u);
    if (!r.ok) {
      justified(r, cost, where);
      return;
    }
    if ('holdId' in r) {
      this.holds.push({ id: r.holdId, amount: cost });
      this.bump(this.reserved, account, cost);
      return;
    }
    assert.equal(r.cost, cost, where);
    const pooled = r.pooled ?? Number.NaN;
    assert.ok(pooled >= 0 && pooled <= cost, `pooled ${pooled} of ${cost}: ${where}`);
    this.bump(this.pooled, account, pooled);
    this.bump(this.own, account, cost - pooled);
    this.spent += cost;
  }

  private bump(map: Map<string, number>, account: string, by: number): void {
    map.set(account, (map.get(account) ?? 0) + by);
  }
}

type Fitting = typeof fittingArb extends fc.Arbitrary<infer T> ? T : never;

/** What each member's uses cost, what of it the pool pays (after its own tokens), and the pool's tokens. */
function fitting(f: Fitting) {
  const need = f.members.map((m) => sum(m.uses.map((u) => (COSTS[u.feature] as number) * u.quantity)));
  const fromPool = f.members.map((m, i) => Math.max(0, (need[i] as number) - m.own));
  return { members: f.members, need, fromPool, poolTokens: sum(fromPool) + f.poolSlack };
}

/**
 * Opens a pool for the plan under `prefix` and sends every use in the order of the sort keys,
 * one at a time or all at once; every one must be accepted. Returns what they left.
 */
async function inOrder(
  ledger: TokenLedger,
  prefix: string,
  plan: ReturnType<typeof fitting>,
  order: readonly number[],
  together: boolean,
): Promise<{ pool: number; members: number[]; used: number[]; pooled: number }> {
  const pool = `${prefix}org`;
  const members = plan.members.map((m, i) => ({
    id: `${prefix}m${i}`,
    own: m.own,
    limit: m.unlimited ? null : (plan.fromPool[i] as number) + m.slack,
  }));
  await openPool(ledger, pool, plan.poolTokens, members);
  const uses = plan.members
    .flatMap((m, i) => m.uses.map((u) => ({ ...u, account: members[i]?.id as string })))
    .map((u, i) => ({ u, key: order[i % order.length] as number, i }))
    .sort((x, y) => x.key - y.key || x.i - y.i)
    .map(({ u }) => u);
  const results: DeductResult[] = [];
  if (together) results.push(...(await Promise.all(uses.map((u) => ledger.deduct(u)))));
  else for (const u of uses) results.push(await ledger.deduct(u));
  const pooled = sum(results.map((r) => accepted(r).pooled ?? Number.NaN));
  return {
    pool: (await ledger.getBalance(pool)).balance,
    members: await Promise.all(members.map(async (m) => (await ledger.getBalance(m.id)).balance)),
    used: (await ledger.poolMembers(pool)).map((m) => m.usedThisCycle),
    pooled,
  };
}

conformance('shared pools under concurrent bursts (property)', (get) => {
  it('the pool pays exactly what the answers say, is never overdrawn, no limit is passed; reconcile is clean', async () => {
    const { ledger } = get();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(burstArb, async (b) => {
        const prefix = `b${run++}-`;
        const pool = `${prefix}org`;
        const members = b.members.map((m, i) => ({ ...m, id: `${prefix}m${i}` }));
        const ids = members.map((m) => m.id);
        await openPool(ledger, pool, 100 + b.poolDelta, members);
        const poolStart = (await ledger.getBalance(pool)).balance;
        const where = JSON.stringify(b);

        // Burst one: deductions and reservations by every member at once.
        const sent = b.first.map((u) => ({ u, account: ids[u.member % ids.length] as string }));
        const first = await Promise.all(sent.map(({ u, account }) => send(ledger, account, u)));
        const tally = new Tally();
        first.forEach((r, i) => {
          const { u, account } = sent[i] as (typeof sent)[number];
          tally.add(account, u, r, where);
        });

        const afterFirst = await ledger.getBalance(pool);
        assert.equal(
          afterFirst.balance,
          poolStart - sum(tally.pooled.values()),
          `the pool paid other than answered: ${where}`,
        );
        assert.ok(afterFirst.available >= 0, where);
        const usage = await memberships(ledger, pool, where);
        for (const m of members) {
          assert.equal(usage.used.get(m.id), tally.pooled.get(m.id) ?? 0, `usage of ${m.id}: ${where}`);
          const view = await ledger.getBalance(m.id);
          assert.equal(view.balance, m.own - (tally.own.get(m.id) ?? 0), `own tokens of ${m.id}: ${where}`);
          assert.ok(view.balance >= 0, where);
        }
        // Each reservation is split between the member's own held and the pool's hold for it.
        const ownHeld = sum(await Promise.all(ids.map(async (id) => (await ledger.getBalance(id)).held)));
        assert.equal(ownHeld + usage.held, sum(tally.reserved.values()), where);
        assert.equal(afterFirst.held, usage.held, where);

        // Burst two: every hold committed or released, beside more deductions, all at once.
        const settling = tally.holds.map((h, i) => {
          const actual = b.settle[i] ?? null;
          return actual === null ? ledger.releaseHold(h.id) : ledger.commitHold(h.id, actual);
        });
        const more = b.second.map((u) => ({ u, account: ids[u.member % ids.length] as string }));
        const [settled, deducted] = await Promise.all([
          Promise.all(settling),
          Promise.all(more.map(({ u, account }) => send(ledger, account, u))),
        ]);
        settled.forEach((r: HoldResult, i) => {
          const { charged } = accepted(r);
          const actual = b.settle[i] ?? null;
          // A live reservation is a promise: up to its amount, the work is charged in full.
          if (actual !== null && actual <= (tally.holds[i]?.amount ?? 0)) assert.equal(charged, actual, where);
          tally.spent += charged;
        });
        deducted.forEach((r, i) => {
          const { u, account } = more[i] as (typeof more)[number];
          tally.add(account, u, r, where);
        });

        const end = await ledger.getBalance(pool);
        const final = await memberships(ledger, pool, where);
        assert.equal(end.held, 0, where);
        assert.equal(final.held, 0, where);
        assert.ok(end.available >= 0, where);
        // The pool paid only for its members here: all it lost is their usage.
        assert.equal(poolStart - end.balance, sum(final.used.values()), where);
        const memberStart = sum(members.map((m) => m.own));
        assert.equal(poolStart + memberStart - (await balances(ledger, [pool, ...ids])), tally.spent, where);
        assert.deepEqual((await ledger.reconcile()).drift, []);
      }),
      { numRuns: RUNS },
    );
  });

  it('deductions that all fit charge the same in any order, one at a time or all at once', async () => {
    const { ledger } = get();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fittingArb, async (f) => {
        const plan = fitting(f);
        // Two pools side by side: their accounts are apart, so neither side moves the other's figures.
        const [a, b] = await Promise.all([
          inOrder(ledger, `o${run}a-`, plan, f.orderA, false),
          inOrder(ledger, `o${run}b-`, plan, f.orderB, true),
        ]);
        run += 1;
        const expected = {
          pool: f.poolSlack,
          members: f.members.map((m, i) => m.own - Math.min(m.own, plan.need[i] as number)),
          used: plan.fromPool,
          pooled: sum(plan.fromPool),
        };
        assert.deepEqual(a, expected, `one at a time: ${JSON.stringify(f)}`);
        assert.deepEqual(b, expected, `all at once: ${JSON.stringify(f)}`);
      }),
      { numRuns: RUNS },
    );
    assert.deepEqual((await ledger.reconcile()).drift, []);
  });
});
