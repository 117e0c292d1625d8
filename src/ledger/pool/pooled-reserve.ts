import { balanceOf } from '../../core/account-state.ts';
import { refusePooled, reservePooled } from '../../core/pool-charge.ts';
import type { WriteTx } from '../../store/store.ts';
import type { ReserveResult } from '../types.ts';
import type { WorkingAccount } from '../working-account.ts';
import type { MemberPool } from './member-pool.ts';

/**
 * A pool member's reservation: refused with the combined figure, or reserved from its own
 * available first and the pool for the rest. The pool's part is a hold of the pool's own (naming
 * the member, counted in the membership's `held`); the member's hold, whose id the caller gets,
 * links it and reserves the rest.
 */
export async function reservePooledHold(
  tx: WriteTx,
  working: WorkingAccount,
  pool: MemberPool,
  hold: { amount: number; feature: string | null; ttlMs: number; key: string | null },
  now: number,
): Promise<ReserveResult> {
  const account = working.state.id;
  const refusal = refusePooled(pool.parties(working), hold.amount);
  if (refusal) return { ...refusal, account };
  const reservation = reservePooled(pool.parties(working), hold.amount, now);
  pool.reserve(working, reservation);
  await working.flush(tx, 'no_overdraft');
  await pool.flush(tx);
  const expiresAt = now + hold.ttlMs;
  const common = { feature: hold.feature, createdAt: now, expiresAt };
  const poolHold =
    reservation.pooled === 0
      ? null
      : await tx.insertHold({
          ...common,
          account: pool.account.state.id,
          amount: reservation.pooled,
          idempotencyKey: null,
          poolHold: null,
          poolAmount: 0,
          member: account,
        });
  const holdId = await tx.insertHold({
    ...common,
    account,
    amount: hold.amount,
    idempotencyKey: hold.key,
    poolHold,
    poolAmount: reservation.pooled,
    member: null,
  });
  return {
    ok: true,
    account,
    holdId,
    amount: hold.amount,
    expiresAt,
    balance: balanceOf(working.state),
    available: pool.available(working),
    replayed: false,
  };
}
