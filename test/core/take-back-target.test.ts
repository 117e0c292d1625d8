import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DISPUTE_STATUSES, type DisputeFact, mergeDispute } from '../../src/core/dispute-status.ts';
import { settledStatus, takeBackTarget } from '../../src/core/take-back-target.ts';

const dispute = fc.record({
  status: fc.constantFrom(...DISPUTE_STATUSES),
  amount: fc.integer({ min: 0, max: 20_000 }),
});
const facts = fc.record({
  tokens: fc.integer({ min: 0, max: 1_000_000 }),
  amount: fc.integer({ min: 1, max: 20_000 }),
  amountRefunded: fc.integer({ min: 0, max: 25_000 }),
  disputes: fc.array(dispute, { maxLength: 4 }),
});

describe('takeBackTarget', () => {
  it('the issue’s examples: $4 refunded and $1 disputed of $5 take all 100; a won dispute counts 0', () => {
    const base = { tokens: 100, amount: 500 };
    assert.equal(takeBackTarget({ ...base, amountRefunded: 400, disputes: [{ status: 'open', amount: 100 }] }), 100);
    assert.equal(takeBackTarget({ ...base, amountRefunded: 500, disputes: [{ status: 'won', amount: 500 }] }), 100);
    assert.equal(takeBackTarget({ ...base, amountRefunded: 0, disputes: [{ status: 'won', amount: 500 }] }), 0);
    assert.equal(takeBackTarget({ ...base, amountRefunded: 150, disputes: [] }), 30);
    assert.equal(takeBackTarget({ ...base, amountRefunded: 0, disputes: [{ status: 'lost', amount: 250 }] }), 50);
  });

  it('is bounded by the payment’s tokens and never negative', () => {
    fc.assert(
      fc.property(facts, (f) => {
        const t = takeBackTarget(f);
        assert.ok(Number.isSafeInteger(t));
        assert.ok(t >= 0 && t <= f.tokens, `${t} of ${f.tokens}`);
      }),
    );
  });

  it('is monotone in the refunded figure', () => {
    fc.assert(
      fc.property(facts, fc.integer({ min: 0, max: 25_000 }), (f, more) => {
        assert.ok(takeBackTarget({ ...f, amountRefunded: f.amountRefunded + more }) >= takeBackTarget(f));
      }),
    );
  });

  it('a won dispute counts 0: winning one never takes more, and equals not having it', () => {
    fc.assert(
      fc.property(facts, fc.integer({ min: 0, max: 20_000 }), (f, amount) => {
        const withWon = { ...f, disputes: [...f.disputes, { status: 'won' as const, amount }] };
        assert.equal(takeBackTarget(withWon), takeBackTarget(f));
        const withOpen = { ...f, disputes: [...f.disputes, { status: 'open' as const, amount }] };
        assert.ok(takeBackTarget(withOpen) >= takeBackTarget(withWon));
      }),
    );
  });

  it('a full refund takes everything; the status says disputed only while a dispute is open or lost', () => {
    fc.assert(
      fc.property(facts, (f) => {
        if (f.amountRefunded >= f.amount) assert.equal(takeBackTarget(f), f.tokens);
        const disputed = f.disputes.some((d) => d.status !== 'won');
        assert.equal(settledStatus(f) === 'disputed', disputed);
      }),
    );
  });
});

describe('mergeDispute', () => {
  it('merges facts in any order, with repeats, to the same latest state', () => {
    fc.assert(
      fc.property(
        fc
          .array(dispute, { minLength: 1, maxLength: 6 })
          .chain((seen) =>
            fc.tuple(
              fc.constant(seen),
              fc.shuffledSubarray([...seen, ...seen], { minLength: seen.length * 2, maxLength: seen.length * 2 }),
            ),
          ),
        ([seen, redelivered]) => {
          const merge = (xs: DisputeFact[]) => {
            const m = xs.reduce<DisputeFact | undefined>(mergeDispute, undefined);
            return m && { status: m.status, amount: m.amount };
          };
          assert.deepEqual(merge(redelivered), merge(seen));
        },
      ),
    );
  });

  it('a closed dispute never reopens', () => {
    assert.equal(mergeDispute({ status: 'won', amount: 500 }, { status: 'open', amount: 500 }).status, 'won');
    assert.equal(mergeDispute({ status: 'lost', amount: 500 }, { status: 'open', amount: 500 }).status, 'lost');
    assert.equal(mergeDispute({ status: 'open', amount: 500 }, { status: 'won', amount: 500 }).status, 'won');
  });
});
