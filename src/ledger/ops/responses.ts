import { requireAccountId } from '../../core/account-id.ts';
import type { LedgerContext } from '../context.ts';
import { optionalKey } from '../inputs.ts';

/** A keyed operation that spans several transactions (the token gate): its answer is recorded once it is final. */
export interface ResponseScope {
  account: string;
  operation: string;
  key: string;
  /** The parameters the key was first used with; another use of the key with others is a conflict. */
  fingerprint: string;
}

export type Recalled = { kind: 'none' } | { kind: 'replay'; response: unknown } | { kind: 'conflict' };

/** The answer recorded for this key, if any, or a conflict when the key was used with other parameters. */
export async function recallResponse(ctx: LedgerContext, scope: ResponseScope): Promise<Recalled> {
  const account = requireAccountId(scope.account);
  const key = optionalKey(scope.key) ?? '';
  const record = await ctx.store.write((tx) => tx.findIdempotency(account, scope.operation, key));
  if (!record) return { kind: 'none' };
  if (record.fingerprint !== scope.fingerprint) return { kind: 'conflict' };
  return { kind: 'replay', response: JSON.parse(record.response) as unknown };
}

/** Records the final answer of a keyed operation; the first one recorded stays. */
export async function rememberResponse(ctx: LedgerContext, scope: ResponseScope, response: unknown): Promise<void> {
  const account = requireAccountId(scope.account);
  const key = optionalKey(scope.key) ?? '';
  await ctx.store.write(async (tx) => {
    if (await tx.findIdempotency(account, scope.operation, key)) return;
    await tx.saveIdempotency({
      account,
      operation: scope.operation,
      key,
      fingerprint: scope.fingerprint,
      response: JSON.stringify(response),
      createdAt: ctx.clock.now(),
    });
  });
}
