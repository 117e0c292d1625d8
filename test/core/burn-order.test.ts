// A deduction finds the first grant in burn order in one pass (`firstInBurnOrder`) and draws
// from it alone when it covers the cost; the one pass must find what the sort puts first, and
// a charge must draw exactly what drawing down the sorted list would.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { type AccountState, includedEndsAt } from '../../src/core/account-state.ts';
import { burnOrder, firstInBurnOrder } from '../../src/core/burn-order.ts';
import type { Grant } from '../../src/core/grant.ts';
import { GRANT_CATEGORIES, GRANT_STATUSES } from '../../src/core/grant.ts';
import { chargeMoves } from '../../src/core/grant-draws.ts';

const NOW = 1_000_000;

const grantArb = fc.record({
  id: fc.integer({ min: -5, max: 40 }).filter((id) => id !== 0),
  category: fc.constantFrom(...GRANT_CATEGORIES),
  tokens: fc.constant(50),
  remaining: fc.integer({ min: 0, max: 50 }),
  priority: fc.constantFrom(0, 50, 50, 100),
  expiresAt: fc.option(fc.constantFrom(NOW - 1, NOW + 10, NOW + 10, NOW + 20), { nil: null }),
  status: fc.constantFrom(...GRANT_STATUSES, 'active', 'active'),
  createdAt: fc.constantFrom(1, 2, 2, 3),
});

const grantsArb = fc.uniqueArray(grantArb, { selector: (g) => g.id, maxLength: 8 }).map((gs) =>
  gs.map(
    (g): Grant => ({
      ...g,
      account: 'a',
      effectiveAt: 0,
      source: 'test',
      reference: `#${g.id}`,
      reason: null,
      actor: null,
      closedAt: null,
    }),
  ),
);

const endsArb = fc.option(fc.constantFrom(NOW + 10, NOW + 15), { nil: null });

/** A charge drawn down the whole sorted list, as `chargeMoves` did before its one-pass shortcut. */
function drawnBySorting(grants: readonly Grant[], amount: number, endsAt: number | null) {
  const moves: { grant: number; delta: number }[] = [];
  let left = amount;
  for (const g of burnOrder(grants, NOW, endsAt)) {
    if (left === 0) break;
    const take = Math.min(g.remaining, left);
    moves.push({ grant: g.id, delta: -take });
    left -= take;
  }
  return { grantMoves: moves, debtDelta: left };
}

describe('burn order', () => {
  it('the one-pass first grant is the sorted order first, within any category filter', () => {
    fc.assert(
      fc.property(grantsArb, endsArb, fc.subarray([...GRANT_CATEGORIES]), (grants, endsAt, categories) => {
        const accept = (g: Grant) => categories.includes(g.category);
        const sorted = burnOrder(grants, NOW, endsAt).filter(accept);
        assert.equal(firstInBurnOrder(grants, NOW, endsAt, accept), sorted[0] ?? null);
      }),
      { numRuns: 2000 },
    );
  });

  it('a charge draws what drawing down the sorted grants draws, whether the first covers it or not', () => {
    fc.assert(
      fc.property(grantsArb, fc.integer({ min: 0, max: 120 }), fc.boolean(), (grants, amount, lazy) => {
        const state = {
          grants,
          cycleDriver: lazy ? 'lazy' : 'subscription',
          cycleAnchor: 0,
          cycleStart: 0,
        } as unknown as AccountState;
        assert.deepEqual(chargeMoves(state, amount, NOW), drawnBySorting(grants, amount, includedEndsAt(state)));
      }),
      { numRuns: 2000 },
    );
  });
});
