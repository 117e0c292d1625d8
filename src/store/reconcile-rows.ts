import { int, type Row, str } from './rows.ts';
import type { Drift } from './store.ts';

/**
 * Compares one account's stored figures with what its ledger and holds say. The row has the
 * account's `id`, `allocation`, `purchased`, `held`, and the sums `ledger_allocation`,
 * `ledger_purchased`, `holds_held`.
 */
export function figureDrift(r: Row): Drift[] {
  const account = str(r, 'id');
  const out: Drift[] = [];
  const stored = { allocation: int(r, 'allocation'), purchased: int(r, 'purchased'), held: int(r, 'held') };
  const ledger = { allocation: int(r, 'ledger_allocation'), purchased: int(r, 'ledger_purchased') };
  const balance = stored.allocation + stored.purchased;
  const ledgerSum = ledger.allocation + ledger.purchased;
  if (balance !== ledgerSum)
    out.push({ account, check: 'balance', expected: ledgerSum, actual: balance, entryId: null });
  for (const bucket of ['allocation', 'purchased'] as const) {
    if (stored[bucket] !== ledger[bucket]) {
      out.push({ account, check: bucket, expected: ledger[bucket], actual: stored[bucket], entryId: null });
    }
  }
  const holdsHeld = int(r, 'holds_held');
  if (stored.held !== holdsHeld)
    out.push({ account, check: 'held', expected: holdsHeld, actual: stored.held, entryId: null });
  return out;
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
