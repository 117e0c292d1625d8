import type { AccountState } from './account-state.ts';
import { type Posted, post, splitCharge } from './posting.ts';

/**
 * An operator's correction by `delta` tokens. A negative one takes from the allocation
 * first, then purchased (which may go negative); a positive one adds to purchased, so a
 * correction never changes what next month's renewal grants or expires.
 */
export function decideAdjust(
  state: AccountState,
  delta: number,
  reason: string,
  actor: string,
  now: number,
  link: { source: string | null; reference: string | null } = { source: null, reference: null },
): Posted {
  const { fromAllocation, fromPurchased } =
    delta < 0 ? splitCharge(state, -delta) : { fromAllocation: 0, fromPurchased: -delta };
  return post(
    state,
    {
      kind: 'adjustment',
      allocationDelta: -fromAllocation,
      purchasedDelta: -fromPurchased,
      reason,
      actor,
      source: link.source,
      reference: link.reference,
    },
    now,
  );
}

/**
 * What an adjustment's idempotency key is bound to: the change asked for, the balance it was
 * expected against, and the reason. The same key with any of these different is a conflict, not
 * a silent replay. The actor is left out: a retry through another operator key is the same request.
 */
export function adjustFingerprint(request: {
  amount: number | null;
  setBalance: number | null;
  expectedBalance: number | null;
  reason: string;
}): string {
  return JSON.stringify([request.amount, request.setBalance, request.expectedBalance, request.reason]);
}
