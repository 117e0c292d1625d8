import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { ImportOutcome } from '../../src/ledger/types.ts';
import { accepted } from '../helpers/ledger.ts';
import { conformance } from '../helpers/suite.ts';

function only<S extends ImportOutcome['status']>(o: ImportOutcome, status: S): Extract<ImportOutcome, { status: S }> {
  assert.equal(o.status, status, JSON.stringify(o));
  return o as Extract<ImportOutcome, { status: S }>;
}

conformance('importAccount', (get) => {
  it('opens the seed user 7 on free with 100 and one opening_balance entry (source import)', async () => {
    const { ledger } = get();
    const o = only(await ledger.importAccount({ account: '7', plan: 'free', balance: 100 }), 'imported');
    assert.equal(o.balance, 100);
    assert.equal(o.allocation, 100);
    assert.ok(o.entryId !== null);
    const h = await ledger.history('7');
    assert.equal(h.entries.length, 1);
    const [entry] = h.entries;
    assert.equal(entry?.kind, 'opening_balance');
    assert.equal(entry?.source, 'import');
    assert.equal(entry?.reference, '7');
    const view = await ledger.getBalance('7');
    assert.equal(view.balance, 100);
    assert.equal(view.plan, 'free');
    assert.deepEqual((await ledger.reconcile()).drift, []);
  });

  it('splits a balance above the allocation, keeps the used count, and opens a debt below zero', async () => {
    const { ledger } = get();
    only(await ledger.importAccount({ account: 'a', plan: 'free', balance: 250, usedThisCycle: 12 }), 'imported');
    const a = await ledger.getBalance('a');
    assert.deepEqual([a.allocation, a.purchased, a.usedThisCycle], [100, 150, 12]);
    only(await ledger.importAccount({ account: 'b', plan: 'starter', balance: -5 }), 'imported');
    const b = await ledger.getBalance('b');
    assert.deepEqual([b.balance, b.allocation, b.purchased, b.debt, b.featuresDisabled], [-5, 0, 0, 5, true]);
    assert.deepEqual((await ledger.reconcile()).drift, []);
  });

  it('a second import of the same account writes nothing and says it was already imported', async () => {
    const { ledger } = get();
    const first = only(await ledger.importAccount({ account: '7', plan: 'free', balance: 100 }), 'imported');
    accepted(await ledger.deduct({ account: '7', feature: 'outbound_call_single' }));
    const again = only(await ledger.importAccount({ account: '7', plan: 'pro', balance: 5000 }), 'already_imported');
    assert.equal(again.entryId, first.entryId);
    assert.equal(again.importedBalance, 100);
    assert.equal(again.balance, 99);
    assert.equal((await ledger.history('7')).entries.length, 2);
  });

  it('never overwrites an account provisioned by use: already_active, with both balances', async () => {
    const { ledger } = get();
    accepted(await ledger.deduct({ account: '9', feature: 'outbound_call_single' }));
    const o = only(await ledger.importAccount({ account: '9', plan: 'starter', balance: 40 }), 'already_active');
    assert.deepEqual([o.balance, o.legacyBalance, o.plan], [99, 40, 'free']);
    assert.equal((await ledger.getBalance('9')).balance, 99);
    assert.equal((await ledger.history('9')).entries.length, 2);
  });

  it('a dry run decides exactly as a real run and writes nothing', async () => {
    const { ledger } = get();
    accepted(await ledger.deduct({ account: '9', feature: 'outbound_call_single' }));
    const inputs = [
      { account: '7', plan: 'free', balance: 100 },
      { account: '9', plan: 'free', balance: 40 },
      { account: '7', plan: 'free', balance: 100 },
    ];
    const preview = await ledger.importAccounts(inputs, { dryRun: true });
    assert.deepEqual(
      preview.map((o) => o.status),
      ['imported', 'already_active', 'already_imported'],
    );
    assert.equal(only(preview[0] as ImportOutcome, 'imported').entryId, null);
    assert.equal((await ledger.getBalance('7')).exists, false);
    const real = await ledger.importAccounts(inputs);
    assert.deepEqual(
      real.map((o) => o.status),
      preview.map((o) => o.status),
    );
    assert.equal((await ledger.getBalance('7')).balance, 100);
  });

  it('refuses bad input before writing anything', async () => {
    const { ledger } = get();
    await assert.rejects(ledger.importAccount({ account: ' 7', plan: 'free', balance: 1 }), /account/);
    await assert.rejects(ledger.importAccount({ account: '7', plan: 'gold', balance: 1 }), /Unknown plan/);
    await assert.rejects(ledger.importAccount({ account: '7', plan: 'free', balance: 1.5 }), /balance/);
    await assert.rejects(ledger.importAccount({ account: '7', plan: 'free', balance: 1, usedThisCycle: -1 }), /used/);
    assert.equal((await ledger.getBalance('7')).exists, false);
  });
});
