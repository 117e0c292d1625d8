import assert from 'node:assert/strict';
import { it } from 'node:test';
import { TokenmeterError } from '../../src/core/errors.ts';
import { accepted, refused } from '../helpers/ledger.ts';
import { conformance } from '../helpers/suite.ts';

const DAY = 24 * 3600 * 1000;
const ops = { reason: 'test', actor: 'ops' };

conformance('credit grants', (get) => {
  it('a promotional grant that expires sooner is spent first; its expiry is recorded once, by the first write after it', async () => {
    const { ledger, clock } = get();
    const now = clock.now();
    await ledger.createAccount({ account: 'a' });
    const bonus = await ledger.grant({
      account: 'a',
      tokens: 50,
      category: 'promotional',
      expiresAt: now + 10 * DAY,
      ...ops,
    });
    assert.deepEqual([bonus.status, bonus.remaining, bonus.priority], ['active', 50, 50]);
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post', quantity: 20 }));
    let view = await ledger.getBalance('a');
    assert.deepEqual([view.promotional, view.allocation, view.balance], [30, 100, 130]);
    assert.deepEqual(view.expiringNext, { at: now + 10 * DAY, tokens: 30 });
    clock.advance(10 * DAY);
    // A read shows the expiry at once, writing nothing.
    view = await ledger.getBalance('a');
    assert.deepEqual([view.promotional, view.balance], [0, 100]);
    assert.equal((await ledger.history('a')).entries.filter((e) => e.kind === 'grant_expiry').length, 0);
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    const expiries = (await ledger.history('a')).entries.filter((e) => e.kind === 'grant_expiry');
    assert.deepEqual(
      expiries.map((e) => [e.amount, e.at]),
      [[-30, now + 10 * DAY]],
    );
    const [stored] = (await ledger.grants('a', { includeInactive: true })).filter((g) => g.id === bonus.id);
    assert.deepEqual([stored?.status, stored?.remaining], ['expired', 0]);
    assert.deepEqual((await ledger.reconcile()).drift, []);
  });

  it('burn order: a lower priority number is spent first, whatever its category or expiry', async () => {
    const { ledger } = get();
    await ledger.createAccount({ account: 'a' });
    await ledger.grant({ account: 'a', tokens: 30, category: 'paid', priority: 10, ...ops });
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post', quantity: 40 }));
    const view = await ledger.getBalance('a');
    assert.deepEqual([view.purchased, view.allocation], [0, 90]);
    assert.deepEqual(
      view.grants.map((g) => g.category),
      ['included'],
    );
    const [debit] = (await ledger.history('a')).entries;
    assert.equal(debit?.grantMoves.length, 2, 'the debit records both grants it drew from');
  });

  it('a reference makes a grant once: the same parameters replay it, others are an idempotency_conflict', async () => {
    const { ledger } = get();
    const first = await ledger.grant({
      account: 'a',
      tokens: 25,
      category: 'promotional',
      reference: 'promo-1',
      ...ops,
    });
    const again = await ledger.grant({
      account: 'a',
      tokens: 25,
      category: 'promotional',
      reference: 'promo-1',
      ...ops,
    });
    assert.equal(again.id, first.id);
    await assert.rejects(
      ledger.grant({ account: 'a', tokens: 26, category: 'promotional', reference: 'promo-1', ...ops }),
      (err: unknown) => err instanceof TokenmeterError && err.code === 'idempotency_conflict',
    );
    assert.equal((await ledger.getBalance('a')).promotional, 25);
  });

  it('voiding removes what remains of a grant with its reason on record; a second void is refused', async () => {
    const { ledger } = get();
    const g = await ledger.grant({ account: 'a', tokens: 40, category: 'promotional', ...ops });
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post', quantity: 110 }));
    const voided = await ledger.voidGrant({ id: g.id, reason: 'promotion abuse', actor: 'ops' });
    assert.deepEqual([voided.status, voided.remaining], ['voided', 0]);
    const [entry] = (await ledger.history('a')).entries;
    assert.deepEqual([entry?.kind, entry?.amount, entry?.reason], ['grant_void', -30, 'promotion abuse']);
    await assert.rejects(ledger.voidGrant({ id: g.id, reason: 'again', actor: 'ops' }), /not active/);
    await assert.rejects(ledger.voidGrant({ id: 999_999, reason: 'x', actor: 'ops' }), /no grant/);
    assert.equal((await ledger.getBalance('a')).balance, 0);
    assert.deepEqual((await ledger.reconcile()).drift, []);
  });

  it('bad input is a typed error naming the field, and writes nothing', async () => {
    const { ledger, clock } = get();
    await ledger.createAccount({ account: 'a' });
    const before = (await ledger.history('a')).entries.length;
    const cases: [Record<string, unknown>, string][] = [
      [{ tokens: 0 }, 'tokens'],
      [{ tokens: 1.5 }, 'tokens'],
      [{ priority: 101 }, 'priority'],
      [{ category: 'included' }, 'category'],
      [{ expiresAt: clock.now() - 1 }, 'expiresAt'],
      [{ effectiveAt: clock.now() + DAY, expiresAt: clock.now() + DAY }, 'expiresAt'],
      [{ reason: '  ' }, 'reason'],
    ];
    for (const [change, field] of cases) {
      await assert.rejects(
        ledger.grant({ account: 'a', tokens: 10, category: 'promotional', ...ops, ...change } as never),
        (err: unknown) => err instanceof TokenmeterError && err.code === 'invalid_request' && err.field === field,
        JSON.stringify(change),
      );
    }
    assert.equal((await ledger.history('a')).entries.length, before);
    assert.deepEqual(await ledger.grants('a', { includeInactive: true }).then((g) => g.length), 1);
  });

  it('debt: a correction beyond the grants leaves one that promotional grants never pay and a paid grant pays first', async () => {
    const { ledger } = get();
    accepted(await ledger.adjust({ account: 'a', amount: -130, ...ops }));
    let view = await ledger.getBalance('a');
    assert.deepEqual([view.balance, view.debt, view.featuresDisabled], [-30, 30, true]);
    await ledger.grant({ account: 'a', tokens: 20, category: 'promotional', ...ops });
    view = await ledger.getBalance('a');
    assert.deepEqual([view.balance, view.debt, view.promotional], [-10, 30, 20]);
    assert.equal(refused(await ledger.deduct({ account: 'a', feature: 'social_post' })).code, 'insufficient_tokens');
    accepted(await ledger.credit({ account: 'a', tokens: 50, source: 'shop', reference: 'o1' }));
    view = await ledger.getBalance('a');
    assert.deepEqual([view.balance, view.debt, view.purchased, view.promotional], [40, 0, 20, 20]);
    assert.deepEqual((await ledger.reconcile()).drift, []);
  });

  it('a reservation is a promise: a grant expiring under a live hold never makes its commit charge less', async () => {
    const { ledger, clock } = get();
    accepted(await ledger.adjust({ account: 'a', amount: -100, ...ops }));
    await ledger.grant({ account: 'a', tokens: 30, category: 'promotional', expiresAt: clock.now() + 60_000, ...ops });
    const hold = accepted(await ledger.reserve({ account: 'a', amount: 20, ttlSeconds: 600 }));
    clock.advance(120_000);
    const done = accepted(await ledger.commitHold(hold.holdId, 20));
    assert.equal(done.charged, 20);
    const view = await ledger.getBalance('a');
    assert.deepEqual([view.balance, view.debt, view.promotional], [-20, 20, 0]);
    assert.deepEqual((await ledger.reconcile()).drift, []);
  });

  it('a grant effective later is not spendable until then, and takes effect once', async () => {
    const { ledger, clock } = get();
    const start = clock.now() + 5 * DAY;
    const g = await ledger.grant({ account: 'a', tokens: 70, category: 'paid', effectiveAt: start, ...ops });
    assert.equal(g.status, 'scheduled');
    assert.equal((await ledger.getBalance('a')).balance, 100);
    clock.advance(5 * DAY);
    assert.equal((await ledger.getBalance('a')).balance, 170);
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post', quantity: 150 }));
    accepted(await ledger.deduct({ account: 'a', feature: 'social_post' }));
    const grants = (await ledger.history('a')).entries.filter((e) => e.kind === 'grant');
    assert.deepEqual(
      grants.map((e) => e.amount),
      [70, 0],
      'the activation (70) after the scheduling entry (0)',
    );
    assert.equal((await ledger.getBalance('a')).balance, 19);
    assert.deepEqual((await ledger.reconcile()).drift, []);
  });

  it('the database refuses a grant outside 0..tokens or a closed grant keeping tokens', async () => {
    const { ledger, db } = get();
    const g = await ledger.grant({ account: 'a', tokens: 10, category: 'promotional', ...ops });
    await assert.rejects(db.raw(`UPDATE grants SET remaining = 11 WHERE id = ${g.id}`));
    await assert.rejects(db.raw(`UPDATE grants SET remaining = -1 WHERE id = ${g.id}`));
    await assert.rejects(db.raw(`UPDATE grants SET status = 'expired' WHERE id = ${g.id}`));
    await assert.rejects(
      db.raw(`INSERT INTO grants (account_id, category, tokens, remaining, effective_at, source, reference, created_at)
              VALUES ('a', 'promotional', 5, 5, 0, 'grant', '#${g.id}', 0)`),
      /unique/i,
    );
    // A tampered grant is reported by reconcile.
    await db.raw(`UPDATE grants SET remaining = 4 WHERE id = ${g.id}`);
    const drift = (await ledger.reconcile()).drift.map((d) => d.check);
    assert.ok(drift.includes('grant') && drift.includes('grants'), drift.join(','));
  });
});
