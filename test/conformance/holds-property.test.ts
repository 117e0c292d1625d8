import assert from 'node:assert/strict';
import { it } from 'node:test';
import fc from 'fast-check';
import { conformance } from '../helpers/suite.ts';
import { TokenModel } from '../model/token-model.ts';

// Random interleavings of holds, refund-like take-backs (exempt operator corrections),
// deductions and clock moves: every commit charges exactly what the hold rule allows (the
// independent model), no hold is charged twice, and the ledger reconciles.
const opArb = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('reserve' as const),
      amount: fc.integer({ min: 1, max: 60 }),
      ttl: fc.integer({ min: 30, max: 120 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('take_back' as const), amount: fc.integer({ min: 1, max: 120 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('deduct' as const),
      feature: fc.constantFrom('outbound_call_single', 'business_collector'),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant('commit' as const),
      pick: fc.nat(),
      actual: fc.integer({ min: 0, max: 150 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('release' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 150_000 }) }),
  },
);

conformance('hold commits (property)', (get) => {
  it('never charge more than the rule allows, never twice, and reconcile stays clean', async () => {
    const { ledger, clock, db } = get();
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 25 }), async (ops) => {
        const account = `p${run++}`;
        const model = new TokenModel(clock.now());
        // Engine hold id -> model hold id.
        const holds: [number, number][] = [];
        for (const o of ops) {
          const where = JSON.stringify(o);
          if (o.op === 'advance') {
            clock.advance(o.ms);
            model.now = clock.now();
          } else if (o.op === 'reserve') {
            const real = await ledger.reserve({ account, amount: o.amount, ttlSeconds: o.ttl });
            const expected = model.reserve(account, o.amount, o.ttl);
            assert.equal(real.ok, expected.ok, where);
            if (real.ok && expected.ok) holds.push([real.holdId, expected.holdId]);
          } else if (o.op === 'take_back') {
            const real = await ledger.adjust({ account, amount: -o.amount, reason: 'refund', actor: 'prop' });
            assert.ok(real.ok && model.adjust(account, -o.amount).ok, where);
          } else if (o.op === 'deduct') {
            const real = await ledger.deduct({ account, feature: o.feature });
            assert.equal(real.ok, model.deduct(account, o.feature, 1).ok, where);
          } else {
            const pair = holds[o.pick % Math.max(1, holds.length)];
            if (!pair) continue;
            const [realId, modelId] = pair;
            if (o.op === 'commit') {
              const real = await ledger.commitHold(realId, o.actual);
              const expected = model.commit(modelId, o.actual);
              assert.equal(real.ok, expected.ok, where);
              if (real.ok && expected.ok) {
                assert.equal(real.charged, expected.charged, where);
                assert.equal(real.shortfall, o.actual - expected.charged, where);
              }
            } else {
              assert.equal((await ledger.releaseHold(realId)).ok, model.release(modelId).ok, where);
            }
          }
          const view = await ledger.getBalance(account);
          const expected = model.peek(account);
          assert.equal(view.balance, expected.balance, `balance after ${where}`);
          assert.equal(view.available, expected.available, `available after ${where}`);
        }
        const entries = (await ledger.history(account, { limit: 500 })).entries.filter((e) => e.kind === 'hold_commit');
        for (const [realId] of holds) {
          const hold = await db.store.getHold(realId);
          const charges = entries.filter((e) => e.reference === String(realId));
          assert.ok(charges.length <= 1, `hold ${realId} charged ${charges.length} times`);
          assert.equal(charges[0]?.amount ?? 0, -(hold?.charged ?? 0) || 0);
        }
        assert.deepEqual((await ledger.reconcile()).drift, []);
      }),
      { numRuns: Number(process.env.HOLD_PROPERTY_RUNS ?? 50) },
    );
  });
});
