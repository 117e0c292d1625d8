// POST /api/tokens/holds/:id/commit|release with the id of a pool's hold (the pool's half of a
// member's reservation, listed among the pool's holds) is 400 invalid_request naming `holdId`,
// writing nothing, as the library refuses it; the member's hold id settles both halves.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { type TestApp, testApp } from './http-helpers.ts';

type Json = Record<string, unknown>;

function refusedAsPoolHalf(res: LightMyRequestResponse): void {
  assert.equal(res.statusCode, 400, res.body);
  const body = res.json() as Json;
  assert.equal(body.success, false);
  assert.equal(body.code, 'invalid_request');
  assert.match(String(body.error), /^holdId: .*member client/);
}

describe("settling a pool's hold by its id over HTTP", () => {
  let t: TestApp;
  let memberHold: number;
  let poolHold: number;
  beforeEach(async () => {
    t = await testApp();
    await t.ledger.createAccount({ account: 'agency' }); // 100
    await t.ledger.joinPool({ member: 'client', pool: 'agency', limitPerCycle: 30 });
    const res = await t.call({
      method: 'POST',
      url: '/api/tokens/reserve',
      payload: { account: 'client', amount: 20, ttl_seconds: 600 },
    });
    assert.equal(res.statusCode, 200, res.body);
    memberHold = (res.json() as { hold_id: number }).hold_id;
    const [listed] = await t.ledger.activeHolds('agency');
    assert.ok(listed);
    assert.equal(listed.member, 'client');
    poolHold = listed.id;
  });
  afterEach(() => t.close());

  const figures = async () => {
    const [pool, [m]] = await Promise.all([t.ledger.getBalance('agency'), t.ledger.poolMembers('agency')]);
    return { pool: [pool.balance, pool.held], membership: [m?.usedThisCycle, m?.held] };
  };

  for (const action of ['commit', 'release'] as const) {
    it(`${action} of the pool's hold is 400 invalid_request, writing nothing; the member's hold settles both`, async () => {
      const before = await figures();
      assert.deepEqual(before, { pool: [100, 20], membership: [0, 20] });
      const direct = await t.call({
        method: 'POST',
        url: `/api/tokens/holds/${poolHold}/${action}`,
        ...(action === 'commit' ? { payload: { amount: 100 } } : {}),
      });
      refusedAsPoolHalf(direct);
      assert.deepEqual(await figures(), before);
      const settled = await t.call({
        method: 'POST',
        url: `/api/tokens/holds/${memberHold}/${action}`,
        ...(action === 'commit' ? { payload: { amount: 20 } } : {}),
      });
      assert.equal(settled.statusCode, 200, settled.body);
      assert.deepEqual(
        await figures(),
        action === 'commit' ? { pool: [80, 0], membership: [20, 0] } : { pool: [100, 0], membership: [0, 0] },
      );
      assert.equal((await t.ledger.getHold(poolHold))?.status, action === 'commit' ? 'committed' : 'released');
      assert.deepEqual((await t.ledger.reconcile()).drift, []);
    });
  }
});
