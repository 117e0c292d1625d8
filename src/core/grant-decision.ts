import type { AccountState } from './account-state.ts';
import type { Grant } from './grant.ts';
import { type GrantSpec, grantMoveParts } from './grant-create.ts';
import { type Posted, post } from './posting.ts';

/**
 * A grant made by a caller (`ledger.grant`): a `grant` entry records it with its reason and
 * actor. A paid grant pays any debt first; a promotional one never does. One effective later is
 * written as scheduled now (an entry of 0 tokens keeps the reason on record) and filled when
 * it takes effect.
 */
export function decideGrant(state: AccountState, spec: GrantSpec, now: number): Posted & { grant: Grant } {
  const parts = grantMoveParts(state, spec, now, { paysDebt: spec.category === 'paid' });
  const posted = post(state, { kind: 'grant', ...parts, reason: spec.reason ?? null, actor: spec.actor ?? null }, now);
  const draft = parts.newGrants[0];
  const grant = posted.state.grants.find((g) => g.id === draft?.id);
  if (!grant) throw new Error('the new grant is missing from the state it was posted to');
  return { ...posted, grant };
}
