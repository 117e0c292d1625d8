import { type AccountState, includedEndsAt } from './account-state.ts';
import { burnOrder, firstInBurnOrder } from './burn-order.ts';
import type { Grant, GrantCategory, GrantMove } from './grant.ts';

/** Which grants a draw may take from, and the one it takes from first. */
export interface DrawScope {
  /** Default: every category. */
  categories?: readonly GrantCategory[];
  /** A grant drawn before all others (a refund's own purchase, a period's own allocation). */
  first?: number | null;
}

/** What a draw takes from each grant, and what the grants could not cover. */
interface Draw {
  moves: GrantMove[];
  short: number;
}

/**
 * Draws up to `amount` from the account's spendable grants in burn order (see
 * `burn-order.ts`), within `scope`. Pure: the caller posts the moves.
 */
function drawGrants(state: AccountState, amount: number, now: number, scope: DrawScope = {}): Draw {
  const endsAt = includedEndsAt(state);
  const inScope = (g: Grant) => scope.categories === undefined || scope.categories.includes(g.category);
  const first = scope.first ?? null;
  // The common case, a deduction the first grant in order covers: one pass, no sort.
  if (first === null) {
    const head = firstInBurnOrder(state.grants, now, endsAt, inScope);
    if (head === null) return { moves: [], short: amount };
    if (head.remaining >= amount) return { moves: amount === 0 ? [] : [{ grant: head.id, delta: -amount }], short: 0 };
  }
  const order = burnOrder(state.grants, now, endsAt).filter(inScope);
  if (first !== null) {
    const at = order.findIndex((g) => g.id === first);
    if (at > 0) order.unshift(...order.splice(at, 1));
  }
  const moves: GrantMove[] = [];
  let left = amount;
  for (const g of order) {
    if (left === 0) break;
    const take = Math.min(g.remaining, left);
    moves.push({ grant: g.id, delta: -take });
    left -= take;
  }
  return { moves, short: left };
}

/**
 * A charge of `amount`: drawn from grants in burn order; what they lack becomes debt. Only an
 * exempt operation may leave a debt: a guarded one was refused before it got here when the
 * available balance could not pay, and the store's guard refuses it again if it somehow could not.
 */
export function chargeMoves(
  state: AccountState,
  amount: number,
  now: number,
  scope: DrawScope = {},
): {
  grantMoves: GrantMove[];
  debtDelta: number;
} {
  const draw = drawGrants(state, amount, now, scope);
  return { grantMoves: draw.moves, debtDelta: draw.short };
}
