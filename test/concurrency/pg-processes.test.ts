import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { openPgStore } from '../../src/store/postgres/open-pg-store.ts';
import { accepted, catalog } from '../helpers/ledger.ts';
import { createTestDatabase, pgSuiteSkip, type TestDatabase } from '../helpers/pg-server.ts';
import { raceWorkers } from '../helpers/race-workers.ts';

const worker = join(import.meta.dirname, '../helpers/ledger-worker.ts');

interface Summary {
  accepted: number;
  refused: number;
  charged: number;
  minAvailable: number;
  errors: string[];
  perAccount: Record<string, number>;
}

/** Starts workers on an empty database (they migrate it all at once), runs `setUp`, then releases them. */
function race(url: string, mode: string, perWorker: number, workers: number, setUp: () => Promise<void>) {
  return raceWorkers<Summary>({ script: worker, target: url, mode, perWorker, workers, setUp });
}

describe('four processes, each with its own pool, on one PostgreSQL database', { skip: await pgSuiteSkip() }, () => {
  const databases: TestDatabase[] = [];
  const ledgers: TokenLedger[] = [];
  after(async () => {
    for (const l of ledgers) await l.close();
    for (const d of databases) await d.drop();
  });

  async function freshDatabase(): Promise<{ url: string; ledger: TokenLedger }> {
    const database = await createTestDatabase();
    databases.push(database);
    // The engine's real clock, as the workers use.
    const ledger = new TokenLedger({
      store: openPgStore({ url: database.url, poolSize: 2, allowExitOnIdle: true }),
      catalog,
    });
    ledgers.push(ledger);
    return { url: database.url, ledger };
  }

  const openHot = (ledger: TokenLedger, balance: number) => async () => {
    await ledger.createAccount({ account: 'hot' });
    accepted(await ledger.adjust({ account: 'hot', setBalance: balance, reason: 'race test', actor: 'test' }));
  };

  it('2,000 deductions of 1 on a balance of 500: exactly 500 succeed, balance 0, reconcile clean', async () => {
    const { url, ledger } = await freshDatabase();
    const summaries = await race(url, 'deduct', 500, 4, openHot(ledger, 500));
    assert.deepEqual(
      summaries.flatMap((s) => s.errors),
      [],
    );
    assert.equal(
      summaries.reduce((n, s) => n + s.accepted, 0),
      500,
    );
    assert.equal(
      summaries.reduce((n, s) => n + s.refused, 0),
      1500,
    );
    assert.ok(summaries.every((s) => s.minAvailable >= 0));
    const view = await ledger.getBalance('hot');
    assert.equal(view.balance, 0);
    const debits = (await ledger.history('hot', { limit: 1000 })).entries.filter((e) => e.kind === 'debit');
    assert.equal(debits.length, 500);
    assert.deepEqual(await ledger.reconcile(), { accountsChecked: 1, drift: [] });
  });

  it('holds and deductions racing on one account never take available below zero', async () => {
    const { url, ledger } = await freshDatabase();
    const summaries = await race(url, 'mixed', 150, 4, openHot(ledger, 100));
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
  });

  it('1,000 accounts, random amounts: no account is charged more than it held', async () => {
    const { url, ledger } = await freshDatabase();
    const summaries = await race(url, 'spread', 1000, 4, async () => {});
    assert.deepEqual(
      summaries.flatMap((s) => s.errors),
      [],
    );
    assert.ok(summaries.every((s) => s.minAvailable >= 0));
    const charged = new Map<string, number>();
    for (const s of summaries) {
      for (const [account, tokens] of Object.entries(s.perAccount)) {
        charged.set(account, (charged.get(account) ?? 0) + tokens);
      }
    }
    assert.ok(summaries.reduce((n, s) => n + s.refused, 0) > 0, 'the workload should exhaust some accounts');
    for (const [account, tokens] of charged) {
      assert.ok(tokens <= 100, `${account} was charged ${tokens} of the 100 it held`);
      assert.equal((await ledger.getBalance(account)).balance, 100 - tokens, account);
    }
    const report = await ledger.reconcile();
    assert.deepEqual(report.drift, []);
    assert.ok(report.accountsChecked >= charged.size);
  });
});
