import { blankAccount } from './account-state.ts';
import type { Plan } from './catalog.ts';
import { nextBoundaryAfter } from './cycles.ts';
import type { GrantMove } from './grant.ts';
import { grantMoveParts } from './grant-create.ts';
import { type Posted, post } from './posting.ts';

/** The `source` of an imported account's opening_balance entry; its reference is the account id. */
export const IMPORT_SOURCE = 'import';

/**
 * How a legacy balance fills the two buckets: up to the plan's allocation in `allocation`
 * (it renews and expires like any cycle's), the rest in `purchased` (never expires). A
 * negative legacy balance is a debt.
 */
export function openingSplit(balance: number, plan: Plan): { allocation: number; purchased: number } {
  const allocation = Math.max(0, Math.min(balance, plan.monthlyAllocation));
  return { allocation, purchased: balance - allocation };
}

/**
 * A legacy account as it opens in tokenmeter: its balance recorded as an `opening_balance`
 * entry with source `import` and the account id as reference, so the database's UNIQUE
 * (kind, source, reference) index allows one import per account, ever. The allocation part is
 * an included grant ending with the cycle, the rest a paid grant, or a debt when negative.
 * The account held its plan's month in the legacy app, so the included grant is of the plan's
 * whole allocation and the entry takes back at once what the legacy balance no longer holds of
 * it: the cycle counts as having granted that allocation (`grantedInCycle`), and switching down
 * and back cannot grant it again. No sign-up bonus: the account is not new.
 */
export function openImported(
  input: { account: string; plan: Plan; balance: number; usedThisCycle: number; reason: string; actor: string },
  now: number,
): Posted {
  const { allocation, purchased } = openingSplit(input.balance, input.plan);
  const blank = blankAccount(input.account, input.plan.id, now);
  const included = grantMoveParts(
    blank,
    {
      category: 'included',
      tokens: input.plan.monthlyAllocation,
      expiresAt: nextBoundaryAfter(now, now),
      source: IMPORT_SOURCE,
      reference: input.account,
    },
    now,
    { paysDebt: false },
  );
  const withIncluded = { ...blank, grants: [...included.newGrants] };
  const paid = grantMoveParts(
    withIncluded,
    {
      category: 'paid',
      tokens: Math.max(purchased, 1),
      expiresAt: null,
      source: IMPORT_SOURCE,
      reference: `${input.account}:paid`,
    },
    now,
    { paysDebt: false },
  );
  const moves: GrantMove[] = [];
  const newGrants = [];
  const month = input.plan.monthlyAllocation;
  if (month > 0) {
    newGrants.push(...included.newGrants);
    // The month's allocation, then what the legacy app had already used of it.
    moves.push(...included.grantMoves);
    if (allocation < month)
      moves.push(...included.grantMoves.map((m) => ({ grant: m.grant, delta: allocation - month })));
  }
  if (purchased > 0) {
    newGrants.push(...paid.newGrants);
    moves.push(...paid.grantMoves);
  }
  const posted = post(
    blank,
    {
      kind: 'opening_balance',
      newGrants,
      grantMoves: moves,
      debtDelta: Math.max(0, -purchased),
      source: IMPORT_SOURCE,
      reference: input.account,
      reason: input.reason,
      actor: input.actor,
    },
    now,
  );
  return { state: { ...posted.state, usedThisCycle: input.usedThisCycle }, entries: posted.entries };
}
