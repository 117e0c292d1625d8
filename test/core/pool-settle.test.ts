// Settling a member's pooled hold on both accounts (pool-settle.ts), whatever the status its pool
// hold was found in. The pool's closure moves it from the status it really has (never from
// `expired` when it is not) and names the member's hold (the store commits or releases a pool's
// hold only so); the membership ends holding nothing for it. A pool hold found already committed
// or released (by its own id, which was accepted before it was refused) is not settled again:
// the pool pays nothing more and the membership frees the amount that settlement left in `held`.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { findPlan } from '../../src/core/catalog.ts';
import type { Hold, HoldStatus } from '../../src/core/hold.ts';
import { memberPlan } from '../../src/core/pool.ts';
import { commitPooled, type PooledHoldParties, releasePooled } from '../../src/core/pool-settle.ts';
import { provision } from '../../src/core/provision.ts';
import { catalog } from '../helpers/ledger.ts';

const NOW = Date.parse('2026-01-15T10:00:00Z');
const plan = findPlan(catalog, catalog.defaultPlan);

function hold(id: number, account: string, amount: number, status: HoldStatus, more: Partial<Hold> = {}): Hold {
  return {
    id,
    account,
    amount,
    feature: null,
    status,
    charged: 0,
    createdAt: NOW - 1000,
    expiresAt: NOW + 60_000,
    closedAt: status === 'active' ? null : NOW - 500,
    idempotencyKey: null,
    poolHold: null,
    poolAmount: 0,
    member: null,
    ...more,
  };
}

/**
 * A member (no tokens of its own) whose hold `memberStatus` reserved `amount`, all of it from the
 * pool's hold in `poolStatus`; the membership holds what it still counts: the amount, unless the
 * pool hold expired (its expiry freed it).
 */
function parties(amount: number, memberStatus: 'active' | 'expired', poolStatus: HoldStatus, used = 0) {
  const pool = provision('agency', plan, NOW).state;
  const member = provision('client', memberPlan(plan), NOW).state;
  return {
    member: { ...member, poolId: 'agency' },
    hold: hold(8, 'client', amount, memberStatus, { poolHold: 7, poolAmount: amount }),
    pool: { ...pool, held: poolStatus === 'active' ? amount : 0 },
    poolHold: hold(7, 'agency', amount, poolStatus, { member: 'client' }),
    membership: {
      pool: 'agency',
      member: 'client',
      limitPerCycle: 30,
      usedThisCycle: used,
      held: poolStatus === 'expired' ? 0 : amount,
      cycleStart: pool.cycleStart,
      joinedAt: NOW - 2000,
      updatedAt: NOW - 1000,
    },
  } satisfies PooledHoldParties;
}

describe('settling a pooled hold on both accounts', () => {
  it("releasing when the pool's hold was released on its own: the pool is left alone, the membership frees it", () => {
    const s = releasePooled(parties(20, 'active', 'released'), NOW);
    assert.equal(s.pool, null);
    assert.equal(s.membership.held, 0);
    assert.deepEqual([s.member.closure.from, s.member.closure.status], ['active', 'released']);
  });

  it("committing when the pool's hold was committed on its own: no second charge, the pool's part is shortfall", () => {
    const s = commitPooled(parties(20, 'active', 'committed'), 20, NOW);
    assert.equal(s.pool, null);
    assert.deepEqual([s.charged, s.shortfall], [0, 20]);
    assert.deepEqual([s.membership.held, s.membership.usedThisCycle], [0, 0]);
    assert.deepEqual([s.member.closure.from, s.member.closure.status], ['active', 'committed']);
  });

  it("the pool's closure names the member's hold, from active or from expired", () => {
    assert.equal(releasePooled(parties(20, 'active', 'active'), NOW).pool?.closure.memberHold, 8);
    const live = commitPooled(parties(20, 'active', 'active'), 20, NOW).pool?.closure;
    assert.deepEqual([live?.from, live?.memberHold, live?.charged], ['active', 8, 20]);
    const late = commitPooled(parties(20, 'expired', 'expired'), 20, NOW).pool?.closure;
    assert.deepEqual([late?.from, late?.memberHold, late?.charged], ['expired', 8, 20]);
  });

  it('whatever the status of the pool hold, it moves only from that status, the pool pays within the limit, and the membership holds nothing for it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 30 }),
        fc.constantFrom<HoldStatus>('active', 'expired', 'released', 'committed'),
        fc.option(fc.integer({ min: 0, max: 60 }), { nil: null }),
        (amount, usedBefore, poolStatus, actual) => {
          // The member's hold is live with a live pool hold; expired with an expired one; either
          // with one settled on its own.
          const memberStatus = poolStatus === 'expired' ? 'expired' : 'active';
          const used = Math.min(usedBefore, 30 - (poolStatus === 'expired' ? 0 : amount));
          if (used < 0) return;
          const p = parties(amount, memberStatus, poolStatus, used);
          if (actual === null && memberStatus !== 'active') return; // an expired hold is not released
          const s = actual === null ? releasePooled(p, NOW) : commitPooled(p, actual, NOW);
          const settles = poolStatus === 'active' || (poolStatus === 'expired' && actual !== null);
          assert.equal(s.pool !== null, settles);
          if (s.pool) {
            assert.equal(s.pool.closure.from, poolStatus);
            assert.equal(s.pool.closure.memberHold, p.hold.id);
          }
          const poolCharged = s.pool?.closure.charged ?? 0;
          assert.equal(s.membership.held, 0);
          assert.equal(s.membership.usedThisCycle, used + poolCharged);
          assert.ok(s.membership.usedThisCycle <= 30, `past the limit: ${JSON.stringify(s.membership)}`);
          assert.equal(s.charged, poolCharged, 'the member has no tokens of its own');
          if (actual !== null) assert.equal(s.charged + s.shortfall, actual);
        },
      ),
    );
  });
});
