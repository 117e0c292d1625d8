import { isoUtc } from '../../core/cycles.ts';
import type { LedgerContext } from '../context.ts';
import { WorkingAccount } from '../working-account.ts';

/**
 * Records what fell due on an account by the clock (renewals, grants starting and expiring, holds
 * expiring) without waiting for its next write, so the events it causes are not late. Changes no
 * figure a read would not already show; an unknown account is left alone. True if it wrote.
 */
export async function catchUp(ctx: LedgerContext, account: string): Promise<boolean> {
  return ctx.store.write(async (tx) => {
    const working = await WorkingAccount.load(tx, account, ctx.catalog, ctx.clock.now());
    if (working.provisioned || !working.changed) return false;
    await working.flush(tx, 'no_overdraft');
    return true;
  });
}

/**
 * Announces `grant.expiring` for each of the account's grants (not a plan's allocation, which
 * `cycle.renewed` announces) that still holds tokens and expires within `noticeMs`: once per
 * grant, whatever the number of processes asking (the event's dedupe key is unique).
 */
export async function remindExpiring(ctx: LedgerContext, account: string, noticeMs: number): Promise<number> {
  return ctx.store.write(async (tx) => {
    const now = ctx.clock.now();
    const working = await WorkingAccount.load(tx, account, ctx.catalog, now);
    if (working.provisioned) return 0;
    const soon = working.state.grants.filter(
      (g) =>
        g.category !== 'included' &&
        g.status === 'active' &&
        g.remaining > 0 &&
        g.expiresAt !== null &&
        g.expiresAt > now &&
        g.expiresAt <= now + noticeMs,
    );
    for (const g of soon) {
      working.emit(
        'grant.expiring',
        { account, grant_id: g.id, tokens: g.remaining, expires_at: isoUtc(g.expiresAt ?? now) },
        `grant.expiring:${g.id}`,
      );
    }
    if (working.changed) await working.flush(tx, 'no_overdraft');
    return soon.length;
  });
}
