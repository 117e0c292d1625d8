import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AccountState, balanceOf, blankAccount } from '../../src/core/account-state.ts';
import type { Plan } from '../../src/core/catalog.ts';
import type { Grant } from '../../src/core/grant.ts';
import { currentView, renewDue } from '../../src/core/renewal.ts';

const ms = (iso: string): number => Date.parse(iso);

const FREE: Plan = { id: 'free', name: 'Free', monthlyAllocation: 100, rolloverCap: 0 };
const STARTER: Plan = { id: 'starter', name: 'Starter', monthlyAllocation: 1000, rolloverCap: 500 };
const PRO: Plan = { id: 'pro', name: 'Pro', monthlyAllocation: 5000, rolloverCap: 2500 };

const ANCHOR = ms('2027-01-31T09:00:00.000Z');
const FEB = ms('2027-02-28T09:00:00.000Z');
const MAR = ms('2027-03-31T09:00:00.000Z');
const APR = ms('2027-04-30T09:00:00.000Z');
const MAY = ms('2027-05-31T09:00:00.000Z');

/** An account whose buckets are held by grants, as the engine keeps them: one included, one paid. */
function account(plan: Plan, overrides: Partial<AccountState> = {}): AccountState {
  const base = { ...blankAccount('acct_1', plan.id, ANCHOR), allocation: plan.monthlyAllocation, ...overrides };
  const grant = (id: number, category: 'included' | 'paid', remaining: number): Grant => ({
    id,
    account: base.id,
    category,
    tokens: Math.max(remaining, plan.monthlyAllocation),
    remaining,
    priority: 50,
    effectiveAt: ANCHOR,
    expiresAt: null,
    source: 'test',
    reference: category,
    status: 'active',
    reason: null,
    actor: null,
    createdAt: ANCHOR,
    closedAt: null,
  });
  const grants = [grant(1, 'included', base.allocation)];
  if (base.purchased > 0) grants.push(grant(2, 'paid', base.purchased));
  return { ...base, grants, purchased: Math.max(0, base.purchased), debt: Math.max(0, -base.purchased) };
}

