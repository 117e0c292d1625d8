import type { WriteTx } from '../store/store.ts';
import type { Refusal } from './types.ts';

export type Prior<T> = { kind: 'replay'; result: T } | { kind: 'conflict'; refusal: Refusal } | null;

/**
 * Looks up an idempotency key inside the write transaction. The same key with the same
 * parameters replays the first result; with other parameters it is a conflict.
 */
export async function findPrior<T>(
  tx: WriteTx,
  scope: { account: string; operation: string; key: string | null; fingerprint: string },
  figures: { balance: number; available: number },
): Promise<Prior<T>> {
  if (scope.key === null) return null;
  const record = await tx.findIdempotency(scope.account, scope.operation, scope.key);
  if (!record) return null;
  if (record.fingerprint !== scope.fingerprint) {
    return {
      kind: 'conflict',
      refusal: {
        ok: false,
        code: 'idempotency_conflict',
        message: `Idempotency key "${scope.key}" was already used for a different ${scope.operation} on this account`,
        account: scope.account,
        ...figures,
      },
    };
  }
  return { kind: 'replay', result: { ...(JSON.parse(record.response) as T), replayed: true } };
}

/** Records the first result of a keyed operation, in the same transaction as its effect. */
export async function remember(
  tx: WriteTx,
  scope: { account: string; operation: string; key: string | null; fingerprint: string },
  result: unknown,
  now: number,
): Promise<void> {
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
