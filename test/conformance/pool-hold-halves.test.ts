// A member's reservation from a pool is two holds: the member's (whose id reserve answers) and
// the pool's for the pool's part (its own id, listed among the pool's active holds, `member` set).
// The pool's hold settles only with the member's: commitHold/releaseHold refuse its id with
// invalid_request naming `holdId`, writing nothing, and the database refuses to commit or release
// it alone. Before this rule, releasing it by its id left the membership's `held` stuck (the
// member refused below its limit, reconcile's pool_held drift) and the member's hold unsettleable
// (WriteConflictError), and committing it charged the pool past the member's limit, uncounted.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { isTokenmeterError } from '../../src/core/errors.ts';
import type { Hold } from '../../src/core/hold.ts';
import type { TokenLedger } from '../../src/ledger/token-ledger.ts';
import { accepted } from '../helpers/ledger.ts';
import { conformance } from '../helpers/suite.ts';

/** A pool of 100 (a free account) and `client` in it, limited to 30 a cycle. */
async function setUp(ledger: TokenLedger): Promise<void> {
  await ledger.createAccount({ account: 'agency' });
  await ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: 30 });
}

/** The pool's half of the member's hold `memberHold`, as the pool's active holds list it. */
async function poolHalf(ledger: TokenLedger, memberHold: number): Promise<Hold> {
  const id = (await ledger.getHold(memberHold))?.poolHold;
  const listed = (await ledger.activeHolds('agency')).find((h) => h.id === id);
  assert.ok(listed, `the pool lists hold ${id} of member hold ${memberHold}`);
  assert.equal(listed.member, 'client');
  return listed;
}

/** The refusal a call throws: invalid_request naming `holdId` (fails on anything else). */
async function refusedAsPoolHalf(call: () => Promise<unknown>): Promise<string> {
  let answer: unknown;
  try {
    answer = await call();
  } catch (err) {
    if (!isTokenmeterError(err)) throw err;
    assert.deepEqual({ code: err.code, field: err.field }, { code: 'invalid_request', field: 'holdId' }, err.message);
    assert.match(err.message, /member client/, 'the refusal points at the member');
    return err.message;
  }
  assert.fail(`settling the pool's half by its id was answered: ${JSON.stringify(answer)}`);
}

/** Everything the two accounts and the membership show. */
async function books(ledger: TokenLedger) {
  const [pool, member, [m]] = await Promise.all([
    ledger.getBalance('agency'),
    ledger.getBalance('client'),
    ledger.poolMembers('agency'),
  ]);
  return {
    pool: { balance: pool.balance, held: pool.held, available: pool.available },
    member: { balance: member.balance, held: member.held, available: member.available },
    membership: { used: m?.usedThisCycle, held: m?.held, remaining: m?.remainingThisCycle },
    holds: (await ledger.activeHolds('agency')).map((h) => h.id),
  };
}

async function clean(ledger: TokenLedger): Promise<void> {
  assert.deepEqual((await ledger.reconcile()).drift, []);
}

