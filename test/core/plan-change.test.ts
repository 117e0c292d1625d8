import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { blankAccount } from '../../src/core/account-state.ts';
import type { Plan } from '../../src/core/catalog.ts';
import { grantedInCycle } from '../../src/core/cycle-grants.ts';
import { CYCLE_RESTART_SOURCE } from '../../src/core/cycle-restart.ts';
import { decidePlanChange, upgradeGrant } from '../../src/core/plan-change.ts';

const plan = (id: string, monthlyAllocation: number, rolloverCap = 0): Plan => ({
  id,
  name: id,
  monthlyAllocation,
  rolloverCap,
});
const free = plan('free', 100);
const starter = plan('starter', 1000, 500);
const pro = plan('pro', 5000, 2500);

describe('upgradeGrant', () => {
  it('an upgrade adds new − old; a downgrade or a same-size plan adds nothing', () => {
    assert.equal(upgradeGrant(free, starter, 100), 900);
    assert.equal(upgradeGrant(starter, pro, 1000), 4000);
    assert.equal(upgradeGrant(pro, starter, 5000), 0);
    assert.equal(upgradeGrant(starter, plan('other', 1000), 1000), 0);
  });

  it('never takes what the cycle granted beyond the highest allocation held in it', () => {
    assert.equal(upgradeGrant(starter, pro, 5000), 0); // pro was held earlier in the cycle
    assert.equal(upgradeGrant(free, starter, 5000), 0);
    assert.equal(upgradeGrant(free, pro, 1000), 4000); // starter held before: only up to pro's 5,000
  });

  it('property: any sequence of plan changes in a cycle grants at most the highest allocation held', () => {
    const plans = [free, starter, pro, plan('team', 2500, 1000), plan('zero', 0)];
    const pick = fc.constantFrom(...plans);
    fc.assert(
      fc.property(pick, fc.array(pick, { maxLength: 30 }), (start, changes) => {
        let current = start;
        let granted = start.monthlyAllocation;
        let highest = start.monthlyAllocation;
        for (const next of changes) {
          const grant = upgradeGrant(current, next, granted);
          assert.ok(grant >= 0);
          assert.ok(grant <= Math.max(0, next.monthlyAllocation - current.monthlyAllocation));
          granted += grant;
          highest = Math.max(highest, next.monthlyAllocation);
          current = next;
          assert.ok(granted <= highest, `granted ${granted} > highest ${highest}`);
        }
        // Reaching the highest plan once grants it in full: the rule never starves an honest upgrade.
        if (changes.length > 0 && current.monthlyAllocation === highest) assert.equal(granted, highest);
      }),
    );
  });
});

describe('decidePlanChange', () => {
  const state = { ...blankAccount('a', 'starter', 1000), allocation: 300, usedThisCycle: 700, rolledOver: 40 };

  it('keeps the cycle and its counters, moves the plan, records one entry', () => {
    const { state: after, entries } = decidePlanChange(state, starter, pro, 1000, { reason: 'r', actor: 't' }, 2000);
    assert.equal(after.plan, 'pro');
    assert.equal(after.allocation, 4300);
    for (const key of ['cycleAnchor', 'cycleStart', 'usedThisCycle', 'rolledOver', 'lastReset'] as const) {
      assert.equal(after[key], state[key]);
    }
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.kind, 'plan_change');
    assert.equal(entries[0]?.allocationDelta, 4000);
  });

  it('claims a reference only with a grant, and grants nothing when the reference was used', () => {
    const record = { reason: 'r', actor: 't', source: 'stripe', reference: 'sub:1:pro' };
    assert.equal(decidePlanChange(state, starter, pro, 1000, record, 2000).entries[0]?.reference, 'sub:1:pro');
    assert.equal(decidePlanChange(state, pro, starter, 5000, record, 2000).entries[0]?.reference, null);
    const again = decidePlanChange(state, starter, pro, 1000, { ...record, alreadyGranted: true }, 2000);
    assert.equal(again.entries[0]?.allocationDelta, 0);
    assert.equal(again.entries[0]?.reference, null);
    assert.equal(again.state.plan, 'pro');
  });
});

describe('grantedInCycle', () => {
  type Kind = 'opening_balance' | 'cycle_grant' | 'plan_change';
  const e = (kind: Kind, allocationDelta: number, at: number, moves: number[] = [], source: string | null = null) => ({
    kind,
    allocationDelta,
    at,
    source,
    grantMoves: moves.map((delta, grant) => ({ grant, delta })),
  });

  it('counts the cycle opening grant and the upgrades after it, nothing before the cycle start', () => {
    assert.equal(grantedInCycle([e('cycle_grant', 100, 5), e('plan_change', 900, 6), e('plan_change', 0, 7)], 5), 1000);
    assert.equal(grantedInCycle([e('plan_change', 4900, 4), e('cycle_grant', 1000, 5)], 5), 1000);
  });

  it("a provider's period opening written after entries of the same period restarts the count", () => {
    assert.equal(grantedInCycle([e('opening_balance', 100, 5), e('cycle_grant', 1000, 9)], 5), 1000);
  });

  it("a renewal's carried rollover is no grant", () => {
    assert.equal(grantedInCycle([e('cycle_grant', 1000, 5, [-500, 1500])], 5), 1000);
  });

  it("a restart opens the cycle with its plan's allocation; its carried rollover is no grant", () => {
    const restart = e('plan_change', 1000, 6, [-500, 1500], CYCLE_RESTART_SOURCE);
    assert.equal(grantedInCycle([e('plan_change', 4000, 5), restart], 5), 1000);
    assert.equal(grantedInCycle([restart, e('plan_change', 4000, 7)], 5), 5000);
  });

  it('regression: an unmarked restart (before restarts were marked) counts what it put in its new grant', () => {
    // It ended 5,000 of the old grants and opened free's 100 in one entry: net −4,900, counted as 0 before.
    assert.equal(grantedInCycle([e('plan_change', -4900, 5, [-5000, 100])], 5), 100);
  });

  it("regression: an import counts its plan's whole month, even what the legacy app had used", () => {
    // On pro with nothing left: 5,000 in, 5,000 back out; 200 purchased on a paid grant.
    assert.equal(grantedInCycle([e('opening_balance', 0, 5, [5000, -5000, 200])], 5), 5000);
    assert.equal(grantedInCycle([e('opening_balance', 3000, 5, [5000, -2000])], 5), 5000);
  });
});
