import { type AccountState, availableOf, balanceOf } from './account-state.ts';
import type { Feature } from './catalog.ts';
import { chargeMoves } from './grant-draws.ts';
import { refusalMessage } from './messages.ts';
import { type Posted, post } from './posting.ts';

export interface InsufficientTokens {
  ok: false;
  code: 'insufficient_tokens';
  message: string;
  cost: number;
  balance: number;
  available: number;
}

export type DeductDecision = ({ ok: true; cost: number; balanceBefore: number } & Posted) | InsufficientTokens;

/** Prices a use of a feature; exact because both factors are bounded safe integers. */
export function costOf(feature: Feature, quantity: number): number {
  return feature.cost * quantity;
}

/** Refuses when the available balance cannot pay, else draws the cost from the grants in burn order. */
export function decideDeduct(
  state: AccountState,
  feature: Feature,
  quantity: number,
  idempotencyKey: string | null,
  now: number,
): DeductDecision {
  const cost = costOf(feature, quantity);
  const refusal = refuse(state, cost);
  if (refusal) return refusal;
  const posted = post(
    state,
    {
      kind: 'debit',
      ...chargeMoves(state, cost, now),
      feature: feature.id,
      quantity,
      idempotencyKey,
    },
    now,
  );
  posted.state.usedThisCycle += cost;
  return { ok: true, cost, balanceBefore: balanceOf(state), ...posted };
}

/** The refusal for spending `cost` now, or null when the account can afford it. */
export function refuse(state: AccountState, cost: number): InsufficientTokens | null {
  const available = availableOf(state);
  const message = refusalMessage(cost, available);
  if (message === null) return null;
  return { ok: false, code: 'insufficient_tokens', message, cost, balance: balanceOf(state), available };
}