conformance("a pooled hold's pool half", (get) => {
  it("releasing the pool's hold by its id is refused, writing nothing; the member's hold then commits exactly", async () => {
    const { ledger } = get();
    await setUp(ledger);
    const hold = accepted(await ledger.reserve({ account: 'client', amount: 20, ttlSeconds: 600 }));
    const half = await poolHalf(ledger, hold.holdId);
    const before = await books(ledger);
    await refusedAsPoolHalf(() => ledger.releaseHold(half.id));
    assert.deepEqual(await books(ledger), before, 'nothing moved');
    assert.equal((await ledger.getHold(half.id))?.status, 'active');
    const committed = accepted(await ledger.commitHold(hold.holdId, 20));
    assert.deepEqual([committed.charged, committed.shortfall], [20, 0]);
    const [m] = await ledger.poolMembers('agency');
    assert.deepEqual([m?.usedThisCycle, m?.held, m?.remainingThisCycle], [20, 0, 10]);
    assert.equal((await ledger.getBalance('agency')).balance, 80);
    assert.equal((await ledger.getHold(half.id))?.status, 'committed');
    await clean(ledger);
  });

  it("releasing the pool's hold by its id, then the member's hold, gives the member its whole limit back", async () => {
    const { ledger } = get();
    await setUp(ledger);
    const hold = accepted(await ledger.reserve({ account: 'client', amount: 20, ttlSeconds: 600 }));
    await refusedAsPoolHalf(async () => ledger.releaseHold((await poolHalf(ledger, hold.holdId)).id));
    accepted(await ledger.releaseHold(hold.holdId));
    const view = await ledger.getBalance('client');
    const [m] = await ledger.poolMembers('agency');
    assert.deepEqual(
      { held: m?.held, remaining: m?.remainingThisCycle, available: view.available },
      {
        held: 0,
        remaining: 30,
        available: 30,
      },
    );
    // The balance says 30 available, and a write agrees.
    accepted(await ledger.reserve({ account: 'client', amount: 25, ttlSeconds: 600 }));
    await clean(ledger);
  });

  it("committing the pool's hold by its id is refused: the pool is charged only through the member, within its limit", async () => {
    const { ledger } = get();
    await setUp(ledger);
    const hold = accepted(await ledger.reserve({ account: 'client', amount: 20, ttlSeconds: 600 }));
    const half = await poolHalf(ledger, hold.holdId);
    const before = await books(ledger);
    await refusedAsPoolHalf(() => ledger.commitHold(half.id, 100));
    assert.deepEqual(await books(ledger), before, 'nothing charged');
    const committed = accepted(await ledger.commitHold(hold.holdId, 100));
    // The reservation's 20; beyond it only the member's own tokens pay, and it has none.
    assert.deepEqual([committed.charged, committed.shortfall], [20, 80]);
    assert.equal((await ledger.getBalance('agency')).balance, 80);
    const [m] = await ledger.poolMembers('agency');
    assert.deepEqual([m?.usedThisCycle, m?.held], [20, 0]);
    await clean(ledger);
  });

  it("an expired pool hold is refused by its id too; the member's expired hold commits within the limit", async () => {
    const { ledger, clock } = get();
    await setUp(ledger);
    const hold = accepted(await ledger.reserve({ account: 'client', amount: 20, ttlSeconds: 60 }));
    const half = await poolHalf(ledger, hold.holdId);
    clock.advance(61_000);
    await ledger.deduct({ account: 'agency', feature: 'outbound_call_single' }); // the pool's write expires it
    assert.equal((await ledger.getHold(half.id))?.status, 'expired');
    await refusedAsPoolHalf(() => ledger.commitHold(half.id, 100));
    assert.equal((await ledger.getBalance('agency')).balance, 99, "only the pool's own deduction");
    const committed = accepted(await ledger.commitHold(hold.holdId, 100));
    assert.equal(committed.charged, 20, 'the reservation, the expired pool part within the limit');
    const [m] = await ledger.poolMembers('agency');
    assert.deepEqual([m?.usedThisCycle, m?.held], [20, 0]);
    assert.equal((await ledger.getBalance('agency')).balance, 79);
    await clean(ledger);
  });

  it("the database refuses to commit or release a pool's hold unless its member's hold closed the same way first", async () => {
    const { ledger, clock, db } = get();
    await setUp(ledger);
    const hold = accepted(await ledger.reserve({ account: 'client', amount: 20, ttlSeconds: 600 }));
    const half = await poolHalf(ledger, hold.holdId);
    const now = clock.now();
    const close = (status: 'released' | 'committed', memberHold?: number) =>
      db.store.write((tx) =>
        tx.closeHolds([
          { id: half.id, from: 'active', status, charged: 0, closedAt: now, ...(memberHold ? { memberHold } : {}) },
        ]),
      );
    await assert.rejects(close('released'), /pool's hold closed without its member's/);
    await assert.rejects(close('committed'), /pool's hold closed without its member's/);
    // Naming the member's hold is not enough while that hold is still active.
    await assert.rejects(close('released', hold.holdId), /pool's hold closed without its member's/);
    assert.equal((await ledger.getHold(half.id))?.status, 'active');
    accepted(await ledger.releaseHold(hold.holdId));
    assert.equal((await ledger.getHold(half.id))?.status, 'released');
    await clean(ledger);
  });
});
