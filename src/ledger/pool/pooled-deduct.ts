import { balanceOf } from '../../core/account-state.ts';
import type { Feature } from '../../core/catalog.ts';
import { costOf } from '../../core/deduct.ts';
import { chargePooled, refusePooled } from '../../core/pool-charge.ts';
import type { WriteTx } from '../../store/store.ts';
import { deductionFingerprint, remember } from '../idempotency.ts';
import type { Deducted, DeductResult } from '../types.ts';
import type { WorkingAccount } from '../working-account.ts';
import type { MemberPool } from './member-pool.ts';

/**
 * A pool member's deduction, inside the write that loaded both: refused with the combined
 * figure, or charged to its own tokens first and the pool for the rest, one entry on each. Its
 * answer (whose `available` counts the pool) is stored under the key, since the member's entry
 * alone cannot rebuild it.
 */
export async function deductPooled(
  tx: WriteTx,
  working: WorkingAccount,
  pool: MemberPool,
  use: { feature: Feature; quantity: number; key: string | null },
  now: number,
): Promise<DeductResult> {
  const account = working.state.id;
  const cost = costOf(use.feature, use.quantity);
  const refusal = refusePooled(pool.parties(working), cost);
  if (refusal) return { ...refusal, account };
  const balanceBefore = balanceOf(working.state);
  const charged = chargePooled(
    pool.parties(working),
    cost,
    { feature: use.feature.id, quantity: use.quantity, idempotencyKey: use.key },
    now,
  );
  pool.apply(working, charged);
  const ids = await working.flush(tx, 'no_overdraft');
  await pool.flush(tx);
  const result: Deducted = {
    ok: true,
    account,
    feature: use.feature.id,
    quantity: use.quantity,
    cost,
    balanceBefore,
    balance: balanceOf(working.state),
    available: pool.available(working),
    entryId: ids.at(-1) ?? 0,
    replayed: false,
    pooled: charged.pooled,
  };
  const fingerprint = deductionFingerprint(use.feature.id, use.quantity);
  await remember(tx, { account, operation: 'deduct', key: use.key, fingerprint }, result, now);
  return result;
}
