// Regression (issue 19): the demo's account picker offers "zero-balance", but signing in as it
// showed 100 tokens (every new account opens on the free plan). Now the demo's named accounts
// are in the state their names say on first sign-in, and a later sign-in never resets them.
// Issue 18 adds a shared pool to the demo: `agency` and its member `agency-client`.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ManualClock } from '../../src/core/clock.ts';
import {
  DEMO_ACCOUNTS,
  DEMO_MEMBER,
  DEMO_MEMBER_LIMIT,
  DEMO_POOL,
  prepareDemoAccount,
} from '../../src/http/demo-accounts.ts';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { backends, type TestStore } from '../helpers/backends.ts';
import { accepted, catalog } from '../helpers/ledger.ts';
import { type TestApp, testApp } from './http-helpers.ts';

describe('demo accounts', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await testApp({ demo: true });
  });
  afterEach(() => t.close());

  const login = (account: string) => t.call({ as: 'none', method: 'GET', url: `/demo/login?account=${account}` });

  it('regression: signing in as zero-balance shows a balance of 0 with features disabled', async () => {
    assert.equal((await login('zero-balance')).statusCode, 303);
    const view = await t.ledger.getBalance('zero-balance');
    assert.equal(view.balance, 0);
    assert.equal(view.featuresDisabled, true);
    const [entry] = (await t.ledger.history('zero-balance', { limit: 1 })).entries;
    assert.equal(entry?.kind, 'adjustment');
    assert.equal(entry?.actor, 'demo');
  });

  it('a later sign-in leaves the account as it is (tokens bought are kept)', async () => {
    await login('zero-balance');
    await t.ledger.credit({ account: 'zero-balance', tokens: 100, source: 'test', reference: 'r1' });
    await login('zero-balance');
    assert.equal((await t.ledger.getBalance('zero-balance')).balance, 100);
  });

  it('other accounts open as any new account does (the free plan, 100 tokens), and sign-in writes nothing', async () => {
    await login('alice');
    assert.equal((await t.ledger.getBalance('alice')).exists, false);
    assert.equal((await t.ledger.getBalance('alice')).balance, 100);
  });

  it('the picker offers the pool and its member, each with what it is', () => {
    const about = new Map(DEMO_ACCOUNTS.map((a) => [a.id, a.about]));
    assert.match(about.get('agency') ?? '', /pool/);
    assert.match(about.get('agency-client') ?? '', /member of agency.*50/);
  });

  it('signing in as agency-client makes it a member of agency (free plan, 100 tokens) with a limit of 50', async () => {
    assert.equal((await login(DEMO_MEMBER)).statusCode, 303);
    const pool = await t.ledger.getBalance(DEMO_POOL);
    assert.equal(pool.exists, true);
    assert.equal(pool.plan, 'free');
    assert.equal(pool.balance, 100);
    const member = await t.ledger.getBalance(DEMO_MEMBER);
    // No tokens of its own: its available is its share of the pool, within its limit.
    assert.equal(member.balance, 0);
    assert.equal(member.available, DEMO_MEMBER_LIMIT);
    assert.deepEqual(member.pool, {
      id: DEMO_POOL,
      available: 100,
      limitPerCycle: DEMO_MEMBER_LIMIT,
      usedThisCycle: 0,
      remainingThisCycle: DEMO_MEMBER_LIMIT,
    });
    // The signed-in browser sees the same through the balance answer.
    const token = await t.userToken(DEMO_MEMBER);
    const balance = await t.call({ as: { token }, method: 'GET', url: '/api/tokens/balance' });
    assert.equal(balance.statusCode, 200);
    assert.deepEqual(balance.json().pool, {
      id: DEMO_POOL,
      available: 100,
      limit_per_cycle: DEMO_MEMBER_LIMIT,
      used_this_cycle: 0,
      remaining_this_cycle: DEMO_MEMBER_LIMIT,
    });
  });

  it('signing in as agency opens the pool (100 tokens) with no members yet', async () => {
    assert.equal((await login(DEMO_POOL)).statusCode, 303);
    const pool = await t.ledger.getBalance(DEMO_POOL);
    assert.equal(pool.exists, true);
    assert.equal(pool.balance, 100);
    assert.deepEqual(await t.ledger.poolMembers(DEMO_POOL), []);
    // Then the member: the pool is not provisioned again.
    await login(DEMO_MEMBER);
    assert.equal((await t.ledger.getBalance(DEMO_POOL)).balance, 100);
    assert.deepEqual(
      (await t.ledger.poolMembers(DEMO_POOL)).map((m) => m.member),
      [DEMO_MEMBER],
    );
  });

  it('a later sign-in leaves the member as the operator left it: its limit changed, or taken out of the pool', async () => {
    await login(DEMO_MEMBER);
    accepted(await t.ledger.deduct({ account: DEMO_MEMBER, feature: 'business_collector' }));
    await t.ledger.joinPool({ member: DEMO_MEMBER, pool: DEMO_POOL, limitPerCycle: 10 });
    await login(DEMO_MEMBER);
    let member = await t.ledger.getBalance(DEMO_MEMBER);
    assert.equal(member.pool?.limitPerCycle, 10);
    assert.equal(member.pool?.usedThisCycle, 5);
    await t.ledger.leavePool(DEMO_MEMBER);
    await login(DEMO_MEMBER);
    member = await t.ledger.getBalance(DEMO_MEMBER);
    assert.equal(member.pool, null);
    assert.equal((await t.ledger.getBalance(DEMO_POOL)).balance, 95);
  });
});

