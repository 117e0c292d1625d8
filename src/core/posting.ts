import type { AccountState } from './account-state.ts';
import type { EntryDraft, EntryKind } from './entry.ts';
import type { Grant, GrantMove, GrantStatus } from './grant.ts';

/**
 * What a posting moves and why. Tokens live in grants: `grantMoves` changes their remaining
 * (signed), `newGrants` are created by this move (with nothing remaining until a move adds it),
 * `statuses` close or open grants, and `debtDelta` changes the account's debt.
 */
export interface Move {
  kind: EntryKind;
  grantMoves?: readonly GrantMove[];
  newGrants?: readonly Grant[];
  statuses?: readonly { grant: number; status: GrantStatus }[];
  debtDelta?: number;
  feature?: string | null;
  quantity?: number | null;
  idempotencyKey?: string | null;
  source?: string | null;
  reference?: string | null;
  reason?: string | null;
  actor?: string | null;
  poolId?: string | null;
  memberId?: string | null;
  pooled?: number;
}

/** A state with the entries that explain how it was reached. */
export interface Posted {
  state: AccountState;
  entries: EntryDraft[];
}

/**
 * Applies one move to an account and writes the entry that records it, so a grant, a bucket
 * sum or the debt can only change together with the entry explaining the change. A move that
 * would take a grant outside 0..tokens, or name a grant the account does not hold, is a bug
 * in the decision that made it: it throws, and nothing is written.
 */
export function post(state: AccountState, move: Move, at: number): Posted {
  // A copy changed in place, found by a scan: an account holds a handful of grants, and this
  // runs for every operation.
  const grants = state.grants.slice();
  const find = (id: number) => grants.findIndex((g) => g.id === id);
  for (const g of move.newGrants ?? []) {
    if (find(g.id) >= 0) throw new Error(`grant ${g.id} already exists on ${state.id}`);
    grants.push({ ...g, remaining: 0 });
  }
  const deltas = { included: 0, paid: 0, promotional: 0 };
  const moves: GrantMove[] = [];
  for (const m of move.grantMoves ?? []) {
    if (m.delta === 0) continue;
    const i = find(m.grant);
    const g = grants[i];
    if (!g) throw new Error(`move names grant ${m.grant}, which ${state.id} does not hold`);
    const remaining = g.remaining + m.delta;
    if (!Number.isSafeInteger(remaining) || remaining < 0 || remaining > g.tokens) {
      throw new Error(`move of ${m.delta} takes grant ${g.id} outside 0..${g.tokens}`);
    }
    grants[i] = { ...g, remaining };
    deltas[g.category] += m.delta;
    moves.push({ grant: m.grant, delta: m.delta });
  }
  for (const s of move.statuses ?? []) {
    const i = find(s.grant);
    const g = grants[i];
    if (!g) throw new Error(`status change names grant ${s.grant}, which ${state.id} does not hold`);
    const closing = s.status === 'expired' || s.status === 'voided';
    grants[i] = { ...g, status: s.status, closedAt: closing ? at : g.closedAt };
  }
  const debtDelta = move.debtDelta ?? 0;
  const next: AccountState = {
    ...state,
    grants,
    allocation: state.allocation + deltas.included,
    purchased: state.purchased + deltas.paid,
    promotional: state.promotional + deltas.promotional,
    debt: state.debt + debtDelta,
    updatedAt: at,
  };
  if (next.debt < 0) throw new Error(`move leaves ${state.id} a negative debt`);
  const entry: EntryDraft = {
    account: state.id,
    kind: move.kind,
    amount: deltas.included + deltas.paid + deltas.promotional - debtDelta,
    allocationDelta: deltas.included,
    purchasedDelta: deltas.paid,
    promotionalDelta: deltas.promotional,
    debtDelta,
    grantMoves: moves,
    balanceAfter: next.allocation + next.purchased + next.promotional - next.debt,
    feature: move.feature ?? null,
    quantity: move.quantity ?? null,
    idempotencyKey: move.idempotencyKey ?? null,
    source: move.source ?? null,
    reference: move.reference ?? null,
    reason: move.reason ?? null,
    actor: move.actor ?? null,
    at,
    heldAfter: next.held,
    poolId: move.poolId ?? null,
    memberId: move.memberId ?? null,
    pooled: move.pooled ?? 0,
  };
  return { state: next, entries: [entry] };
}

/** Chains postings: the entries of each step follow those of the one before. */
export function postAll(start: AccountState, moves: readonly Move[], at: number): Posted {
  let state = start;
  const entries: EntryDraft[] = [];
  for (const move of moves) {
    const step = post(state, move, at);
    state = step.state;
    entries.push(...step.entries);
  }
  return { state, entries };
}
