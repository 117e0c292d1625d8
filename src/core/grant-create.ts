import type { AccountState } from './account-state.ts';
import { DEFAULT_PRIORITY, type Grant, type GrantCategory, nextDraftGrantId } from './grant.ts';
import type { Move } from './posting.ts';

/** What a new grant is: everything but what the ledger fills in (id, remaining, status, times). */
export interface GrantSpec {
  category: GrantCategory;
  tokens: number;
  priority?: number;
  effectiveAt?: number;
  expiresAt: number | null;
  source: string;
  /** Empty: the grant has no natural reference, and is referenced by its own id once written. */
  reference: string;
  reason?: string | null;
  actor?: string | null;
}

/** A reference the ledger replaces by `#<id>` once the grant has its stored id. */
export const BY_ID_REFERENCE = '';

/** A new grant of `spec` on `state`'s account, with a draft id and nothing remaining yet. */
function draftGrant(state: AccountState, spec: GrantSpec, now: number): Grant {
  const effectiveAt = spec.effectiveAt ?? now;
  return {
    id: nextDraftGrantId(state.grants),
    account: state.id,
    category: spec.category,
    tokens: spec.tokens,
    remaining: 0,
    priority: spec.priority ?? DEFAULT_PRIORITY,
    effectiveAt,
    expiresAt: spec.expiresAt,
    source: spec.source,
    reference: spec.reference,
    status: effectiveAt > now ? 'scheduled' : 'active',
    reason: spec.reason ?? null,
    actor: spec.actor ?? null,
    createdAt: now,
    closedAt: null,
  };
}

/**
 * The parts of a move that create a grant and fill it. A grant in effect now is filled at
 * once; one effective later is written as scheduled and filled when it takes effect
 * (`grant-schedule.ts`). With `paysDebt` (paid grants: purchases, credits, positive
 * corrections), the new tokens pay the account's debt first, and only the rest stays on the
 * grant: included and promotional grants never pay a debt, they net against it in the balance.
 */
export function grantMoveParts(
  state: AccountState,
  spec: GrantSpec,
  now: number,
  options: { paysDebt: boolean },
): GrantParts {
  const grant = draftGrant(state, spec, now);
  if (grant.status === 'scheduled') return { newGrants: [grant], grantMoves: [], debtDelta: 0 };
  const paid = options.paysDebt ? Math.min(state.debt, spec.tokens) : 0;
  return { newGrants: [grant], grantMoves: [{ grant: grant.id, delta: spec.tokens - paid }], debtDelta: -paid };
}

/** The parts of a move that create one grant (its draft is `newGrants[0]`). */
export type GrantParts = Required<Pick<Move, 'newGrants' | 'grantMoves' | 'debtDelta'>>;