describe('renewDue', () => {
  it('does nothing before the first boundary, even 1 ms before it', () => {
    const state = account(STARTER, { allocation: 700, usedThisCycle: 300 });
    const result = renewDue(state, STARTER, FEB - 1);
    assert.deepEqual(result.entries, []);
    assert.equal(result.state, state);
  });

  it('renews exactly at the boundary instant and dates the entries at the boundary', () => {
    const state = account(STARTER);
    const result = renewDue(state, STARTER, FEB);
    assert.equal(result.entries.length, 2);
    for (const entry of result.entries) assert.equal(entry.at, FEB);
    assert.equal(result.state.cycleStart, FEB);
  });

  it('dates entries at the boundary, not at the later time the renewal is computed', () => {
    const now = FEB + 5 * 86_400_000;
    const result = renewDue(account(FREE), FREE, now);
    for (const entry of result.entries) assert.equal(entry.at, FEB);
    assert.equal(result.state.updatedAt, now);
    assert.equal(result.state.lastReset, FEB);
  });

  it('expires all unused allocation on the free plan (no rollover) and grants 100', () => {
    const state = account(FREE, { allocation: 60, usedThisCycle: 40 });
    const { state: next, entries } = renewDue(state, FREE, FEB);
    assert.deepEqual(
      entries.map((e) => [e.kind, e.allocationDelta, e.purchasedDelta, e.amount, e.balanceAfter]),
      [
        ['cycle_expiry', -60, 0, -60, 0],
        ['cycle_grant', 100, 0, 100, 100],
      ],
    );
    assert.equal(next.allocation, 100);
    assert.equal(next.rolledOver, 0);
  });

  it('rolls a fully unused starter allocation over up to the 500 cap and expires the rest', () => {
    const { state: next, entries } = renewDue(account(STARTER), STARTER, FEB);
    assert.deepEqual(
      entries.map((e) => [e.kind, e.allocationDelta, e.balanceAfter]),
      [
        ['cycle_expiry', -500, 500],
        ['cycle_grant', 1000, 1500],
      ],
    );
    assert.equal(next.allocation, 1500);
    assert.equal(next.rolledOver, 500);
  });

  it('rolls a partially used allocation over in full when it is under the cap, with no expiry entry', () => {
    const state = account(PRO, { allocation: 1200, usedThisCycle: 3800 });
    const { state: next, entries } = renewDue(state, PRO, FEB);
    assert.deepEqual(
      entries.map((e) => [e.kind, e.allocationDelta, e.balanceAfter]),
      [['cycle_grant', 5000, 6200]],
    );
    assert.equal(next.allocation, 6200);
    assert.equal(next.rolledOver, 1200);
  });

  it('rolls a partially used pro allocation over up to the 2500 cap and expires the rest', () => {
    const state = account(PRO, { allocation: 3000, usedThisCycle: 2000 });
    const { state: next, entries } = renewDue(state, PRO, FEB);
    assert.deepEqual(
      entries.map((e) => [e.kind, e.allocationDelta]),
      [
        ['cycle_expiry', -500],
        ['cycle_grant', 5000],
      ],
    );
    assert.equal(next.allocation, 7500);
    assert.equal(next.rolledOver, 2500);
  });

  it('a debt outlives the renewal: the new allocation nets against it and never pays it', () => {
    const state = account(FREE, { allocation: 0, purchased: -100 });
    const { state: next, entries } = renewDue(state, FREE, FEB);
    assert.deepEqual(
      entries.map((e) => e.kind),
      ['cycle_grant'],
    );
    assert.equal(next.allocation, 100);
    assert.equal(next.debt, 100);
    assert.equal(balanceOf(next), 0);
  });

  it('never touches the purchased bucket and counts it in balanceAfter', () => {
    const state = account(STARTER, { allocation: 800, purchased: 2000 });
    const { state: next, entries } = renewDue(state, STARTER, FEB);
    assert.equal(next.purchased, 2000);
    for (const entry of entries) assert.equal(entry.purchasedDelta, 0);
    assert.deepEqual(
      entries.map((e) => e.balanceAfter),
      [2500, 3500],
    );
    assert.equal(balanceOf(next), 3500);
  });

  it('posts the grant even for a plan with a zero monthly allocation', () => {
    const zero: Plan = { id: 'zero', name: 'Zero', monthlyAllocation: 0, rolloverCap: 0 };
    const { entries } = renewDue(account(zero, { allocation: 0 }), zero, FEB);
    assert.deepEqual(
      entries.map((e) => [e.kind, e.amount, e.reference]),
      [['cycle_grant', 0, 'acct_1@2027-02-28T09:00:00.000Z']],
    );
  });

  it('resets usedThisCycle and sets cycleStart, lastReset and rolledOver', () => {
    const state = account(STARTER, { allocation: 100, usedThisCycle: 900, rolledOver: 400, lastReset: null });
    const { state: next } = renewDue(state, STARTER, FEB + 1000);
    assert.equal(next.usedThisCycle, 0);
    assert.equal(next.cycleStart, FEB);
    assert.equal(next.lastReset, FEB);
    assert.equal(next.rolledOver, 100);
    assert.equal(next.cycleAnchor, ANCHOR);
    assert.equal(next.updatedAt, FEB + 1000);
  });

  it('tags each entry with source cycle and a reference naming the account and boundary', () => {
    const { entries } = renewDue(account(STARTER), STARTER, FEB);
    for (const entry of entries) {
      assert.equal(entry.account, 'acct_1');
      assert.equal(entry.source, 'cycle');
      assert.equal(entry.reference, 'acct_1@2027-02-28T09:00:00.000Z');
    }
  });

  it('gives each missed cycle its own expiry/grant pair with distinct references and chained balances', () => {
    const state = account(STARTER, { allocation: 200, purchased: 50, usedThisCycle: 800 });
    const now = APR + 3 * 86_400_000;
    const { state: next, entries } = renewDue(state, STARTER, now);
    assert.deepEqual(
      entries.map((e) => [e.kind, e.allocationDelta, e.balanceAfter, e.reference, e.at]),
      [
        // 200 unused is under the cap: all of it rolls, nothing expires.
        ['cycle_grant', 1000, 1250, 'acct_1@2027-02-28T09:00:00.000Z', FEB],
        ['cycle_expiry', -700, 550, 'acct_1@2027-03-31T09:00:00.000Z', MAR],
        ['cycle_grant', 1000, 1550, 'acct_1@2027-03-31T09:00:00.000Z', MAR],
        ['cycle_expiry', -1000, 550, 'acct_1@2027-04-30T09:00:00.000Z', APR],
        ['cycle_grant', 1000, 1550, 'acct_1@2027-04-30T09:00:00.000Z', APR],
      ],
    );
    const grantRefs = entries.filter((e) => e.kind === 'cycle_grant').map((e) => e.reference);
    assert.equal(new Set(grantRefs).size, 3);
    assert.equal(next.allocation, 1500);
    assert.equal(next.purchased, 50);
    assert.equal(next.rolledOver, 500);
    assert.equal(next.cycleStart, APR);
    assert.equal(next.lastReset, APR);
    assert.equal(next.usedThisCycle, 0);
    assert.equal(next.updatedAt, now);
  });

  it('chains balanceAfter from one entry to the next across missed cycles', () => {
    const state = account(PRO, { allocation: 0, purchased: 10 });
    const { state: next, entries } = renewDue(state, PRO, MAY);
    let balance = balanceOf(state);
    for (const entry of entries) {
      balance += entry.amount;
      assert.equal(entry.balanceAfter, balance);
    }
    assert.equal(balance, balanceOf(next));
  });

  it('changes nothing when applied a second time at the same now', () => {
    const state = account(STARTER, { allocation: 300 });
    const first = renewDue(state, STARTER, MAR + 10);
    const second = renewDue(first.state, STARTER, MAR + 10);
    assert.deepEqual(second.entries, []);
    assert.deepEqual(second.state, first.state);
  });

  it('renews only the newly due cycle when applied again after the next boundary', () => {
    const first = renewDue(account(STARTER), STARTER, FEB);
    const second = renewDue(first.state, STARTER, MAR);
    assert.deepEqual(
      second.entries.map((e) => e.reference),
      ['acct_1@2027-03-31T09:00:00.000Z', 'acct_1@2027-03-31T09:00:00.000Z'],
    );
  });

  it('does not renew subscription-driven accounts', () => {
    const state = account(PRO, { cycleDriver: 'subscription', allocation: 4000, usedThisCycle: 1000 });
    const result = renewDue(state, PRO, MAY);
    assert.deepEqual(result.entries, []);
    assert.equal(result.state, state);
  });

  it('does not bump the version: the store does that when it writes', () => {
    const { state: next } = renewDue(account(STARTER, { version: 7 }), STARTER, MAR);
    assert.equal(next.version, 7);
  });

  it('does not mutate the state it was given', () => {
    const state = account(STARTER, { allocation: 900, usedThisCycle: 100 });
    const snapshot = structuredClone(state);
    renewDue(state, STARTER, MAY);
    assert.deepEqual(state, snapshot);
  });
});

describe('currentView', () => {
  it('shows a due renewal without producing anything to write', () => {
    const state = account(STARTER, { allocation: 100, usedThisCycle: 900 });
    const view = currentView(state, STARTER, FEB);
    assert.equal(view.allocation, 1100);
    assert.equal(view.usedThisCycle, 0);
    assert.equal(view.cycleStart, FEB);
    assert.equal(state.allocation, 100);
  });

  it('returns the stored state unchanged when nothing is due', () => {
    const state = account(STARTER, { allocation: 100 });
    assert.equal(currentView(state, STARTER, FEB - 1), state);
  });
});
