import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { ledgerOn } from '../helpers/ledger.ts';
import { raceWorkers } from '../helpers/race-workers.ts';

const worker = join(import.meta.dirname, '../helpers/ledger-worker.ts');

interface Summary {
  accepted: number;
  refused: number;
  charged: number;
  minAvailable: number;
  errors: string[];
}

function race(path: string, mode: string, perWorker: number, workers: number): Promise<Summary[]> {
  return raceWorkers<Summary>({ script: worker, target: path, mode, perWorker, workers });
}

describe('four processes on one SQLite file', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tm-conc-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('1,000 deductions of 1 on a balance of 100: exactly 100 succeed, balance 0, reconcile clean', async () => {
    const path = join(dir, 'deduct.db');
    const store = new SqliteStore({ path });
    await store.migrate();
    const { ledger } = ledgerOn(store);
    assert.equal((await ledger.createAccount({ account: 'hot' })).created, true);

    const summaries = await race(path, 'deduct', 250, 4);
    assert.deepEqual(
      summaries.flatMap((s) => s.errors),
      [],
    );
    assert.equal(
      summaries.reduce((n, s) => n + s.accepted, 0),
      100,
    );
    assert.equal(
      summaries.reduce((n, s) => n + s.refused, 0),
      900,
    );
    assert.ok(summaries.every((s) => s.minAvailable >= 0));
    const view = await ledger.getBalance('hot');
    assert.equal(view.balance, 0);
    const debits = (await ledger.history('hot', { limit: 1000 })).entries.filter((e) => e.kind === 'debit');
    assert.equal(debits.length, 100);
    assert.deepEqual(await ledger.reconcile(), { accountsChecked: 1, drift: [] });
    await ledger.close();
  });

  it('holds and deductions racing on one account never take available below zero', async () => {
    const path = join(dir, 'mixed.db');
    const store = new SqliteStore({ path });
    await store.migrate();
    const { ledger } = ledgerOn(store);
    await ledger.createAccount({ account: 'hot' });

    const summaries = await race(path, 'mixed', 150, 4);
    assert.deepEqual(
      summaries.flatMap((s) => s.errors),
      [],
    );
    assert.ok(
      summaries.every((s) => s.minAvailable >= 0),
      `min available ${Math.min(...summaries.map((s) => s.minAvailable))}`,
    );
    const charged = summaries.reduce((n, s) => n + s.charged, 0);
    const view = await ledger.getBalance('hot');
    assert.equal(view.held, 0);
    assert.equal(view.balance, 100 - charged);
    assert.ok(view.balance >= 0);
    assert.deepEqual(await ledger.reconcile(), { accountsChecked: 1, drift: [] });
    await ledger.close();
  });
});
