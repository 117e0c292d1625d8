import assert from 'node:assert/strict';
import { it } from 'node:test';
import { TokenmeterError } from '../../src/core/errors.ts';
import { accepted, refused } from '../helpers/ledger.ts';
import { conformance } from '../helpers/suite.ts';

const ZERO = 'Insufficient tokens. Your balance is 0. Please purchase more tokens to continue using services.';

conformance('deduct', (get) => {
  it('provisions a never-seen account with its plan allocation and charges it in the same write', async () => {
    const { ledger } = get();
    const r = accepted(await ledger.deduct({ account: 'user-7', feature: 'outbound_call_single' }));
    assert.equal(r.balanceBefore, 100);
    assert.equal(r.balance, 99);
    const h = await ledger.history('user-7');
    assert.deepEqual(
      h.entries.map((e) => [e.kind, e.amount, e.balanceAfter]),
      [
        ['debit', -1, 99],
        ['opening_balance', 100, 100],
      ],
    );
  });

  it('reading an unknown account shows the default plan figures and writes nothing', async () => {
    const { ledger, db } = get();
    const view = await ledger.getBalance('nobody');
    assert.equal(view.exists, false);
    assert.equal(view.balance, 100);
    assert.equal(view.plan, 'free');
    assert.equal(view.featuresDisabled, false);
    assert.equal(await db.store.getAccount('nobody'), undefined);
    assert.equal((await ledger.history('nobody')).entries.length, 0);
  });

  it('charges cost times quantity and counts it as used this cycle', async () => {
    const { ledger } = get();
    const r = accepted(await ledger.deduct({ account: 'a', feature: 'business_collector', quantity: 3 }));
    assert.equal(r.cost, 15);
    assert.equal(r.balance, 85);
    const view = await ledger.getBalance('a');
    assert.equal(view.usedThisCycle, 15);
    assert.equal(view.allocation, 85);
  });

  it('spends the allocation bucket first, then purchased', async () => {
    const { ledger } = get();
    accepted(await ledger.credit({ account: 'a', tokens: 50, source: 'test', reference: 'r1' }));
    accepted(await ledger.deduct({ account: 'a', feature: 'business_collector', quantity: 21 }));
    const view = await ledger.getBalance('a');
    assert.equal(view.allocation, 0);
    assert.equal(view.purchased, 45);
    const [debit] = (await ledger.history('a', { limit: 1 })).entries;
    assert.equal(debit?.allocationDelta, -100);
    assert.equal(debit?.purchasedDelta, -5);
  });

  it('refuses at zero with the exact message, as a value, and changes nothing', async () => {
    const { ledger } = get();
    accepted(await ledger.adjust({ account: '7', setBalance: 0, reason: 'seed test 2', actor: 'test' }));
    const before = await ledger.history('7');
    const r = refused(await ledger.deduct({ account: '7', feature: 'outbound_call_single' }));
    assert.equal(r.code, 'insufficient_tokens');
    assert.equal(r.message, ZERO);
    assert.equal(r.available, 0);
    assert.deepEqual(await ledger.history('7'), before);
    assert.equal((await ledger.getBalance('7')).featuresDisabled, true);
  });

  it('refuses a cost above the available balance with the need/have message', async () => {
    const { ledger } = get();
    accepted(await ledger.adjust({ account: 'a', setBalance: 3, reason: 'r', actor: 't' }));
    const r = refused(await ledger.deduct({ account: 'a', feature: 'business_collector' }));
    assert.equal(r.message, 'Insufficient tokens. Need 5, have 3. Please purchase more tokens.');
    assert.equal(r.cost, 5);
    assert.equal((await ledger.getBalance('a')).balance, 3);
  });

  it('a refused first use of an unknown account does not provision it', async () => {
    const { ledger, db } = get();
    refused(await ledger.deduct({ account: 'big', feature: 'business_collector', quantity: 21 }));
    assert.equal(await db.store.getAccount('big'), undefined);
  });

  it('quotes a negative available balance in the refusal', async () => {
    const { ledger } = get();
    accepted(await ledger.adjust({ account: 'a', amount: -130, reason: 'refund clawback', actor: 't' }));
    const r = refused(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    assert.equal(
      r.message,
      'Insufficient tokens. Your balance is -30. Please purchase more tokens to continue using services.',
    );
  });

  it('the seed story: 10 -> five calls -> 5 -> five more -> 0 -> the next is refused', async () => {
    const { ledger } = get();
    accepted(await ledger.adjust({ account: '7', setBalance: 10, reason: 'seed test 3', actor: 'test' }));
    for (let i = 0; i < 5; i++) accepted(await ledger.deduct({ account: '7', feature: 'outbound_call_single' }));
    assert.equal((await ledger.getBalance('7')).balance, 5);
    for (let i = 0; i < 5; i++) accepted(await ledger.deduct({ account: '7', feature: 'outbound_call_single' }));
    assert.equal((await ledger.getBalance('7')).balance, 0);
    assert.equal(refused(await ledger.deduct({ account: '7', feature: 'outbound_call_single' })).message, ZERO);
  });

  it('a deduction persists: a second process reads what the first wrote', async () => {
    const { ledger, db } = get();
    accepted(await ledger.deduct({ account: '7', feature: 'outbound_call_single' }));
    accepted(await ledger.deduct({ account: '7', feature: 'outbound_call_single' }));
    const other = await db.reopen();
    const stored = await other.getAccount('7');
    assert.equal((stored?.allocation ?? 0) + (stored?.purchased ?? 0), 98);
  });

  for (const quantity of [0, -1, 1.5, Number.NaN, 1_000_001, '2', null] as unknown[]) {
    it(`rejects quantity ${String(quantity)} with invalid_request and writes nothing`, async () => {
      const { ledger, db } = get();
      await assert.rejects(
        ledger.deduct({ account: 'a', feature: 'social_post', quantity: quantity as number }),
        (err: unknown) => err instanceof TokenmeterError && err.code === 'invalid_request' && err.field === 'quantity',
      );
      assert.equal(await db.store.getAccount('a'), undefined);
    });
  }

  for (const account of ['', ' padded', 'x'.repeat(129), 'line\nbreak', 42] as unknown[]) {
    it(`rejects account id ${JSON.stringify(account).slice(0, 20)}`, async () => {
      const { ledger } = get();
      await assert.rejects(
        ledger.deduct({ account: account as string, feature: 'social_post' }),
        (err: unknown) => err instanceof TokenmeterError && err.code === 'invalid_request' && err.field === 'account',
      );
    });
  }

  it('accepts a 128-character unicode account id', async () => {
    const { ledger } = get();
    const id = 'ü'.repeat(128);
    assert.equal(accepted(await ledger.deduct({ account: id, feature: 'social_post' })).balance, 99);
  });

  it('rejects an unknown feature with unknown_feature', async () => {
    const { ledger } = get();
    await assert.rejects(
      ledger.deduct({ account: 'a', feature: 'teleport' }),
      (err: unknown) => err instanceof TokenmeterError && err.code === 'unknown_feature',
    );
  });

  it('check reports affordability and writes nothing', async () => {
    const { ledger, db } = get();
    const c = await ledger.check({ account: 'a', feature: 'business_collector', quantity: 20 });
    assert.equal(c.allowed, true);
    assert.equal(c.cost, 100);
    const c2 = await ledger.check({ account: 'a', feature: 'business_collector', quantity: 21 });
    assert.equal(c2.allowed, false);
    assert.equal(c2.message, 'Insufficient tokens. Need 105, have 100. Please purchase more tokens.');
    assert.equal(await db.store.getAccount('a'), undefined);
  });

  it('getBalance lists every feature with its cost and whether it is affordable now', async () => {
    const { ledger } = get();
    accepted(await ledger.adjust({ account: 'a', setBalance: 3, reason: 'r', actor: 't' }));
    const view = await ledger.getBalance('a');
    assert.deepEqual(view.features.outbound_call_single, { name: 'Outbound call', cost: 1, allowed: true });
    assert.equal(view.features.business_collector?.allowed, false);
    assert.equal(view.featuresDisabled, false);
  });
});
