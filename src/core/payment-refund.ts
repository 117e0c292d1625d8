import type { AccountState } from './account-state.ts';
import { decideCredit } from './credit.ts';
import { type Posted, post } from './posting.ts';

/**
 * Where a payment's tokens went: purchased tokens for a top-up; the allocation bucket for a
 * subscription period's grant (taken from it as far as it goes, the rest from purchased).
 */
export type TakeBackFrom = 'purchased' | 'allocation';

/**
 * Moves an account from what was taken back for a payment to its new target: a positive step
 * is a `payment_refund`, a negative one (a dispute won) gives tokens back as a
 * `debit_reversal` into purchased tokens. The balance may go negative: the tokens were spent
 * before the money went back, and a negative balance disables features.
 */
export function decideTakeBackStep(
  state: AccountState,
  step: number,
  from: TakeBackFrom,
  link: { source: string; reference: string; reason: string },
  now: number,
): Posted {
  if (step === 0) return { state, entries: [] };
  if (step < 0) return decideCredit(state, -step, 'debit_reversal', { ...link, actor: null }, now);
  // The allocation bucket may never go negative (a CHECK): what it lacks comes from purchased.
  const fromAllocation = from === 'allocation' ? Math.min(Math.max(state.allocation, 0), step) : 0;
  return post(
    state,
    { kind: 'payment_refund', allocationDelta: -fromAllocation, purchasedDelta: -(step - fromAllocation), ...link },
    now,
  );
}
