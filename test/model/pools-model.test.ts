// Shared pools against an independent model (pool-model.ts, which imports nothing from src/):
// members that start as plain accounts or as members, with own tokens and random limits,
// deducting, reserving, committing and releasing beside the pool's own deductions, joining,
// changing limits, leaving and rejoining, keyed replays and conflicts, and a clock that crosses
// hold expiries and the pool's and members' cycle boundaries. After every operation each answer,
// every balance figure and every membership must agree with the model, and the properties hold:
// the pool is never overdrawn, no membership passes its limit, tokens are conserved; reconcile
// stays clean.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { ledgerOn } from '../helpers/ledger.ts';
import { PoolModel } from './pool-model.ts';
import { poolOpArb, setupArb } from './pool-model-ops.ts';
import { PoolRun } from './pool-model-run.ts';

describe('shared pools against an independent model (fast-check)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-pool-model-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let run = 0;

  it('agrees on every answer, balance and membership over random sequences; the money rules hold; reconcile is clean', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.date({ min: new Date('2024-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }),
        setupArb,
        // Medium: long enough to cross a boundary or two and drain a limit within one run.
        fc.array(poolOpArb, { maxLength: 60, size: 'medium' }),
        async (start, starts, ops) => {
          // Durability is not what this test checks: NORMAL spares it an fsync per write.
          const store = new SqliteStore({ path: join(dir, `run-${run++}.db`), synchronous: 'NORMAL' });
          await store.migrate();
          const { ledger, clock } = ledgerOn(store, start.toISOString());
          try {
            const session = new PoolRun(ledger, clock, new PoolModel(clock.now()));
            await session.setup(starts);
            for (const o of ops) await session.apply(o);
            await session.finish();
          } finally {
            await ledger.close();
          }
        },
      ),
      { numRuns: Number(process.env.MODEL_RUNS ?? 30) },
    );
  });
});
