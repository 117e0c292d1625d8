import { int, type Row, str } from './rows.ts';
import type { Drift } from './store.ts';

/**
 * Compares one account's stored figures with what its ledger, grants and holds say (a row of
 * `FIGURES_SQL`): each bucket sum and the debt against its entries' deltas and against its grants'
 * remaining tokens, the balance against the ledger, `held` against the active holds.
 */
export function figureDrift(r: Row): Drift[] {
  const account = str(r, 'id');
  const out: Drift[] = [];
  const drift = (check: Drift['check'], expected: number, actual: number) => {
    if (expected !== actual) out.push({ account, check, expected, actual, entryId: null });
  };
  const stored = {
    allocation: int(r, 'allocation'),
    purchased: int(r, 'purchased'),
    promotional: int(r, 'promotional'),
    debt: int(r, 'debt'),
  };
  const ledger = {
    allocation: int(r, 'ledger_allocation'),
    purchased: int(r, 'ledger_purchased'),
    promotional: int(r, 'ledger_promotional'),
    debt: int(r, 'ledger_debt'),
  };
  const balance = stored.allocation + stored.purchased + stored.promotional - stored.debt;
  drift('balance', ledger.allocation + ledger.purchased + ledger.promotional - ledger.debt, balance);
  for (const bucket of ['allocation', 'purchased', 'promotional', 'debt'] as const) {
    drift(bucket, ledger[bucket], stored[bucket]);
  }
  drift('grants', int(r, 'grants_included'), stored.allocation);
  drift('grants', int(r, 'grants_paid'), stored.purchased);
  drift('grants', int(r, 'grants_promotional'), stored.promotional);
  drift('held', int(r, 'holds_held'), int(r, 'held'));
  return out;
}

/** Grants whose remaining tokens are not the sum of their moves (rows of `grantMovesSql`). */
export function grantDrift(rows: readonly Row[]): Drift[] {
  return rows.map((r) => ({
    account: str(r, 'account_id'),
    check: 'grant' as const,
    expected: int(r, 'moved'),
    actual: int(r, 'remaining'),
    entryId: int(r, 'id'),
  }));
}

/**
 * Entries whose balance-after does not follow from the one before (rows: `account_id`, `id`,
 * `balance_after`, `expected`, ordered by account then id): one drift per account, at the
 * first break, since it explains the rest.
 */
export function chainDrift(rows: readonly Row[]): Drift[] {
  const seen = new Set<string>();
  const out: Drift[] = [];
  for (const r of rows) {
    const account = str(r, 'account_id');
    if (seen.has(account)) continue;
    seen.add(account);
    out.push({
      account,
      check: 'chain',
      expected: int(r, 'expected'),
      actual: int(r, 'balance_after'),
      entryId: int(r, 'id'),
    });
  }
  return out;
}

/** Pool memberships whose usage or held disagrees with the pool's entries and holds (rows of `MEMBERSHIPS_SQL`). */
export function membershipDrift(rows: readonly Row[]): Drift[] {
  const out: Drift[] = [];
  for (const r of rows) {
    const account = str(r, 'member_id');
    const pairs = [
      ['pool_usage', int(r, 'ledger_used'), int(r, 'used_this_cycle')],
      ['pool_held', int(r, 'holds_held'), int(r, 'held')],
    ] as const;
    for (const [check, expected, actual] of pairs) {
      if (expected !== actual) out.push({ account, check, expected, actual, entryId: null });
    }
  }
  return out;
}
