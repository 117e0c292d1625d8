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

  it('a negative adjustment takes the grants in burn order (allocation, then purchased), then leaves a debt', async () => {
    const { ledger } = get();
    accepted(await ledger.credit({ account: 'a', tokens: 20, source: 't', reference: '1' }));
    accepted(await ledger.adjust({ account: 'a', amount: -150, reason: 'chargeback', actor: 't' }));
    const view = await ledger.getBalance('a');
    assert.equal(view.allocation, 0);
    assert.equal(view.purchased, 0);
    assert.equal(view.debt, 30);
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

  it('regression (adjust key reuse): the same key with other parameters is idempotency_conflict; the same replays', async () => {
    const { ledger } = get();
    const first = accepted(
      await ledger.adjust({ account: 'a', amount: -10, reason: 'fix', actor: 't', idempotencyKey: 'k' }),
    );
    for (const other of [
      { amount: -20, reason: 'fix' },
      { setBalance: 90, reason: 'fix' },
      { amount: -10, reason: 'another' },
      { amount: -10, reason: 'fix', expectedBalance: 100 },
    ] as const) {
      const r = refused(await ledger.adjust({ account: 'a', actor: 't', idempotencyKey: 'k', ...other }));
      assert.equal(r.code, 'idempotency_conflict', JSON.stringify(other));
      assert.equal(r.balance, 90);
    }
    const again = accepted(
      await ledger.adjust({ account: 'a', amount: -10, reason: 'fix', actor: 'another operator', idempotencyKey: 'k' }),
    );
    assert.equal(again.replayed, true);
    assert.equal(again.entryId, first.entryId);
    assert.equal((await ledger.getBalance('a')).balance, 90);
  });

  it('adjust keys are scoped to the account: acme with 2824:k is not acme:2824 with k', async () => {
    const { ledger } = get();
    accepted(await ledger.adjust({ account: 'acme:2824', amount: 7, reason: 'r', actor: 't', idempotencyKey: 'k' }));
    const other = accepted(
      await ledger.adjust({ account: 'acme', amount: 7, reason: 'r', actor: 't', idempotencyKey: '2824:k' }),
    );
    assert.equal(other.replayed, false);
    assert.equal((await ledger.getBalance('acme')).balance, 107);
    assert.equal((await ledger.getBalance('acme:2824')).balance, 107);
  });

  it('an adjust key is scoped to its operation, and a set-balance replay does not set the balance again', async () => {
    const { ledger } = get();
    accepted(await ledger.adjust({ account: 'a', setBalance: 40, reason: 'r', actor: 't', idempotencyKey: 'op' }));
    const spent = accepted(await ledger.deduct({ account: 'a', feature: 'social_post', idempotencyKey: 'op' }));
    assert.equal(spent.replayed, false);
    const replay = accepted(
      await ledger.adjust({ account: 'a', setBalance: 40, reason: 'r', actor: 't', idempotencyKey: 'op' }),
    );
    assert.equal(replay.replayed, true);
    assert.equal((await ledger.getBalance('a')).balance, 39);
    const noop = accepted(
      await ledger.adjust({ account: 'a', setBalance: 39, reason: 'r', actor: 't', idempotencyKey: 'n' }),
    );
    assert.equal(noop.entryId, null);
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    const noopAgain = accepted(
      await ledger.adjust({ account: 'a', setBalance: 39, reason: 'r', actor: 't', idempotencyKey: 'n' }),
    );
    assert.equal(noopAgain.replayed, true);
    assert.equal((await ledger.getBalance('a')).balance, 38);
  });

  it('a refused adjustment (balance_changed) is not recorded: the key works once the balance is as expected', async () => {
    const { ledger } = get();
    const stale = { account: 'a', amount: 5, expectedBalance: 100, reason: 'r', actor: 't', idempotencyKey: 'e' };
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    assert.equal(refused(await ledger.adjust(stale)).code, 'balance_changed');
    accepted(await ledger.adjust({ account: 'a', amount: 1, reason: 'back to 100', actor: 't' }));
    const r = accepted(await ledger.adjust(stale));
    assert.equal(r.replayed, false);
    assert.equal(r.balance, 105);
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
});
