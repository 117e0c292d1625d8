import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.ts';
import { accepted, ledgerOn } from '../helpers/ledger.ts';

// An imported account held its plan's month in the legacy app: plan changes in its first cycle
// grant as they would to a native account on that plan, whatever of the month it had used.

describe('plan changes in an imported account’s first cycle', () => {
  let dir: string;
  let ledger: TokenLedger;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tm-import-plan-'));
    const store = new SqliteStore({ path: join(dir, 'ledger.db') });
    await store.migrate();
    ledger = ledgerOn(store).ledger;
  });
  afterEach(async () => {
    await ledger.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const toggle = async (account: string, plans: string[]) => {
    for (const plan of plans) await ledger.setPlan({ account, plan, reason: 'toggle', actor: 'ops' });
  };
  const imported = async (account: string, plan: string, balance: number) => {
    const r = await ledger.importAccount({ account, plan, balance, usedThisCycle: 0 });
    assert.equal(r.status, 'imported');
  };

  it('regression: pro → free → pro grants nothing to a pro account imported with its month spent (it granted 4,900)', async () => {
    // A native pro account that spent its month: the toggle grants nothing.
    await ledger.createAccount({ account: 'native', plan: 'pro' });
    accepted(await ledger.deduct({ account: 'native', feature: 'social_post', quantity: 5000 }));
    await toggle('native', ['free', 'pro']);
    assert.equal((await ledger.getBalance('native')).balance, 0);

    await imported('legacy', 'pro', 0);
    await toggle('legacy', ['free', 'pro']);
    const view = await ledger.getBalance('legacy');
    assert.deepEqual([view.plan, view.balance], ['pro', 0]);
    assert.deepEqual((await ledger.reconcile()).drift, []);
  });

  it('regression: a partly used month is not topped up by switching down and back (it granted 2,000)', async () => {
    await imported('part', 'pro', 3000);
    await toggle('part', ['starter', 'pro', 'free', 'pro']);
    assert.equal((await ledger.getBalance('part')).balance, 3000);
    await imported('debt', 'pro', -50);
    await toggle('debt', ['free', 'pro']);
    assert.deepEqual([(await ledger.getBalance('debt')).balance, (await ledger.getBalance('debt')).debt], [-50, 50]);
  });

  it('regression: an upgrade adds new − old once, the imported month counted whole (it granted 5,000); the grant shows it', async () => {
    await imported('up', 'free', 40);
    await toggle('up', ['pro', 'free', 'pro']);
    // Free's 100 (60 used in the legacy app) and pro's +4,900: pro's 5,000, as for a native account.
    assert.equal((await ledger.getBalance('up')).balance, 40 + 4900);
    await imported('month', 'pro', 7000);
    const [included] = (await ledger.grants('month')).filter((g) => g.category === 'included');
    assert.deepEqual([included?.tokens, included?.remaining], [5000, 5000]);
    await imported('spent', 'pro', 1200);
    const [spent] = (await ledger.grants('spent')).filter((g) => g.category === 'included');
    assert.deepEqual([spent?.tokens, spent?.remaining], [5000, 1200]);
    const [opening] = (await ledger.history('spent')).entries;
    assert.deepEqual([opening?.kind, opening?.amount, opening?.allocationDelta], ['opening_balance', 1200, 1200]);
    assert.deepEqual((await ledger.reconcile()).drift, []);
  });
});
