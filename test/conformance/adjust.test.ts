import assert from 'node:assert/strict';
import { it } from 'node:test';
import { TokenmeterError } from '../../src/core/errors.ts';
import { accepted, refused } from '../helpers/ledger.ts';
import { conformance } from '../helpers/suite.ts';

const isInvalid = (field: string) => (err: unknown) =>
  err instanceof TokenmeterError && err.code === 'invalid_request' && err.field === field;

conformance('adjust, credit, plans', (get) => {
  it('restoring the seed user 7 to 42 records delta, reason and actor, and leaves the renewal untouched', async () => {
    const { ledger, clock } = get();
    accepted(await ledger.deduct({ account: '7', feature: 'outbound_call_single' }));
    const r = accepted(
      await ledger.adjust({ account: '7', setBalance: 42, reason: '58 calls were never saved', actor: 'ops@x' }),
    );
    assert.equal(r.delta, -57);
    assert.equal(r.balance, 42);
    const [entry] = (await ledger.history('7', { limit: 1 })).entries;
    assert.equal(entry?.kind, 'adjustment');
    assert.equal(entry?.amount, -57);
    assert.equal(entry?.reason, '58 calls were never saved');
    assert.equal(entry?.actor, 'ops@x');
    clock.advance(32 * 24 * 3600 * 1000);
    const renewed = await ledger.getBalance('7');
    assert.equal(renewed.allocation, 100);
    assert.equal(renewed.balance, 100);
  });

  it('a negative adjustment takes allocation first, then purchased, which may go negative', async () => {
    const { ledger } = get();
    accepted(await ledger.credit({ account: 'a', tokens: 20, source: 't', reference: '1' }));
    accepted(await ledger.adjust({ account: 'a', amount: -150, reason: 'chargeback', actor: 't' }));
    const view = await ledger.getBalance('a');
    assert.equal(view.allocation, 0);
    assert.equal(view.purchased, -30);
    assert.equal(view.balance, -30);
    assert.equal(view.featuresDisabled, true);
  });

  it('a positive adjustment adds to purchased', async () => {
    const { ledger } = get();
    accepted(await ledger.adjust({ account: 'a', amount: 25, reason: 'goodwill', actor: 't' }));
    const view = await ledger.getBalance('a');
    assert.equal(view.allocation, 100);
    assert.equal(view.purchased, 25);
  });

  it('expectedBalance that no longer holds is refused with balance_changed and nothing changes', async () => {
    const { ledger } = get();
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    const r = refused(
      await ledger.adjust({ account: 'a', setBalance: 50, expectedBalance: 100, reason: 'r', actor: 't' }),
    );
    assert.equal(r.code, 'balance_changed');
    assert.equal((await ledger.getBalance('a')).balance, 99);
    accepted(await ledger.adjust({ account: 'a', setBalance: 50, expectedBalance: 99, reason: 'r', actor: 't' }));
  });

  it('an adjustment provisions an unknown account first', async () => {
    const { ledger } = get();
    accepted(await ledger.adjust({ account: 'new', amount: 5, reason: 'welcome', actor: 't' }));
    const kinds = (await ledger.history('new')).entries.map((e) => e.kind);
    assert.deepEqual(kinds, ['adjustment', 'opening_balance']);
  });

  it('requires a reason and exactly one of amount or setBalance, within range', async () => {
    const { ledger, db } = get();
    await assert.rejects(ledger.adjust({ account: 'a', amount: 5, reason: '  ', actor: 't' }), isInvalid('reason'));
    await assert.rejects(
      ledger.adjust({ account: 'a', amount: 5, setBalance: 5, reason: 'r', actor: 't' } as never),
      isInvalid('amount'),
    );
    await assert.rejects(ledger.adjust({ account: 'a', amount: 0, reason: 'r', actor: 't' }), isInvalid('amount'));
    await assert.rejects(
      ledger.adjust({ account: 'a', amount: 1_000_000_001, reason: 'r', actor: 't' }),
      isInvalid('amount'),
    );
    await assert.rejects(ledger.adjust({ account: 'a', amount: 2.5, reason: 'r', actor: 't' }), isInvalid('amount'));
    await assert.rejects(
      ledger.adjust({ account: 'a', setBalance: -1, reason: 'r', actor: 't' }),
      isInvalid('setBalance'),
    );
    assert.equal(await db.store.getAccount('a'), undefined);
  });

  it('accepts the largest adjustment either way', async () => {
    const { ledger } = get();
    accepted(await ledger.adjust({ account: 'a', amount: 1_000_000_000, reason: 'r', actor: 't' }));
    accepted(await ledger.adjust({ account: 'a', amount: -1_000_000_000, reason: 'r', actor: 't' }));
    assert.equal((await ledger.getBalance('a')).balance, 100);
  });

  it('setting the balance it already has writes nothing', async () => {
    const { ledger } = get();
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    const r = accepted(await ledger.adjust({ account: 'a', setBalance: 99, reason: 'r', actor: 't' }));
    assert.equal(r.entryId, null);
    assert.equal((await ledger.history('a')).entries.length, 2);
  });

  it('credits go to the purchased bucket and never expire at renewal', async () => {
    const { ledger, clock } = get();
    accepted(await ledger.credit({ account: 'a', tokens: 500, source: 'stripe', reference: 'cs_1', kind: 'purchase' }));
    clock.advance(40 * 24 * 3600 * 1000);
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    const view = await ledger.getBalance('a');
    assert.equal(view.purchased, 500);
    assert.equal(view.allocation, 99);
  });

  it('rejects credits that are not positive integers, and unknown plans', async () => {
    const { ledger } = get();
    await assert.rejects(ledger.credit({ account: 'a', tokens: 0, source: 's', reference: 'r' }), isInvalid('tokens'));
    await assert.rejects(ledger.credit({ account: 'a', tokens: -5, source: 's', reference: 'r' }), isInvalid('tokens'));
    await assert.rejects(
      ledger.credit({ account: 'a', tokens: 5, source: 's', reference: '' }),
      isInvalid('reference'),
    );
    await assert.rejects(
      ledger.setPlan({ account: 'a', plan: 'gold', reason: 'r', actor: 't' }),
      (err: unknown) => err instanceof TokenmeterError && err.code === 'unknown_plan',
    );
  });

  it('a plan change starts a new cycle now and rolls unused allocation over up to the new cap', async () => {
    const { ledger, clock } = get();
    accepted(await ledger.deduct({ account: 'a', feature: 'business_collector' }));
    clock.advance(3 * 24 * 3600 * 1000);
    const r = await ledger.setPlan({ account: 'a', plan: 'starter', reason: 'upgrade', actor: 'billing' });
    assert.equal(r.previousPlan, 'free');
    assert.equal(r.rolledOver, 95);
    const view = await ledger.getBalance('a');
    assert.equal(view.plan, 'starter');
    assert.equal(view.allocation, 1095);
    assert.equal(view.usedThisCycle, 0);
    assert.equal(view.cycleStart, clock.now());
    const [entry] = (await ledger.history('a', { limit: 1 })).entries;
    assert.equal(entry?.kind, 'plan_change');
    assert.equal(entry?.amount, 1000);
    assert.equal(entry?.reason, 'upgrade');
  });

  it('a plan set on a never-seen account opens it on that plan, with nothing to roll over', async () => {
    const { ledger } = get();
    const r = await ledger.setPlan({ account: 'fresh', plan: 'pro', reason: 'signup', actor: 'app' });
    assert.equal(r.previousPlan, null);
    assert.equal(r.balance, 5000);
    assert.equal(r.rolledOver, 0);
    const entries = (await ledger.history('fresh')).entries;
    assert.deepEqual(
      entries.map((e) => [e.kind, e.amount]),
      [['opening_balance', 5000]],
    );
  });

  it('a downgrade keeps only what the new cap allows', async () => {
    const { ledger } = get();
    await ledger.setPlan({ account: 'a', plan: 'pro', reason: 'r', actor: 't' });
    await ledger.setPlan({ account: 'a', plan: 'starter', reason: 'r', actor: 't' });
    const view = await ledger.getBalance('a');
    assert.equal(view.allocation, 1500);
    assert.equal(view.rolledOver, 500);
  });
});
