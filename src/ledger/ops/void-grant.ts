import { requireInt } from '../../core/amounts.ts';
import { TokenmeterError } from '../../core/errors.ts';
import type { Grant } from '../../core/grant.ts';
import { decideVoid } from '../../core/grant-void.ts';
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

/** An account's grants, newest first: the live ones, or every one with `includeInactive`. */
export async function listGrants(
  ctx: LedgerContext,
  account: string,
  options: { includeInactive?: boolean } = {},
): Promise<Grant[]> {
  return ctx.store.grants(account, { includeInactive: options.includeInactive === true });
}
