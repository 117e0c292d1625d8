// Group commit on a store with several writers splits a large queue by the account that pays,
// one batch per free connection (GroupCommitter.nextBatches). Property: however many accounts
// and operations, each account's operations are still decided in arrival order (the first
// `balance` of them charged, each one token lower, the rest refused), nothing is charged twice,
// and reconcile is clean; on PostgreSQL and PGlite the queue really was split.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ManualClock } from '../../src/core/clock.ts';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { backends, type TestStore } from '../helpers/backends.ts';
import { accepted, catalog, refused } from '../helpers/ledger.ts';

const RUNS = 6;
const OPENING = 100; // the default plan's allocation

for (const backend of backends()) {
  describe(`group commit split by payer [${backend.name}]`, () => {
    let db: TestStore;
    let ledger: TokenLedger;
    before(async () => {
      db = await backend.open();
      const clock = new ManualClock('2026-01-15T10:00:00Z');
      ledger = new TokenLedger({
        store: db.store,
        catalog,
        clock,
        groupCommit: { maxBatch: 1024, maxWaitMs: 0, maxQueue: 10_000 },
      });
    });
    after(async () => {
      await ledger.close();
      await db.cleanup();
    });

    it('property: every account is decided in arrival order, whatever batch its operations join', async () => {
      let run = 0;
      await fc.assert(
        fc.asyncProperty(
          // Operations per account (some past the opening balance), in a random interleaving.
          fc.array(fc.integer({ min: 1, max: OPENING + 20 }), { minLength: 8, maxLength: 24 }),
          fc.infiniteStream(fc.nat()),
          async (counts, picks) => {
            run++;
            const names = counts.map((_, i) => `r${run}-a${i}`);
            const left = [...counts];
            const order: string[] = [];
            const draw = picks[Symbol.iterator]();
            while (left.some((n) => n > 0)) {
              const open = left.flatMap((n, i) => (n > 0 ? [i] : []));
              const i = open[(draw.next().value as number) % open.length] as number;
              left[i] = (left[i] as number) - 1;
              order.push(names[i] as string);
            }
            const before = ledger.groupCommitStats();
            // Every call starts in this turn of the event loop: they queue together.
            const results = await Promise.all(
              order.map((account) => ledger.deduct({ account, feature: 'outbound_call_single' })),
            );
            const stats = ledger.groupCommitStats();
            names.forEach((account, i) => {
              const mine = results.filter((_, j) => order[j] === account);
              const charged = Math.min(counts[i] as number, OPENING);
              mine.forEach((r, k) => {
                if (k < charged) assert.equal(accepted(r).balance, OPENING - 1 - k, `${account}'s ${k + 1}th call`);
                else assert.equal(refused(r).code, 'insufficient_tokens', `${account}'s ${k + 1}th call`);
              });
            });
            if (backend.name === 'postgres' || backend.name === 'pglite') {
              assert.ok(stats.batches - before.batches > 1, `${order.length} operations in one batch`);
            }
          },
        ),
        { numRuns: RUNS },
      );
      assert.deepEqual((await ledger.reconcile()).drift, []);
    });
  });
}
