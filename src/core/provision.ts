import { blankAccount } from './account-state.ts';
import type { Plan } from './catalog.ts';
import { type Posted, post } from './posting.ts';

/**
 * A never-seen account opens with its plan's allocation, recorded as an `opening_balance`
 * entry whose reference is the account itself, so the database allows only one.
 */
export function provision(id: string, plan: Plan, now: number): Posted {
  return post(
    blankAccount(id, plan.id, now),
    {
      kind: 'opening_balance',
      allocationDelta: plan.monthlyAllocation,
      purchasedDelta: 0,
      source: 'provision',
      reference: id,
    },
    now,
  );
}