// Two server processes share one database: first sign-ins racing in both must still write the
// pool's tokens once and one membership.
for (const backend of backends()) {
  describe(`demo pool prepared from two processes [${backend.name}]`, () => {
    let db: TestStore;
    let ledger: TokenLedger;
    let other: TokenLedger;
    beforeEach(async () => {
      db = await backend.open();
      const clock = new ManualClock('2026-03-10T12:00:00Z');
      ledger = new TokenLedger({ store: db.store, catalog, clock });
      // Two in-thread SQLite stores in one process would wait for each other's lock on one
      // thread; SQLite writers are serialized anyway. The others get a second store, as a
      // second process would.
      other = backend.name === 'sqlite-inline' ? ledger : new TokenLedger({ store: await db.reopen(), catalog, clock });
    });
    afterEach(async () => {
      await ledger.close();
      await db.cleanup();
    });

    it('racing first sign-ins of the member and the pool write the pool once and one membership', async () => {
      await Promise.all([
        prepareDemoAccount(ledger, DEMO_MEMBER),
        prepareDemoAccount(other, DEMO_MEMBER),
        prepareDemoAccount(other, DEMO_POOL),
        prepareDemoAccount(ledger, DEMO_MEMBER),
      ]);
      // And once more after: nothing changes.
      await prepareDemoAccount(other, DEMO_MEMBER);
      const pool = await ledger.getBalance(DEMO_POOL);
      assert.equal(pool.balance, 100);
      const members = await ledger.poolMembers(DEMO_POOL);
      assert.deepEqual(
        members.map((m) => [m.member, m.limitPerCycle, m.usedThisCycle]),
        [[DEMO_MEMBER, DEMO_MEMBER_LIMIT, 0]],
      );
      const member = await ledger.getBalance(DEMO_MEMBER);
      assert.equal(member.balance, 0);
      assert.equal(member.available, DEMO_MEMBER_LIMIT);
      // The pool's ledger holds its opening grant once.
      const entries = (await ledger.history(DEMO_POOL, { limit: 10 })).entries;
      assert.equal(
        entries.reduce((n, e) => n + e.amount, 0),
        100,
      );
      assert.deepEqual((await ledger.reconcile()).drift, []);
    });
  });
}
