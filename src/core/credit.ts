import type { AccountState } from './account-state.ts';
import { type Posted, post } from './posting.ts';

export type CreditKind = 'credit' | 'purchase' | 'debit_reversal';

/** Adds tokens to the purchased bucket, which never expires. */
export function decideCredit(
  state: AccountState,
  tokens: number,
  kind: CreditKind,
  link: { source: string; reference: string; reason: string | null; actor: string | null; feature?: string | null },
  now: number,
): Posted {
  return post(state, { kind, allocationDelta: 0, purchasedDelta: tokens, ...link }, now);
}
