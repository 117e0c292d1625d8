import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { isTokenmeterError } from '../../src/core/errors.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import type { HoldResult } from '../../src/ledger/types.ts';
import { conformance } from '../helpers/suite.ts';

// Members of a pool reserve, deduct and let time pass, while a client commits and releases holds
// by any id it can see: the member's (what reserve answered) or the pool's half of it (listed
// among the pool's holds). Whatever the sequence: a pool's hold is refused by its id and nothing
// moves; a member's hold settles exactly once (never a WriteConflictError); each membership holds
// exactly what the pool's live holds for it reserve; no member passes its limit; the pool lost
// exactly what its members' usage and its own deductions say; and reconcile is clean after every
// step (only this run's accounts: an earlier run's, while shrinking, are not this one's).

const RUNS = Number(process.env.POOL_HOLD_PROPERTY_RUNS ?? 20);
const ops = { reason: 'property', actor: 'prop' };

const opArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('reserve' as const),
      member: fc.nat(),
      amount: fc.integer({ min: 1, max: 25 }),
      ttl: fc.constantFrom(60, 600),
    }),
  },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('settle' as const),
      pick: fc.nat(),
      side: fc.constantFrom('member' as const, 'pool' as const),
      // Commit this much (beyond the reservation sometimes), or release (null).
      actual: fc.option(fc.integer({ min: 0, max: 40 }), { nil: null, freq: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('deduct' as const),
      member: fc.nat(),
      quantity: fc.integer({ min: 1, max: 6 }),
    }),
  },
  // The pool's own deduction: its write also expires the pool's holds that are due.
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pool_deduct' as const) }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), seconds: fc.integer({ min: 1, max: 90 }) }),
  },
);

const scenarioArb = fc.record({
  poolTokens: fc.integer({ min: 10, max: 100 }),
  members: fc.array(
    fc.record({
      limit: fc.option(fc.integer({ min: 0, max: 40 }), { nil: null, freq: 4 }),
      own: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 10 })),
    }),
    { minLength: 1, maxLength: 2 },
  ),
  ops: fc.array(opArb, { minLength: 2, maxLength: 14 }),
});

interface Tracked {
  id: number;
  member: string;
  /** The pool's half (null: all of it from the member's own tokens). */
  poolHold: number | null;
  amount: number;
  expiresAt: number;
  settled: boolean;
}

/** What a refused pool-half settlement must leave as it was. */
async function poolFigures(ledger: TokenLedger, pool: string) {
  const [view, members] = await Promise.all([ledger.getBalance(pool), ledger.poolMembers(pool)]);
  return {
    balance: view.balance,
    held: view.held,
    members: members.map((m) => [m.member, m.usedThisCycle, m.held]),
  };
}

/**
 * The books after any step: reconcile finds nothing on this run's accounts (among its checks:
 * each stored membership's `held` against the pool's active holds naming the member, which a
 * write decides by, where reads count the live holds themselves); memberships hold what the
 * pool's live holds reserve, within their limits; the pool lost exactly what was drawn from it.
 */
async function exact(ledger: TokenLedger, pool: string, start: number, poolSpent: number, where: string) {
  const prefix = pool.slice(0, pool.indexOf('-') + 1);
  const drift = (await ledger.reconcile()).drift.filter((d) => d.account.startsWith(prefix));
  assert.deepEqual(drift, [], `reconcile: ${where}`);
  const [members, holds, view] = await Promise.all([
    ledger.poolMembers(pool),
    ledger.activeHolds(pool),
    ledger.getBalance(pool),
  ]);
  let used = 0;
  for (const m of members) {
    const live = holds.filter((h) => h.member === m.member).reduce((sum, h) => sum + h.amount, 0);
    assert.equal(m.held, live, `${m.member}'s membership holds ${m.held}, its pool holds ${live}: ${where}`);
    if (m.limitPerCycle !== null) {
      assert.ok(
        m.usedThisCycle + m.held <= m.limitPerCycle,
        `${m.member} past its limit ${JSON.stringify(m)}: ${where}`,
      );
    }
    used += m.usedThisCycle;
  }
  assert.equal(
    view.held,
    holds.reduce((sum, h) => sum + h.amount, 0),
    `the pool's held: ${where}`,
  );
  assert.equal(start - view.balance, used + poolSpent, `the pool paid other than its members' usage: ${where}`);
  assert.ok(view.available >= 0, `the pool overdrawn: ${where}`);
}

