import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { blankAccount } from '../../src/core/account-state.ts';
import { decideTakeBackStep } from '../../src/core/payment-refund.ts';

const link = { source: 'stripe', reference: 'pi_1:evt_1', reason: 'test' };
const account = (allocation: number, purchased: number) => ({
  ...blankAccount('u1', 'free', 0),
  allocation,
  purchased,
});

describe('decideTakeBackStep', () => {
  it('a top-up step takes purchased tokens, and may leave them negative', () => {
    const r = decideTakeBackStep(account(50, 10), 30, 'purchased', link, 1);
    assert.equal(r.state.purchased, -20);
    assert.equal(r.state.allocation, 50);
    assert.equal(r.entries[0]?.kind, 'payment_refund');
    assert.equal(r.entries[0]?.amount, -30);
  });

  it('a period grant step takes from the allocation as far as it goes, the rest from purchased', () => {
    const r = decideTakeBackStep(account(20, 100), 50, 'allocation', link, 1);
    assert.equal(r.state.allocation, 0);
    assert.equal(r.state.purchased, 70);
    assert.equal(r.entries[0]?.allocationDelta, -20);
    assert.equal(r.entries[0]?.purchasedDelta, -30);
  });

  it('a negative step gives tokens back as a debit_reversal; a zero step posts nothing', () => {
    const back = decideTakeBackStep(account(0, -40), -25, 'purchased', link, 1);
    assert.equal(back.state.purchased, -15);
    assert.equal(back.entries[0]?.kind, 'debit_reversal');
    assert.equal(back.entries[0]?.amount, 25);
    assert.deepEqual(decideTakeBackStep(account(5, 5), 0, 'purchased', link, 1).entries, []);
  });
});
