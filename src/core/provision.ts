import { blankAccount } from './account-state.ts';
import type { Plan } from './catalog.ts';
import { nextBoundaryAfter } from './cycles.ts';
import { grantMoveParts } from './grant-create.ts';
import { type Posted, postAll } from './posting.ts';

const DAY_MS = 86_400_000;

/** The reference of an account's sign-up bonus: one per account, ever. */
function signupReference(account: string): string {
  return `signup:${account}`;
}

/**
 * A never-seen account opens with its plan's allocation as an included grant, recorded as an
 * `opening_balance` entry whose reference is the account itself, so the database allows only
 * one; a plan with a sign-up bonus adds it as a promotional grant (a `grant` entry).
 */
export function provision(id: string, plan: Plan, now: number): Posted {
  const blank = blankAccount(id, plan.id, now);
  const ref = { source: 'provision', reference: id };
  const opening = grantMoveParts(
    blank,
    { category: 'included', tokens: plan.monthlyAllocation, expiresAt: nextBoundaryAfter(now, now), ...ref },
    now,
    { paysDebt: false },
  );
  const bonus = plan.signupBonus;
  const opened = postAll(
    blank,
    [{ kind: 'opening_balance', ...(plan.monthlyAllocation > 0 ? opening : {}), ...ref }],
    now,
  );
  if (!bonus) return opened;
  const grant = grantMoveParts(
    opened.state,
    {
      category: 'promotional',
      tokens: bonus.tokens,
      expiresAt: bonus.expiresInDays === null ? null : now + bonus.expiresInDays * DAY_MS,
      source: 'signup',
      reference: signupReference(id),
      reason: 'Sign-up bonus',
      actor: 'system',
    },
    now,
    { paysDebt: false },
  );
  const bonusPosted = postAll(
    opened.state,
    [{ kind: 'grant', ...grant, reason: 'Sign-up bonus', actor: 'system' }],
    now,
  );
  return { state: bonusPosted.state, entries: [...opened.entries, ...bonusPosted.entries] };
}
