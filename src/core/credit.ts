import type { AccountState } from './account-state.ts';
import { grantMoveParts } from './grant-create.ts';
import { type Posted, post } from './posting.ts';

export type CreditKind = 'credit' | 'purchase';

/**
 * Adds tokens as a paid grant (never expiring unless `expiresAt`), which first pays any debt.
 * The grant is named by the entry's source and reference, so a refund finds its own purchase.
 */
export function decideCredit(
  state: AccountState,
  tokens: number,
  kind: CreditKind,
  link: { source: string; reference: string; reason: string | null; actor: string | null; feature?: string | null },
  now: number,
  expiresAt: number | null = null,
): Posted {
  const parts = grantMoveParts(
    state,
    {
      category: 'paid',
      tokens,
      expiresAt,
      source: link.source,
      reference: link.reference,
      reason: link.reason,
      actor: link.actor,
    },
    now,
    { paysDebt: true },
  );
  return post(state, { kind, ...parts, ...link }, now);
}
