import type { AccountState } from './account-state.ts';
import type { EntryDraft } from './entry.ts';
import type { Grant } from './grant.ts';
import { isPastExpiry } from './grant.ts';
import type { Posted } from './posting.ts';
import { post } from './posting.ts';

type Due = { at: number; grant: Grant; what: 'activate' | 'expire' };

/**
 * Brings the account's non-included grants up to `now`: a scheduled grant whose time has come
 * takes effect (a `grant` entry filling it; a paid one pays any debt first), and a grant whose
 * expiry has come loses what remains (a `grant_expiry` entry). Each is posted at the instant it
 * happened, oldest first, so whichever write comes first records it, exactly once, and a read
 * computes the same figures without writing.
 */
export function settleDueGrants(state: AccountState, now: number): Posted {
  const due: Due[] = [];
  for (const g of state.grants) {
    if (g.status === 'scheduled' && g.effectiveAt <= now) due.push({ at: g.effectiveAt, grant: g, what: 'activate' });
    if ((g.status === 'active' || g.status === 'scheduled') && isPastExpiry(g, now)) {
      due.push({ at: g.expiresAt ?? now, grant: g, what: 'expire' });
    }
  }
  if (due.length === 0) return { state, entries: [] };
  due.sort((a, b) => a.at - b.at || (a.what === b.what ? a.grant.id - b.grant.id : a.what === 'activate' ? -1 : 1));
  let current = state;
  const entries: EntryDraft[] = [];
  for (const d of due) {
    const g = current.grants.find((x) => x.id === d.grant.id) ?? d.grant;
    const step = d.what === 'activate' ? activate(current, g, d.at) : expire(current, g, d.at);
    current = step.state;
    entries.push(...step.entries);
  }
  return { state: { ...current, updatedAt: now }, entries };
}

function activate(state: AccountState, g: Grant, at: number): Posted {
  const paid = g.category === 'paid' ? Math.min(state.debt, g.tokens) : 0;
  return post(
    state,
    {
      kind: 'grant',
      grantMoves: [{ grant: g.id, delta: g.tokens - paid }],
      statuses: [{ grant: g.id, status: 'active' }],
      debtDelta: -paid,
      reason: g.reason,
      actor: g.actor,
    },
    at,
  );
}

function expire(state: AccountState, g: Grant, at: number): Posted {
  return post(
    state,
    {
      kind: 'grant_expiry',
      grantMoves: g.remaining > 0 ? [{ grant: g.id, delta: -g.remaining }] : [],
      statuses: [{ grant: g.id, status: 'expired' }],
    },
    at,
  );
}
