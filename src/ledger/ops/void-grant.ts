import { requireInt } from '../../core/amounts.ts';
import { findPlan } from '../../core/catalog.ts';
import { TokenmeterError } from '../../core/errors.ts';
import { type Grant, isPastExpiry } from '../../core/grant.ts';
import { decideVoid } from '../../core/grant-void.ts';
import { currentView } from '../../core/renewal.ts';
import type { LedgerContext } from '../context.ts';
import { requireText } from '../inputs.ts';
import { WorkingAccount } from '../working-account.ts';

/** Voids a grant: what remains of it leaves the balance, as a `grant_void` entry with the reason. */
export async function voidGrant(
  ctx: LedgerContext,
  input: { id: number; reason: string; actor: string },
): Promise<Grant> {
  const id = requireInt('id', input.id, 1, Number.MAX_SAFE_INTEGER);
  const reason = requireText('reason', input.reason, 500);
  const actor = requireText('actor', input.actor, 200);
  const found = await ctx.store.getGrant(id);
  if (!found) throw new TokenmeterError('invalid_request', `id: no grant ${id}`, 'id');
  return ctx.store.write(async (tx) => {
    const now = ctx.clock.now();
    const working = await WorkingAccount.load(tx, found.account, ctx.catalog, now);
    await working.loadGrants(tx, [id]);
    working.apply(decideVoid(working.state, id, reason, actor, now));
    await working.flush(tx, 'exempt');
    const voided = working.state.grants.find((g) => g.id === id);
    if (!voided) throw new Error(`grant ${id} vanished while voided`);
    return voided;
  });
}

/**
 * An account's grants, newest first: the live ones, or every one with `includeInactive`. As of
 * now, like a balance read: a start, an expiry or a renewal that fell due shows at once (its
 * grant's remaining and status as the next write will record them), nothing is written. A grant
 * no write has stored yet (a due renewal's) has an id below zero.
 */
export async function listGrants(
  ctx: LedgerContext,
  account: string,
  options: { includeInactive?: boolean } = {},
): Promise<Grant[]> {
  const includeInactive = options.includeInactive === true;
  const [stored, listed] = await Promise.all([
    ctx.store.getAccount(account),
    ctx.store.grants(account, { includeInactive }),
  ]);
  if (!stored) return listed;
  const now = ctx.clock.now();
  const current = new Map<number, Grant>();
  for (const g of currentView(stored, findPlan(ctx.catalog, stored.plan), now).grants) current.set(g.id, g);
  // Grants a write does not load (used up, not included) are shown expired once their time has
  // come: they hold nothing, so no entry records it.
  const shown = listed.map((g) => current.get(g.id) ?? asOf(g, now));
  const live = (g: Grant) =>
    g.status === 'scheduled' || (g.status === 'active' && (g.remaining > 0 || g.category === 'included'));
  // A renewal due now makes a grant no write has stored yet: listed first (the newest), with a
  // draft id below zero, as the balance shows it (with no id) until a write stores it.
  const fresh = [...current.values()].filter((g) => g.id < 0).reverse();
  return [...fresh, ...shown].filter((g) => includeInactive || live(g));
}

/** A stored grant as of `now`: an active one past its expiry is expired (it holds nothing). */
function asOf(g: Grant, now: number): Grant {
  return g.status === 'active' && isPastExpiry(g, now) ? { ...g, status: 'expired', closedAt: g.expiresAt } : g;
}
