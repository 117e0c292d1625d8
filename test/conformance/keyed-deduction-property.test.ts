import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { ManualClock } from '../../src/core/clock.ts';
import type { GroupCommitOptions } from '../../src/ledger/batch/group-commit-options.ts';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import type { Deducted, DeductResult } from '../../src/ledger/types.ts';
import { backends, type TestStore } from '../helpers/backends.ts';
import { catalog } from '../helpers/ledger.ts';

// Keyed deductions with repeated keys, some with other parameters, all sent at once: they race
// in small batches (a repeat lands in the same batch as its first use or in a later one) or as
// racing transactions of their own. Each (account, key) is charged exactly once, every repeat
// with the same parameters replays the charged answer field for field (also from another
// process), every repeat with other parameters is idempotency_conflict, and the ledger holds
// one keyed debit per key.

const opArb = fc.record({
  account: fc.constantFrom('p', 'q'),
  key: fc.constantFrom('k0', 'k1', 'k2', 'k3'),
  feature: fc.constantFrom('social_post', 'crm_ai_agent'),
  quantity: fc.integer({ min: 1, max: 2 }),
});

const MODES: { name: string; groupCommit: GroupCommitOptions | false }[] = [
  { name: 'batches of 3', groupCommit: { maxBatch: 3, maxWaitMs: 0, maxQueue: 10_000 } },
  { name: 'one tx per op', groupCommit: false },
];

for (const backend of backends()) {
  for (const mode of MODES) {
    describe(`keyed deductions racing (property) [${backend.name}, ${mode.name}]`, () => {
      let db: TestStore;
      let ledger: TokenLedger;
      let clock: ManualClock;
      beforeEach(async () => {
        db = await backend.open();
        clock = new ManualClock('2026-01-15T10:00:00Z');
        ledger = new TokenLedger({ store: db.store, catalog, clock, groupCommit: mode.groupCommit });
      });
      afterEach(async () => {
        await ledger.close();
        await db.cleanup();
      });

      it('charge each (account, key) once; every replay equals its original; other parameters conflict', async () => {
        const other = new TokenLedger({ store: await db.reopen(), catalog, clock, groupCommit: false });
        let run = 0;
        try {
          await fc.assert(
            fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 24 }), async (ops) => {
              const prefix = `r${run++}-`;
              for (const id of ['p', 'q']) {
                await ledger.createAccount({ account: prefix + id, plan: 'pro' });
                // Held tokens make available differ from balance in every answer.
                await ledger.reserve({ account: prefix + id, amount: 100 });
              }
              const sent = ops.map((o) => ({ ...o, account: prefix + o.account, idempotencyKey: o.key }));
              const results = await Promise.all(sent.map((o) => ledger.deduct(o)));

              const groups = new Map<string, { op: (typeof sent)[number]; r: DeductResult }[]>();
              sent.forEach((op, i) => {
                const k = `${op.account}/${op.key}`;
                groups.set(k, [...(groups.get(k) ?? []), { op, r: results[i] as DeductResult }]);
              });
              const spent = new Map<string, number>();
              for (const [k, group] of groups) {
                const charged = group.filter((g) => g.r.ok && !g.r.replayed);
                assert.equal(charged.length, 1, `${k}: ${JSON.stringify(group)}`);
                const first = charged[0] as { op: (typeof sent)[number]; r: Deducted };
                spent.set(first.op.account, (spent.get(first.op.account) ?? 0) + first.r.cost);
                for (const { op, r } of group) {
                  if (r === first.r) continue;
                  if (op.feature === first.op.feature && op.quantity === first.op.quantity) {
                    assert.deepEqual(r, { ...first.r, replayed: true }, k);
                  } else {
                    assert.equal(r.ok ? 'accepted' : r.code, 'idempotency_conflict', k);
                  }
                }
                // Another process, after the fact, answers from the database alone.
                assert.deepEqual(await other.deduct(first.op), { ...first.r, replayed: true }, k);
              }
              for (const id of ['p', 'q']) {
                const account = prefix + id;
                const view = await ledger.getBalance(account);
                assert.deepEqual([view.balance, view.held], [5000 - (spent.get(account) ?? 0), 100]);
                const keyed = (await ledger.history(account, { limit: 100 })).entries.filter(
                  (e) => e.kind === 'debit' && e.idempotencyKey !== null,
                );
                const keys = new Set(sent.filter((o) => o.account === account).map((o) => o.key));
                assert.deepEqual(keyed.map((e) => e.idempotencyKey).sort(), [...keys].sort());
              }
            }),
            { numRuns: backend.name === 'postgres' ? 15 : 25 },
          );
          assert.deepEqual((await ledger.reconcile()).drift, []);
        } finally {
          await other.close();
        }
      });
    });
  }
}
