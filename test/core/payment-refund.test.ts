import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { tokensToTakeBack } from '../../src/core/payment-refund.ts';

describe('tokensToTakeBack', () => {
  it('takes the refunded share, less what earlier refunds took', () => {
    const basis = { tokens: 100, amount: 500, tokensTakenBack: 0 };
    assert.equal(tokensToTakeBack(basis, 150), 30);
    assert.equal(tokensToTakeBack({ ...basis, tokensTakenBack: 30 }, 400), 50);
    assert.equal(tokensToTakeBack({ ...basis, tokensTakenBack: 80 }, 500), 20);
  });

  it('a late, smaller cumulative report takes nothing; more than was paid takes at most everything', () => {
    assert.equal(tokensToTakeBack({ tokens: 100, amount: 500, tokensTakenBack: 50 }, 100), 0);
    assert.equal(tokensToTakeBack({ tokens: 100, amount: 500, tokensTakenBack: 0 }, 9999), 100);
  });

  it('any sequence of cumulative refunds takes exactly floor(tokens × max refunded / amount)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.array(fc.integer({ min: 0, max: 100_000 }), { maxLength: 8 }),
        (tokens, amount, reports) => {
          let taken = 0;
          let max = 0;
          for (const r of reports) {
            const refunded = Math.min(r, amount);
            if (refunded <= max) continue;
            taken += tokensToTakeBack({ tokens, amount, tokensTakenBack: taken }, refunded);
            max = refunded;
          }
          assert.equal(taken, Math.floor((tokens * max) / amount));
        },
      ),
    );
  });
});
