import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { switchAwaitsPeriod } from '../../src/core/subscription-period.ts';

describe('switchAwaitsPeriod', () => {
  const held = { subscription: 'starter', account: 'starter' };
  it('a switch to another plan waits until its period is granted', () => {
    assert.equal(switchAwaitsPeriod({ plan: 'pro', periodStart: 1000 }, held, false), true);
    assert.equal(switchAwaitsPeriod({ plan: 'pro', periodStart: 1000 }, held, true), false);
  });
  it('so does an update whose plan only the subscription or only the account holds', () => {
    const update = { plan: 'pro', periodStart: 1000 };
    assert.equal(switchAwaitsPeriod(update, { subscription: 'pro', account: 'starter' }, false), true);
    assert.equal(switchAwaitsPeriod(update, { subscription: 'starter', account: 'pro' }, false), true);
  });
  it('an update of the plan held, of no plan, or of no period never waits', () => {
    assert.equal(switchAwaitsPeriod({ plan: 'starter', periodStart: 1000 }, held, false), false);
    assert.equal(switchAwaitsPeriod({ plan: null, periodStart: 1000 }, held, false), false);
    assert.equal(switchAwaitsPeriod({ plan: 'pro', periodStart: null }, held, false), false);
  });
});
