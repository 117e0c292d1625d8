import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { ledgerOn } from '../helpers/ledger.ts';
import { TokenModel } from './token-model.ts';

const accountArb = fc.constantFrom('a', 'b', '7');
const opArb = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('deduct' as const),
      account: accountArb,
      feature: fc.constantFrom('outbound_call_single', 'crm_ai_agent', 'business_collector'),
      quantity: fc.integer({ min: 1, max: 30 }),
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
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('adjust' as const),
      account: accountArb,
      amount: fc.integer({ min: -150, max: 80 }).filter((n) => n !== 0),
    }),
  },
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
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('advance' as const),
      ms: fc.integer({ min: 1, max: 20 * 24 * 3600 * 1000 }),
    }),
  },
);

describe('engine against an independent model (fast-check)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-model-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let run = 0;

  it('agrees on every result and balance over random operation sequences, and reconciles clean', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.date({ min: new Date('2024-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }),
        fc.array(opArb, { maxLength: 60 }),
        async (start, ops) => {
          const store = new SqliteStore({ path: join(dir, `run-${run++}.db`) });
          await store.migrate();
          const { ledger, clock } = ledgerOn(store, start.toISOString());
          const model = new TokenModel(clock.now());
          const holds: number[] = [];
          try {
            for (const o of ops) {
              if (o.op === 'advance') {
                clock.advance(o.ms);
                model.now = clock.now();
              } else if (o.op === 'deduct' || o.op === 'drain') {
                const feature = o.op === 'deduct' ? o.feature : 'outbound_call_single';
                const quantity =
                  o.op === 'deduct' ? o.quantity : Math.max(1, model.peek(o.account).available + o.offset);
                const real = await ledger.deduct({ account: o.account, feature, quantity });
                const expected = model.deduct(o.account, feature, quantity);
                assert.equal(real.ok, expected.ok, JSON.stringify({ o, real, expected }));
                if (real.ok && expected.ok) assert.equal(real.balance, expected.balance);
                if (!real.ok && !expected.ok) assert.equal(real.message, expected.message);
              } else if (o.op === 'credit') {
                const real = await ledger.credit({
                  account: o.account,
                  tokens: o.tokens,
                  source: 'model',
                  reference: `c${holds.length}-${Math.random()}`,
                });
                const expected = model.credit(o.account, o.tokens);
                assert.ok(real.ok && expected.ok);
                assert.equal(real.balance, expected.balance);
              } else if (o.op === 'adjust') {
                const real = await ledger.adjust({
                  account: o.account,
                  amount: o.amount,
                  reason: 'model',
                  actor: 'model',
                });
                const expected = model.adjust(o.account, o.amount);
                assert.ok(real.ok && expected.ok);
                assert.equal(real.balance, expected.balance);
              } else if (o.op === 'reserve') {
                const real = await ledger.reserve({ account: o.account, amount: o.amount, ttlSeconds: o.ttl });
                const expected = model.reserve(o.account, o.amount, o.ttl);
                assert.equal(real.ok, expected.ok, JSON.stringify({ o, real, expected }));
                if (real.ok && expected.ok) {
                  assert.equal(real.holdId, expected.holdId);
                  holds.push(real.holdId);
                }
              } else if (holds.length > 0) {
                const holdId = holds[o.pick % holds.length] ?? 0;
                if (o.op === 'commit') {
                  const real = await ledger.commitHold(holdId, o.actual);
                  const expected = model.commit(holdId, o.actual);
                  assert.equal(real.ok, expected.ok, JSON.stringify({ o, real, expected }));
                  if (real.ok && expected.ok) assert.equal(real.charged, expected.charged);
                } else {
                  const real = await ledger.releaseHold(holdId);
                  assert.equal(real.ok, model.release(holdId).ok);
                }
              }
              for (const id of ['a', 'b', '7']) {
                const view = await ledger.getBalance(id);
                const expected = model.peek(id);
                assert.equal(view.balance, expected.balance, `balance of ${id} after ${JSON.stringify(o)}`);
                assert.equal(view.available, expected.available, `available of ${id} after ${JSON.stringify(o)}`);
              }
            }
            assert.deepEqual((await ledger.reconcile()).drift, []);
          } finally {
            await ledger.close();
          }
        },
      ),
      { numRuns: Number(process.env.MODEL_RUNS ?? 40) },
    );
  });
});
