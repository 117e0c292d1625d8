import { blankAccount } from './account-state.ts';
import type { Plan } from './catalog.ts';
import { type Posted, post } from './posting.ts';

/** The `source` of an imported account's opening_balance entry; its reference is the account id. */
export const IMPORT_SOURCE = 'import';

/**
 * How a legacy balance fills the two buckets: up to the plan's allocation in `allocation`
 * (it renews and expires like any cycle's), the rest in `purchased` (never expires). A
 * negative legacy balance is a debt and goes to `purchased`, since allocation is never negative.
 */
export function openingSplit(balance: number, plan: Plan): { allocation: number; purchased: number } {
  const allocation = Math.max(0, Math.min(balance, plan.monthlyAllocation));
  return { allocation, purchased: balance - allocation };
}

/**
 * A legacy account as it opens in tokenmeter: its balance recorded as an `opening_balance`
 * entry with source `import` and the account id as reference, so the database's UNIQUE
 * (kind, source, reference) index allows one import per account, ever.
 */
export function openImported(
  input: { account: string; plan: Plan; balance: number; usedThisCycle: number; reason: string; actor: string },
  now: number,
): Posted {
  const { allocation, purchased } = openingSplit(input.balance, input.plan);
  const posted = post(
    blankAccount(input.account, input.plan.id, now),
    {
      kind: 'opening_balance',
      allocationDelta: allocation,
      purchasedDelta: purchased,
      source: IMPORT_SOURCE,
      reference: input.account,
      reason: input.reason,
      actor: input.actor,
    },
    now,
  );
  return { state: { ...posted.state, usedThisCycle: input.usedThisCycle }, entries: posted.entries };
}
