import type { AccountState } from './account-state.ts';
import { TokenmeterError } from './errors.ts';
import { displayStatus } from './grant.ts';
import { type Posted, post } from './posting.ts';

/**
 * Voids a grant (promotion abuse, a mistaken grant): what remains of it leaves the balance, with
 * the reason on record as a `grant_void` entry. Only a grant that is active (used up included)
 * or scheduled can be voided; the account's state must already be brought up to `now`.
 */
export function decideVoid(state: AccountState, grantId: number, reason: string, actor: string, now: number): Posted {
  const g = state.grants.find((x) => x.id === grantId);
  const status = g ? displayStatus(g, now) : null;
  if (!g || status === 'expired' || status === 'voided') {
    throw new TokenmeterError('invalid_request', `Grant ${grantId} is not active and cannot be voided`, 'id');
  }
  return post(
    state,
    {
      kind: 'grant_void',
      grantMoves: g.remaining > 0 ? [{ grant: g.id, delta: -g.remaining }] : [],
      statuses: [{ grant: g.id, status: 'voided' }],
      reason,
      actor,
    },
    now,
  );
}
