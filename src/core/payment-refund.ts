import type { AccountState } from './account-state.ts';
import type { EntryKind } from './entry.ts';
import { type GrantMove, isPastExpiry } from './grant.ts';
import { type GrantParts, grantMoveParts } from './grant-create.ts';
import { chargeMoves } from './grant-draws.ts';
import { type Move, type Posted, post } from './posting.ts';

/**
 * Where a payment's tokens went: a top-up's paid grant, or a subscription period's included
 * grant (`grant` is null when it was never written, or is no longer held).
 */
export interface TakeBackFrom {
  kind: 'purchased' | 'allocation';
  grant: number | null;
}

/** The kinds of a payment's take-back steps: what a refund or dispute takes, and what a dispute won returns. */
export const TAKE_BACK_KINDS = ['payment_refund', 'debit_reversal'] as const satisfies readonly EntryKind[];

/** Whether an entry is one of a payment's take-back steps (by kind; its reference names the payment). */
export function isTakeBack(entry: { kind: EntryKind }): boolean {
  return (TAKE_BACK_KINDS as readonly EntryKind[]).includes(entry.kind);
}

/** What the payment's earlier take-back steps moved: their grant moves and debt changes. */
export type TakeBackHistory = readonly { grantMoves: readonly GrantMove[]; debtDelta: number }[];

/**
 * Moves an account from what was taken back for a payment to its new target. A positive step
 * is a `payment_refund`: from the payment's own grant first, then (a top-up) other paid grants
 * or (a subscription period) other included, then paid grants, in burn order; what they lack
 * is a debt. A refund never touches promotional grants, and a top-up's never touches included
 * ones. A negative step (a dispute won) is a `debit_reversal`: it first gives back the debt the
 * payment's take-backs made, whether still owed or paid since, then returns tokens to the grants
 * they came from, unless those have expired or been voided since.
 */
export function decideTakeBackStep(
  state: AccountState,
  step: number,
  from: TakeBackFrom,
  history: TakeBackHistory,
  link: { source: string; reference: string; reason: string },
  now: number,
): Posted {
  if (step === 0) return { state, entries: [] };
  if (step < 0)
    return post(state, { kind: 'debit_reversal', ...reversalMoves(state, -step, history, link, now), ...link }, now);
  const categories = from.kind === 'purchased' ? (['paid'] as const) : (['included', 'paid'] as const);
  return post(
    state,
    { kind: 'payment_refund', ...chargeMoves(state, step, now, { categories, first: from.grant }), ...link },
    now,
  );
}

/**
 * What the payment's earlier steps left to give back: the debt they made (less what reversals
 * gave back of it), and per grant the tokens taken from it and not yet returned. A reversal's
 * move onto a grant nothing was taken from is debt given back as a new grant.
 */
function outstanding(history: TakeBackHistory): { debt: number; taken: Map<number, number> } {
  let debt = 0;
  const taken = new Map<number, number>();
  for (const step of history) {
    debt += step.debtDelta;
    for (const m of step.grantMoves) {
      const net = taken.get(m.grant) ?? 0;
      if (m.delta < 0) taken.set(m.grant, net - m.delta);
      else {
        const back = Math.min(net, m.delta);
        if (back > 0) taken.set(m.grant, net - back);
        debt -= m.delta - back;
      }
    }
  }
  return { debt: Math.max(0, debt), taken };
}

/**
 * A reversal of `tokens`. The debt part comes back first, as a paid grant would: it cancels
 * what is still owed, and what was paid since (by a purchase or a correction) becomes a
 * never-expiring paid grant named by the step, so the tokens that paid it are not lost. The
 * rest goes back to the grants it was taken from; what was taken from a grant that has since
 * expired or been voided is not returned (it would be gone either way).
 */
function reversalMoves(
  state: AccountState,
  tokens: number,
  history: TakeBackHistory,
  link: { source: string; reference: string; reason: string },
  now: number,
): Pick<Move, 'grantMoves' | 'newGrants' | 'debtDelta'> {
  const owed = outstanding(history);
  const debtPart = Math.min(tokens, owed.debt);
  const cancel = Math.min(debtPart, state.debt);
  const repaid = debtPart - cancel;
  const parts: GrantParts =
    repaid > 0
      ? grantMoveParts(state, { category: 'paid', tokens: repaid, expiresAt: null, ...link }, now, { paysDebt: false })
      : { newGrants: [], grantMoves: [], debtDelta: 0 };
  let left = tokens - debtPart;
  const grantMoves: GrantMove[] = [...parts.grantMoves];
  for (const [id, net] of owed.taken) {
    if (left === 0) break;
    const g = state.grants.find((x) => x.id === id);
    if (g?.status !== 'active' || isPastExpiry(g, now) || net <= 0) continue;
    const back = Math.min(net, left, g.tokens - g.remaining);
    if (back <= 0) continue;
    grantMoves.push({ grant: id, delta: back });
    left -= back;
  }
  return { newGrants: parts.newGrants, grantMoves, debtDelta: -cancel };
}
