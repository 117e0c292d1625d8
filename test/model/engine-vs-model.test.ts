// The engine against an independent model of the token rules (token-model.ts, which imports
// nothing from src/): random deductions, credits, corrections, top-ups with refunds and
// disputes, grants (promotional and paid, random priorities and expiries, some starting later),
// replays, voids, holds, and a clock that crosses expiries and cycle boundaries. After every
// operation the answers, every balance figure and every grant must agree; reconcile stays clean.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { SqliteWorkerStore } from '../../src/store/sqlite/worker-store.ts';
import { ledgerOn } from '../helpers/ledger.ts';
import { opArb } from './model-ops.ts';
import { ModelRun } from './model-run.ts';
import { TokenModel } from './token-model.ts';

describe('engine against an independent model (fast-check)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tm-model-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let run = 0;

  it('agrees on every result, grant and balance over random operation sequences, and reconciles clean', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.date({ min: new Date('2024-01-01'), max: new Date('2030-12-31'), noInvalidDate: true }),
        // Medium: long enough for grants to be made, drawn on and expire within one run.
        fc.array(opArb, { maxLength: 60, size: 'medium' }),
        // The store as an app embeds it (the writer in this thread) or as the server runs it
        // (the writer on its own thread, where hot-path writes are decided beside it).
        fc.boolean(),
        async (start, ops, onWorker) => {
          // Durability is not what this test checks: NORMAL spares it an fsync per write.
          const options = { path: join(dir, `run-${run++}.db`), synchronous: 'NORMAL' as const };
          const store = onWorker ? new SqliteWorkerStore(options) : new SqliteStore(options);
          await store.migrate();
          const { ledger, clock } = ledgerOn(store, start.toISOString());
          try {
            const session = new ModelRun(ledger, clock, new TokenModel(clock.now()));
            for (const o of ops) await session.apply(o);
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
