import type { Catalog, Plan } from '../core/catalog.ts';
import { grantedInCycle } from '../core/cycle-grants.ts';
import { decidePlanChange, type PlanChangeRecord } from '../core/plan-change.ts';
import { memberPlan, planOf } from '../core/pool.ts';
import type { WriteTx } from '../store/store.ts';
import type { WorkingAccount } from './working-account.ts';

/**
 * Moves a loaded (and locked) account to `to` by the plan-change rule, within its current
 * cycle. What the cycle has granted is read here, after the lock, so two plan changes of one
 * account cannot both count on the same headroom.
 */
export async function switchPlan(
  tx: WriteTx,
  working: WorkingAccount,
  catalog: Catalog,
  to: Plan,
  record: PlanChangeRecord,
  now: number,
): Promise<void> {
  const { state } = working;
  const stored = working.provisioned ? [] : await tx.allocationGrantsSince(state.id, state.cycleStart);
  const granted = grantedInCycle([...stored, ...working.entries], state.cycleStart);
  const alreadyGranted = await referenceTaken(tx, working, record);
  // A pool's member gets no allocation of its own on either plan: its plan changes, nothing is granted.
  const target = state.poolId ? memberPlan(to) : to;
  working.apply(decidePlanChange(state, planOf(catalog, state), target, granted, { ...record, alreadyGranted }, now));
}

/** Whether the grant `record` names is already in the ledger, or decided earlier in this transaction. */
async function referenceTaken(tx: WriteTx, working: WorkingAccount, record: PlanChangeRecord): Promise<boolean> {
  const { source, reference } = record;
  if (source == null || reference == null) return false;
  if (working.entries.some((e) => e.kind === 'plan_change' && e.source === source && e.reference === reference)) {
    return true;
  }
  return (await tx.findEntryByReference('plan_change', source, reference)) !== undefined;
}
