import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AccountState, blankAccount } from '../../src/core/account-state.ts';
import type { Grant, GrantCategory } from '../../src/core/grant.ts';
import { decideTakeBackStep } from '../../src/core/payment-refund.ts';

const link = { source: 'stripe', reference: 'pi_1:evt_2', reason: 'test' };

function grant(id: number, category: GrantCategory, remaining: number, extra: Partial<Grant> = {}): Grant {
  return {
    id,
    account: 'u1',
    category,
    tokens: Math.max(remaining, 100),
    remaining,
    priority: 50,
    effectiveAt: 0,
    expiresAt: null,
    source: 'stripe',
    reference: `g${id}`,
    status: 'active',
    reason: null,
    actor: null,
    createdAt: id,
    closedAt: null,
    ...extra,
  };
}

function account(grants: Grant[], debt = 0): AccountState {
  const sum = (c: GrantCategory) => grants.filter((g) => g.category === c).reduce((s, g) => s + g.remaining, 0);
  return {
    ...blankAccount('u1', 'free', 0),
    grants,
    allocation: sum('included'),
    purchased: sum('paid'),
    promotional: sum('promotional'),
    debt,
  };
}

describe('decideTakeBackStep', () => {
  it('a top-up refund takes from its own grant first, then other paid grants, then leaves a debt; never included or promotional', () => {
    const state = account([
      grant(1, 'included', 50),
      grant(2, 'paid', 10),
      grant(3, 'paid', 15),
      grant(4, 'promotional', 40),
    ]);
    const r = decideTakeBackStep(state, 30, { kind: 'purchased', grant: 3 }, [], link, 1);
    assert.deepEqual(r.entries[0]?.grantMoves, [
      { grant: 3, delta: -15 },
      { grant: 2, delta: -10 },
    ]);
    assert.equal(r.entries[0]?.debtDelta, 5);
    assert.equal(r.entries[0]?.kind, 'payment_refund');
    assert.equal(r.entries[0]?.amount, -30);
    assert.deepEqual([r.state.allocation, r.state.purchased, r.state.promotional, r.state.debt], [50, 0, 40, 5]);
  });

  it('a subscription period refund takes included tokens first, then paid, then a debt', () => {
    const r = decideTakeBackStep(
      account([grant(1, 'included', 20), grant(2, 'paid', 100)]),
      50,
      { kind: 'allocation', grant: null },
      [],
      link,
      1,
    );
    assert.equal(r.entries[0]?.allocationDelta, -20);
    assert.equal(r.entries[0]?.purchasedDelta, -30);
    assert.equal(r.state.debt, 0);
  });

  it('a reversal cancels the debt its take-backs made first, then returns tokens to the grants they came from', () => {
    const history = [{ grantMoves: [{ grant: 2, delta: -10 }], debtDelta: 20 }];
    const state = account([grant(2, 'paid', 0), grant(5, 'paid', 7)], 20);
    const back = decideTakeBackStep(state, -25, { kind: 'purchased', grant: 2 }, history, link, 1);
    assert.equal(back.entries[0]?.kind, 'debit_reversal');
    assert.equal(back.entries[0]?.debtDelta, -20);
    assert.deepEqual(back.entries[0]?.grantMoves, [{ grant: 2, delta: 5 }]);
    assert.equal(back.entries[0]?.amount, 25);
    assert.equal(back.state.debt, 0);
  });

  it('a reversal gives the debt its take-back made and a purchase paid since back as a never-expiring paid grant', () => {
    // 100 taken as debt; 60 of it paid since by another purchase (grant 7), 40 still owed.
    const history = [{ grantMoves: [], debtDelta: 100 }];
    const state = account([grant(2, 'paid', 0), grant(7, 'paid', 40, { expiresAt: 50 })], 40);
    const back = decideTakeBackStep(state, -100, { kind: 'purchased', grant: 2 }, history, link, 1);
    const entry = back.entries[0];
    assert.equal(entry?.kind, 'debit_reversal');
    assert.equal(entry?.amount, 100);
    assert.equal(entry?.debtDelta, -40);
    const made = back.state.grants.find((g) => g.reference === link.reference);
    assert.deepEqual(
      [made?.category, made?.tokens, made?.remaining, made?.expiresAt, made?.priority, made?.source, made?.status],
      ['paid', 60, 60, null, 50, 'stripe', 'active'],
    );
    assert.deepEqual(entry?.grantMoves, [{ grant: made?.id, delta: 60 }]);
    assert.deepEqual([back.state.purchased, back.state.debt], [100, 0]);
  });

  it('what an earlier reversal gave back of the debt is not given back again', () => {
    // Took 60 from grant 2 and 40 as debt; a first reversal gave the 40 back as grant 9.
    const history = [
      { grantMoves: [{ grant: 2, delta: -60 }], debtDelta: 40 },
      { grantMoves: [{ grant: 9, delta: 40 }], debtDelta: 0 },
    ];
    const state = account([grant(2, 'paid', 0), grant(9, 'paid', 40, { tokens: 40 })]);
    const back = decideTakeBackStep(state, -60, { kind: 'purchased', grant: 2 }, history, link, 1);
    assert.deepEqual(back.entries[0]?.grantMoves, [{ grant: 2, delta: 60 }]);
    assert.ok(back.entries[0]?.debtDelta === 0);
    assert.equal(back.state.grants.length, 2);
  });

  it('a reversal returns nothing to a grant that expired or was voided since', () => {
    const history = [{ grantMoves: [{ grant: 2, delta: -10 }], debtDelta: 0 }];
    const voided = account([grant(2, 'paid', 0, { status: 'voided' })]);
    const back = decideTakeBackStep(voided, -10, { kind: 'purchased', grant: 2 }, history, link, 1);
    assert.deepEqual(back.entries[0]?.grantMoves, []);
    assert.equal(back.entries[0]?.amount, 0);
  });

  it('a zero step posts nothing', () => {
    assert.deepEqual(decideTakeBackStep(account([]), 0, { kind: 'purchased', grant: null }, [], link, 1).entries, []);
  });
});