/** Settles `id` as `actual` says; a thrown error is returned, not thrown. */
async function settle(ledger: TokenLedger, id: number, actual: number | null): Promise<HoldResult | Error> {
  try {
    return actual === null ? await ledger.releaseHold(id) : await ledger.commitHold(id, actual);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

conformance('settling pooled holds by either id (property)', (get) => {
  it("a pool's hold is refused by its id; the member's settles exactly once; memberships, limits, the pool and reconcile stay exact", async () => {
    const { ledger, clock } = get();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(scenarioArb, async (s) => {
        const prefix = `r${run++}-`;
        const pool = `${prefix}org`;
        const members = s.members.map((m, i) => ({ ...m, id: `${prefix}m${i}` }));
        await ledger.createAccount({ account: pool });
        await ledger.adjust({ account: pool, setBalance: s.poolTokens, ...ops });
        for (const m of members) {
          await ledger.joinPool({ member: m.id, pool, limitPerCycle: m.limit });
          if (m.own > 0)
            await ledger.credit({ account: m.id, tokens: m.own, source: 'prop', reference: `${m.id}-own` });
        }
        const start = (await ledger.getBalance(pool)).balance;
        let poolSpent = 0;
        const holds: Tracked[] = [];
        const where = (step: number) => `step ${step} of ${JSON.stringify(s)}`;

        for (const [step, op] of s.ops.entries()) {
          // A settlement by a pool's id, checked after the books (which must be exact whatever it answered).
          let byPoolId: { id: number; answer: HoldResult | Error; before: unknown } | null = null;
          const member = members[('member' in op ? op.member : 0) % members.length]?.id as string;
          if (op.kind === 'reserve') {
            const r = await ledger.reserve({ account: member, amount: op.amount, ttlSeconds: op.ttl });
            if (r.ok) {
              const poolHold = (await ledger.getHold(r.holdId))?.poolHold ?? null;
              const expiresAt = clock.now() + op.ttl * 1000;
              holds.push({ id: r.holdId, member, poolHold, amount: op.amount, expiresAt, settled: false });
            } else assert.equal(r.code, 'insufficient_tokens', where(step));
          } else if (op.kind === 'settle') {
            const h = holds[op.pick % Math.max(1, holds.length)];
            if (!h) continue;
            if (op.side === 'pool' && h.poolHold !== null) {
              const before = await poolFigures(ledger, pool);
              byPoolId = { id: h.poolHold, answer: await settle(ledger, h.poolHold, op.actual), before };
            } else {
              const r = await settle(ledger, h.id, op.actual);
              if (r instanceof Error) assert.fail(`hold ${h.id} could not be settled: ${r.stack} ${where(step)}`);
              // A commit takes a live or expired hold once; a release only a live one.
              const settleable = !h.settled && (op.actual !== null || clock.now() < h.expiresAt);
              assert.equal(r.ok, settleable, `hold ${h.id}: ${JSON.stringify(r)} ${where(step)}`);
              if (!r.ok) assert.equal(r.code, 'hold_not_active', where(step));
              else h.settled = true;
            }
          } else if (op.kind === 'deduct') {
            const r = await ledger.deduct({ account: member, feature: 'outbound_call_single', quantity: op.quantity });
            if (!r.ok) assert.equal(r.code, 'insufficient_tokens', where(step));
          } else if (op.kind === 'pool_deduct') {
            const r = await ledger.deduct({ account: pool, feature: 'outbound_call_single' });
            if (r.ok) poolSpent += r.cost;
          } else clock.advance(op.seconds * 1000);
          await exact(ledger, pool, start, poolSpent, where(step));
          if (byPoolId) {
            const r = byPoolId.answer;
            assert.ok(
              isTokenmeterError(r),
              `the pool's hold ${byPoolId.id} was settled: ${JSON.stringify(r)} ${where(step)}`,
            );
            assert.deepEqual([r.code, r.field], ['invalid_request', 'holdId'], where(step));
            assert.deepEqual(
              await poolFigures(ledger, pool),
              byPoolId.before,
              `a refusal moved something: ${where(step)}`,
            );
          }
        }

        // Every member's hold can still be settled by its own id: once, and for what it reserved.
        for (const h of holds.filter((x) => !x.settled)) {
          const r = await settle(ledger, h.id, h.amount);
          if (r instanceof Error) assert.fail(`hold ${h.id} could not be settled at the end: ${r.stack}`);
          assert.equal(r.ok, true, `hold ${h.id} at the end: ${JSON.stringify(r)} ${where(s.ops.length)}`);
        }
        await exact(ledger, pool, start, poolSpent, where(s.ops.length));
        for (const m of await ledger.poolMembers(pool)) assert.equal(m.held, 0, where(s.ops.length));
      }),
      { numRuns: RUNS },
    );
  });
});
