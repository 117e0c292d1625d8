import type { AccountState } from './account-state.ts';
import { BY_ID_REFERENCE, grantMoveParts } from './grant-create.ts';
import { chargeMoves } from './grant-draws.ts';
import { type Move, type Posted, post } from './posting.ts';

/** The source of the paid grant a positive correction creates. */
const ADJUSTMENT_SOURCE = 'adjustment';

/**
 * An operator's correction by `delta` tokens. A negative one draws from the grants in burn
 * order and leaves what they lack as a debt; a positive one pays any debt first and puts the
 * rest in a never-expiring paid grant, so a correction never changes what next month's renewal
 * grants or expires.
 */
export function decideAdjust(
  state: AccountState,
  delta: number,
  reason: string,
  actor: string,
  now: number,
  link: { source: string | null; reference: string | null } = { source: null, reference: null },
): Posted {
  return post(
    state,
    {
      kind: 'adjustment',
      ...adjustmentMoves(state, delta, reason, actor, now, link.reference),
      reason,
      actor,
      source: link.source,
      reference: link.reference,
    },
    now,
  );
}

function adjustmentMoves(
  state: AccountState,
  delta: number,
  reason: string,
  actor: string,
  now: number,
  reference: string | null,
): Pick<Move, 'grantMoves' | 'newGrants' | 'debtDelta'> {
  if (delta < 0) return chargeMoves(state, -delta, now);
  const paid = Math.min(state.debt, delta);
  if (paid === delta) return { debtDelta: -paid };
  return grantMoveParts(
    state,
    {
      category: 'paid',
      tokens: delta,
      expiresAt: null,
      source: ADJUSTMENT_SOURCE,
      reference: reference ?? BY_ID_REFERENCE,
      reason,
      actor,
    },
    now,
    { paysDebt: true },
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
