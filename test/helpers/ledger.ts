import { defaultConfig } from '../../src/config/default-config.ts';
import { parseConfig } from '../../src/config/index.ts';
import { ManualClock } from '../../src/core/clock.ts';
import type { GroupCommitOptions } from '../../src/ledger/batch/group-commit-options.ts';
import { TokenLedger } from '../../src/ledger/token-ledger.ts';
import type { Store } from '../../src/store/store.ts';

export const catalog = parseConfig(defaultConfig(), 'built-in default');

/** A ledger over `store` driven by a manual clock that starts at `start`; group commit on unless `false`. */
export function ledgerOn(
  store: Store,
  start = '2026-01-15T10:00:00Z',
  groupCommit?: GroupCommitOptions | false,
  options: { topupRetryMs?: number } = {},
): { ledger: TokenLedger; clock: ManualClock } {
  const clock = new ManualClock(start);
  return {
    ledger: new TokenLedger({
      store,
      catalog,
      clock,
      ...options,
      ...(groupCommit === undefined ? {} : { groupCommit }),
    }),
    clock,
  };
}

/** Narrows a result union in a test, failing with the refusal when it was refused. */
export function accepted<T extends { ok: boolean }>(result: T): Extract<T, { ok: true }> {
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result)}`);
  return result as Extract<T, { ok: true }>;
}

export function refused<T extends { ok: boolean }>(result: T): Extract<T, { ok: false }> {
  if (result.ok) throw new Error(`expected a refusal, got ${JSON.stringify(result)}`);
  return result as Extract<T, { ok: false }>;
}
