import assert from 'node:assert/strict';
import { it } from 'node:test';
import { accepted } from '../helpers/ledger.ts';
import { conformance } from '../helpers/suite.ts';

const DAY = 24 * 3600 * 1000;

conformance('billing cycles', (get) => {
  it('renews once, lazily, on the first write after the boundary', async () => {
    const { ledger, clock } = get();
    clock.set('2026-01-31T12:00:00Z');
    accepted(await ledger.deduct({ account: 'a', feature: 'business_collector' }));
    clock.set('2026-02-28T12:00:00Z');
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    const kinds = (await ledger.history('a')).entries.map((e) => e.kind).reverse();
    assert.deepEqual(kinds, ['opening_balance', 'debit', 'cycle_expiry', 'cycle_grant', 'debit', 'debit']);
    const view = await ledger.getBalance('a');
    assert.equal(view.balance, 98);
    assert.equal(view.usedThisCycle, 2);
    assert.equal(view.lastReset, Date.parse('2026-02-28T12:00:00Z'));
  });

  it('a read across the boundary shows the renewal without writing it', async () => {
    const { ledger, clock, db } = get();
    accepted(await ledger.deduct({ account: 'a', feature: 'business_collector' }));
    clock.advance(31 * DAY);
    const view = await ledger.getBalance('a');
    assert.equal(view.balance, 100);
    assert.equal(view.usedThisCycle, 0);
    const stored = await db.store.getAccount('a');
    assert.equal(stored?.allocation, 95);
  });

  it('rolls unused allocation over up to the cap after several missed cycles', async () => {
    const { ledger, clock } = get();
    await ledger.setPlan({ account: 'a', plan: 'starter', reason: 'r', actor: 't' });
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post', quantity: 100 }));
    clock.advance(95 * DAY);
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    const grants = (await ledger.history('a')).entries.filter((e) => e.kind === 'cycle_grant');
    assert.equal(grants.length, 3);
    const view = await ledger.getBalance('a');
    assert.equal(view.rolledOver, 500);
    assert.equal(view.allocation, 1499);
    assert.deepEqual(await ledger.reconcile(), { accountsChecked: 1, drift: [] });
  });

  it('a purchase survives any number of renewals', async () => {
    const { ledger, clock } = get();
    accepted(await ledger.credit({ account: 'a', tokens: 7, source: 's', reference: 'r' }));
    clock.advance(400 * DAY);
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    const view = await ledger.getBalance('a');
    assert.equal(view.purchased, 7);
    assert.equal(view.allocation, 99);
  });

  it('after an upgrade, the next boundary (still on the old anchor) renews on the new plan and its cap', async () => {
    const { ledger, clock } = get();
    clock.set('2026-01-15T10:00:00Z');
    accepted(await ledger.deduct({ account: 'a', feature: 'business_collector' }));
    clock.set('2026-01-20T10:00:00Z');
    await ledger.setPlan({ account: 'a', plan: 'pro', reason: 'upgrade', actor: 't' });
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post', quantity: 1000 }));
    assert.equal((await ledger.getBalance('a')).allocation, 3995);
    clock.set('2026-02-15T10:00:00Z');
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    const [grant] = (await ledger.history('a')).entries.filter((e) => e.kind === 'cycle_grant');
    assert.equal(grant?.at, Date.parse('2026-02-15T10:00:00Z'));
    assert.equal(grant?.amount, 5000);
    const view = await ledger.getBalance('a');
    assert.equal(view.rolledOver, 2500); // pro's cap, not free's 0
    assert.equal(view.allocation, 2500 + 5000 - 1);
    assert.equal(view.usedThisCycle, 1);
    assert.deepEqual(await ledger.reconcile(), { accountsChecked: 1, drift: [] });
  });

  it('after a downgrade, the next boundary (still on the old anchor) renews on the plan held then and its cap', async () => {
    const { ledger, clock } = get();
    clock.set('2026-01-15T10:00:00Z');
    await ledger.setPlan({ account: 'a', plan: 'pro', reason: 'signup', actor: 't' });
    clock.set('2026-01-25T10:00:00Z');
    await ledger.setPlan({ account: 'a', plan: 'starter', reason: 'downgrade', actor: 't' });
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post', quantity: 100 }));
    assert.equal((await ledger.getBalance('a')).allocation, 4900); // the downgrade took nothing
    clock.set('2026-02-15T10:00:00Z');
    const renewed = await ledger.getBalance('a');
    assert.equal(renewed.plan, 'starter');
    assert.equal(renewed.rolledOver, 500); // starter's cap
    assert.equal(renewed.allocation, 500 + 1000);
    assert.equal(renewed.lastReset, Date.parse('2026-02-15T10:00:00Z'));
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    const kinds = (await ledger.history('a')).entries.map((e) => [e.kind, e.amount]).reverse();
    assert.deepEqual(kinds, [
      ['opening_balance', 5000],
      ['plan_change', 0],
      ['debit', -100],
      ['cycle_expiry', -4400],
      ['cycle_grant', 1000],
      ['debit', -1],
    ]);
    assert.deepEqual(await ledger.reconcile(), { accountsChecked: 1, drift: [] });
  });
});
