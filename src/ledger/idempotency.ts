import type { LedgerEntry } from '../core/entry.ts';
import type { WriteTx } from '../store/store.ts';
import type { Deducted, Refusal } from './types.ts';

export type Prior<T> = { kind: 'replay'; result: T } | { kind: 'conflict'; refusal: Refusal } | null;

interface Scope {
  account: string;
  operation: string;
  key: string | null;
  fingerprint: string;
}

/**
 * Looks up an idempotency key inside the write transaction. The same key with the same
 * parameters replays the first result; with other parameters it is a conflict.
 */
export async function findPrior<T>(
  tx: WriteTx,
  scope: Scope,
  figures: { balance: number; available: number },
): Promise<Prior<T>> {
  if (scope.key === null) return null;
  const record = await tx.findIdempotency(scope.account, scope.operation, scope.key);
  if (!record) return null;
  if (record.fingerprint !== scope.fingerprint) return conflict(scope, scope.key, figures);
  return { kind: 'replay', result: { ...(JSON.parse(record.response) as T), replayed: true } };
}

/** Records the first result of a keyed operation, in the same transaction as its effect. */
export async function remember(tx: WriteTx, scope: Scope, result: unknown, now: number): Promise<void> {
  if (scope.key === null) return;
  await tx.saveIdempotency({
    account: scope.account,
    operation: scope.operation,
    key: scope.key,
    fingerprint: scope.fingerprint,
    response: JSON.stringify(result),
    createdAt: now,
  });
}

/** The parameters a deduction key is bound to: the feature and quantity, both on its debit. */
export function deductionFingerprint(feature: string, quantity: number): string {
  return `${feature}x${quantity}`;
}

/**
 * A keyed deduction is one row, its debit: a repeat of the key is answered from that entry (the
 * same feature and quantity replay it, others are a conflict). A debit written before the entry
 * recorded `held_after` was written together with an idempotency_keys row holding its answer:
 * that answer is replayed, as it always was. No debit, no earlier use of the key: an
 * idempotency_keys row for a deduction only ever exists beside its debit.
 */
export async function findPriorDeduction(
  tx: WriteTx,
  scope: { account: string; key: string | null; feature: string; quantity: number },
  figures: { balance: number; available: number },
): Promise<Prior<Deducted>> {
  if (scope.key === null) return null;
  const debit = await tx.findDeduction(scope.account, scope.key);
  if (!debit) return null;
  // A pool member's answer counts the pool's share, which its entry alone cannot rebuild.
  if (debit.heldAfter === null || (debit.poolId ?? null) !== null) {
    const fingerprint = deductionFingerprint(scope.feature, scope.quantity);
    const stored = { account: scope.account, operation: 'deduct', key: scope.key, fingerprint };
    const prior = await findPrior<Deducted>(tx, stored, figures);
    if (!prior) throw new Error(`keyed debit ${debit.id} has neither held_after nor a stored answer`);
    return prior;
  }
  const { feature, quantity, heldAfter } = debit;
  if (feature === null || quantity === null) throw new Error(`keyed debit ${debit.id} has no feature or quantity`);
  if (feature !== scope.feature || quantity !== scope.quantity) {
    return conflict({ account: scope.account, operation: 'deduct' }, scope.key, figures);
  }
  return { kind: 'replay', result: { ...deductedFrom({ ...debit, feature, quantity, heldAfter }), replayed: true } };
}

/** The answer a deduction gave, rebuilt from its debit: every field from the entry's own figures. */
export function deductedFrom(debit: LedgerEntry & { feature: string; quantity: number; heldAfter: number }): Deducted {
  // 0 - amount: a free use's amount may be -0, and its answer's cost was 0.
  const cost = 0 - debit.amount;
  return {
    ok: true,
    account: debit.account,
    feature: debit.feature,
    quantity: debit.quantity,
    cost,
    balanceBefore: debit.balanceAfter + cost,
    balance: debit.balanceAfter,
    available: debit.balanceAfter - debit.heldAfter,
    entryId: debit.id,
    replayed: false,
  };
}

function conflict(
  scope: { account: string; operation: string },
  key: string,
  figures: { balance: number; available: number },
): Prior<never> {
  return {
    kind: 'conflict',
    refusal: {
      ok: false,
      code: 'idempotency_conflict',
      message: `Idempotency key "${key}" was already used for a different ${scope.operation} on this account`,
      account: scope.account,
      ...figures,
    },
  };
}
