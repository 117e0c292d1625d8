import assert from 'node:assert/strict';
import { it } from 'node:test';
import { TokenmeterError } from '../../src/core/errors.ts';
import { accepted, refused } from '../helpers/ledger.ts';
import { conformance } from '../helpers/suite.ts';

conformance('holds', (get) => {
  it('a reservation lowers available, not balance', async () => {
    const { ledger } = get();
    const h = accepted(await ledger.reserve({ account: 'a', feature: 'business_collector', quantity: 2 }));
    assert.equal(h.amount, 10);
    assert.equal(h.available, 90);
    const view = await ledger.getBalance('a');
    assert.equal(view.balance, 100);
    assert.equal(view.held, 10);
    assert.equal(view.available, 90);
  });

  it('is refused like a deduction when available is short, and writes nothing', async () => {
    const { ledger } = get();
    accepted(await ledger.reserve({ account: 'a', amount: 95 }));
    const r = refused(await ledger.reserve({ account: 'a', amount: 6 }));
    assert.equal(r.message, 'Insufficient tokens. Need 6, have 5. Please purchase more tokens.');
    assert.equal((await ledger.getBalance('a')).held, 95);
  });

  it('held tokens cannot be deducted', async () => {
    const { ledger } = get();
    accepted(await ledger.reserve({ account: 'a', amount: 100 }));
    const r = refused(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    assert.equal(r.available, 0);
    assert.equal((await ledger.getBalance('a')).featuresDisabled, true);
  });

  it('commit charges the actual cost and frees the rest', async () => {
    const { ledger } = get();
    const h = accepted(await ledger.reserve({ account: 'a', amount: 10 }));
    const c = accepted(await ledger.commitHold(h.holdId, 4));
    assert.equal(c.charged, 4);
    assert.equal(c.shortfall, 0);
    const view = await ledger.getBalance('a');
    assert.equal(view.balance, 96);
    assert.equal(view.held, 0);
    assert.equal(view.usedThisCycle, 4);
    const [entry] = (await ledger.history('a', { limit: 1 })).entries;
    assert.equal(entry?.kind, 'hold_commit');
    assert.equal(entry?.amount, -4);
  });

  it('an excess over the reservation is charged only as far as available goes, and the shortfall reported', async () => {
    const { ledger } = get();
    accepted(await ledger.adjust({ account: 'a', setBalance: 12, reason: 'r', actor: 't' }));
    const h = accepted(await ledger.reserve({ account: 'a', amount: 10 }));
    const c = accepted(await ledger.commitHold(h.holdId, 15));
    assert.equal(c.charged, 12);
    assert.equal(c.shortfall, 3);
    assert.equal((await ledger.getBalance('a')).balance, 0);
  });

  it('release gives the whole reservation back', async () => {
    const { ledger } = get();
    const h = accepted(await ledger.reserve({ account: 'a', amount: 30 }));
    const r = accepted(await ledger.releaseHold(h.holdId));
    assert.equal(r.status, 'released');
    assert.equal(r.available, 100);
    assert.equal((await ledger.history('a')).entries.length, 1);
  });

  it('a hold settles once: a second commit or release is hold_not_active', async () => {
    const { ledger } = get();
    const h = accepted(await ledger.reserve({ account: 'a', amount: 10 }));
    accepted(await ledger.commitHold(h.holdId, 10));
    assert.equal(refused(await ledger.commitHold(h.holdId, 10)).code, 'hold_not_active');
    assert.equal(refused(await ledger.releaseHold(h.holdId)).code, 'hold_not_active');
    assert.equal((await ledger.getBalance('a')).balance, 90);
  });

  it('an expired hold frees itself by the engine clock, on read and on the next write', async () => {
    const { ledger, clock, db } = get();
    const h = accepted(await ledger.reserve({ account: 'a', amount: 40, ttlSeconds: 60 }));
    clock.advance(59_999);
    assert.equal((await ledger.getBalance('a')).available, 60);
    clock.advance(1);
    assert.equal((await ledger.getBalance('a')).available, 100);
    assert.equal(refused(await ledger.releaseHold(h.holdId)).code, 'hold_not_active');
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    assert.equal((await db.store.getHold(h.holdId))?.status, 'expired');
    assert.equal((await db.store.getAccount('a'))?.held, 0);
  });

  it('a refund during an active hold does not void the reservation: commit charges up to it', async () => {
    const { ledger } = get();
    // Buy 100, reserve 100, refund in full: the refund, not the held work, put the balance below zero.
    accepted(await ledger.adjust({ account: 'a', setBalance: 0, reason: 'start empty', actor: 't' }));
    accepted(await ledger.credit({ account: 'a', tokens: 100, source: 'test', reference: 'buy-1' }));
    const h = accepted(await ledger.reserve({ account: 'a', amount: 100 }));
    accepted(await ledger.adjust({ account: 'a', amount: -100, reason: 'refund', actor: 't' }));
    assert.equal((await ledger.getBalance('a')).available, -100);
    const c = accepted(await ledger.commitHold(h.holdId, 100));
    assert.equal(c.charged, 100);
    assert.equal(c.shortfall, 0);
    const view = await ledger.getBalance('a');
    assert.equal(view.balance, -100);
    assert.equal(view.held, 0);
    assert.deepEqual((await ledger.reconcile()).drift, []);
  });

  it('after a take-back the excess over the reservation is still limited by available', async () => {
    const { ledger } = get();
    const h = accepted(await ledger.reserve({ account: 'a', amount: 10 }));
    accepted(await ledger.adjust({ account: 'a', amount: -95, reason: 'refund', actor: 't' }));
    const c = accepted(await ledger.commitHold(h.holdId, 15));
    assert.equal(c.charged, 10);
    assert.equal(c.shortfall, 5);
    assert.equal((await ledger.getBalance('a')).balance, -5);
    assert.deepEqual((await ledger.reconcile()).drift, []);
  });

  it('a slow handler is not free: an expired hold is committed at min(actual, available), the rest shortfall', async () => {
    const { ledger, clock, db } = get();
    const h = accepted(await ledger.reserve({ account: 'a', amount: 40, ttlSeconds: 60 }));
    clock.advance(61_000);
    accepted(await ledger.adjust({ account: 'a', setBalance: 25, reason: 'spent elsewhere', actor: 't' }));
    assert.equal((await db.store.getHold(h.holdId))?.status, 'expired');
    const c = accepted(await ledger.commitHold(h.holdId, 40));
    assert.equal(c.status, 'committed');
    assert.equal(c.charged, 25);
    assert.equal(c.shortfall, 15);
    assert.equal(c.balance, 0);
    const stored = await db.store.getHold(h.holdId);
    assert.equal(stored?.status, 'committed');
    assert.equal(stored?.charged, 25);
    assert.equal((await ledger.getBalance('a')).held, 0);
    assert.deepEqual((await ledger.reconcile()).drift, []);
  });

  it('a hold that expires in the commit’s own transaction is charged in full when available covers it', async () => {
    const { ledger, clock } = get();
    const h = accepted(await ledger.reserve({ account: 'a', amount: 40, ttlSeconds: 60 }));
    clock.advance(61_000);
    const c = accepted(await ledger.commitHold(h.holdId, 40));
    assert.equal(c.charged, 40);
    assert.equal(c.shortfall, 0);
    const view = await ledger.getBalance('a');
    assert.equal(view.balance, 60);
    assert.equal(view.held, 0);
    assert.equal(view.usedThisCycle, 40);
    assert.deepEqual((await ledger.reconcile()).drift, []);
  });

  it('an expired hold is committed once: a second commit is hold_not_active, and a release never applies', async () => {
    const { ledger, clock } = get();
    const h = accepted(await ledger.reserve({ account: 'a', amount: 10, ttlSeconds: 60 }));
    const other = accepted(await ledger.reserve({ account: 'a', amount: 10, ttlSeconds: 60 }));
    clock.advance(60_000);
    assert.equal(refused(await ledger.releaseHold(other.holdId)).code, 'hold_not_active');
    const results = await Promise.all([ledger.commitHold(h.holdId, 10), ledger.commitHold(h.holdId, 10)]);
    assert.equal(results.filter((r) => r.ok).length, 1);
    assert.equal(results.filter((r) => !r.ok && r.code === 'hold_not_active').length, 1);
    assert.equal(refused(await ledger.commitHold(h.holdId, 10)).code, 'hold_not_active');
    assert.equal((await ledger.getBalance('a')).balance, 90);
    assert.equal((await ledger.history('a')).entries.filter((e) => e.kind === 'hold_commit').length, 1);
  });

  it('a released or committed hold cannot be committed after its expiry time either', async () => {
    const { ledger, clock } = get();
    const released = accepted(await ledger.reserve({ account: 'a', amount: 10, ttlSeconds: 60 }));
    const committed = accepted(await ledger.reserve({ account: 'a', amount: 10, ttlSeconds: 60 }));
    accepted(await ledger.releaseHold(released.holdId));
    accepted(await ledger.commitHold(committed.holdId, 3));
    clock.advance(120_000);
    assert.equal(refused(await ledger.commitHold(released.holdId, 10)).code, 'hold_not_active');
    assert.equal(refused(await ledger.commitHold(committed.holdId, 10)).code, 'hold_not_active');
    assert.equal((await ledger.getBalance('a')).balance, 97);
  });

  it('the database refuses a commit write that charges beyond the rule', async () => {
    const { ledger, db } = get();
    const h = accepted(await ledger.reserve({ account: 'a', amount: 100 }));
    accepted(await ledger.adjust({ account: 'a', amount: -100, reason: 'refund', actor: 't' }));
    // Charging 101 against a 100-token reservation at available -100 would take available to -101.
    await assert.rejects(
      db.store.write(async (tx) => {
        const before = await tx.lockAccount('a');
        assert.ok(before);
        const after = { ...before, allocation: before.allocation - 101, held: before.held - 100 };
        await tx.updateAccount(before, after, 'no_overdraft');
      }),
    );
    const c = accepted(await ledger.commitHold(h.holdId, 101));
    assert.equal(c.charged, 100);
    assert.equal(c.shortfall, 1);
  });

  it('an unknown hold is not_found', async () => {
    const { ledger } = get();
    await assert.rejects(
      ledger.commitHold(999, 1),
      (err: unknown) => err instanceof TokenmeterError && err.code === 'not_found',
    );
  });

  it('rejects a reservation naming both or neither of feature and amount, or a bad ttl', async () => {
    const { ledger } = get();
    const invalid = (err: unknown) => err instanceof TokenmeterError && err.code === 'invalid_request';
    await assert.rejects(ledger.reserve({ account: 'a' }), invalid);
    await assert.rejects(ledger.reserve({ account: 'a', amount: 5, feature: 'social_post' }), invalid);
    await assert.rejects(ledger.reserve({ account: 'a', amount: 5, ttlSeconds: 0 }), invalid);
    await assert.rejects(ledger.reserve({ account: 'a', amount: -5 }), invalid);
    await assert.rejects(ledger.commitHold(1, -1), invalid);
  });
});
