import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { LedgerEntry } from '../../src/core/entry.ts';
import { backends } from '../helpers/backends.ts';
import { catalog, ledgerOn } from '../helpers/ledger.ts';

// Written from the rule, not from src/core: within a cycle, plan changes grant at most
// the highest allocation held in it, and the plan held at a boundary decides the renewal and
// the rollover cap.

const plans = [...catalog.plans.values()];
const allocationOf = (id: string): number => catalog.plans.get(id)?.monthlyAllocation ?? Number.NaN;
const capOf = (id: string): number => catalog.plans.get(id)?.rolloverCap ?? Number.NaN;
const DAY = 24 * 3600 * 1000;

const opArb = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ op: fc.constant('plan' as const), plan: fc.constantFrom(...plans.map((p) => p.id)) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('spend' as const), quantity: fc.integer({ min: 1, max: 3000 }) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('buy' as const), tokens: fc.integer({ min: 1, max: 500 }) }) },
);

/** Ops inside one cycle, or (`crossing`) with clock moves that pass several boundaries. */
const runArb = (crossing: boolean) =>
  fc.record({
    start: fc.constantFrom(...plans.map((p) => p.id)),
    ops: fc.array(fc.tuple(opArb, fc.integer({ min: 0, max: crossing ? 20 * DAY : Math.floor(DAY / 2) })), {
      maxLength: 25,
    }),
  });

/**
 * Walks the ledger oldest first, with the plan each plan_change entry moved to, and checks
 * every cycle: granted ≤ the highest allocation held in it, each renewal grants the plan held at
 * its boundary after keeping at most that plan's rollover cap.
 */
function checkCycles(entries: LedgerEntry[], start: string, targets: Map<number, string>): void {
  let plan = start;
  let allocation = 0;
  let granted = 0;
  let highest = 0;
  for (const e of entries) {
    if (e.kind === 'opening_balance' || e.kind === 'cycle_grant') {
      assert.equal(e.allocationDelta, allocationOf(plan), `the renewal grants the plan held then (${plan})`);
      granted = e.allocationDelta;
      highest = allocationOf(plan);
    } else if (e.kind === 'cycle_expiry') {
      assert.equal(allocation + e.allocationDelta, Math.min(allocation, capOf(plan)), `rollover capped by ${plan}`);
    } else if (e.kind === 'plan_change') {
      const target = targets.get(e.id);
      assert.ok(target !== undefined, `plan_change ${e.id} is one of ours`);
      assert.ok(e.allocationDelta >= 0, 'a plan change never takes allocation');
      assert.ok(e.allocationDelta <= Math.max(0, allocationOf(target) - allocationOf(plan)), 'at most new − old');
      plan = target;
      granted += e.allocationDelta;
      highest = Math.max(highest, allocationOf(plan));
    }
    allocation += e.allocationDelta;
    assert.ok(granted <= highest, `granted ${granted} in a cycle whose highest allocation held is ${highest}`);
  }
}

for (const backend of backends()) {
  describe(`plan changes on a real store [${backend.name}] (fast-check)`, () => {
    const numRuns = backend.name === 'sqlite' ? 40 : 8;

    for (const crossing of [false, true]) {
      it(
        crossing
          ? 'across boundaries: each cycle grants at most its highest allocation held; renewals follow the plan held then'
          : 'inside one cycle: any sequence of plan changes grants at most the highest allocation held, and reconciles clean',
        async () => {
          await fc.assert(
            fc.asyncProperty(runArb(crossing), async ({ start, ops }) => {
              const db = await backend.open();
              const { ledger, clock } = ledgerOn(db.store, '2026-03-31T10:00:00Z');
              const targets = new Map<number, string>();
              let refs = 0;
              try {
                await ledger.createAccount({ account: 'a', plan: start });
                for (const [o, wait] of ops) {
                  clock.advance(wait);
                  if (o.op === 'plan') {
                    const r = await ledger.setPlan({ account: 'a', plan: o.plan, reason: 'property', actor: 't' });
                    if (r.entryId !== null) targets.set(r.entryId, o.plan);
                  } else if (o.op === 'spend') {
                    await ledger.deduct({ account: 'a', feature: 'social_post', quantity: o.quantity });
                  } else {
                    await ledger.credit({
                      account: 'a',
                      tokens: o.tokens,
                      source: 'property',
                      reference: `r${refs++}`,
                    });
                  }
                }
                const entries: LedgerEntry[] = [];
                for (let cursor: string | null = null, first = true; first || cursor !== null; first = false) {
                  const page = await ledger.history('a', { limit: 200, cursor });
                  entries.push(...page.entries);
                  cursor = page.nextCursor;
                }
                checkCycles(entries.reverse(), start, targets);
                if (!crossing) {
                  assert.equal(entries.filter((e) => e.kind === 'cycle_grant').length, 0, 'stayed inside one cycle');
                }
                assert.deepEqual((await ledger.reconcile()).drift, []);
              } finally {
                await ledger.close();
                await db.cleanup();
              }
            }),
            { numRuns },
          );
        },
      );
    }
  });
}
