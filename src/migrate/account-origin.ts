import { RECOVER_SOURCE } from '../core/recovery.ts';
import type { TokenLedger } from '../ledger/token-ledger.ts';

/** Where an account's tokenmeter ledger begins, and the recoveries already applied to it. */
export interface AccountOrigin {
  plan: string;
  /** The plan's monthly allocation: the default opening of a recovery. */
  monthlyAllocation: number;
  balance: number;
  /** When tokenmeter took the account over: its opening_balance entry. */
  openedAt: number;
  /** The balance it opened with. */
  openedWith: number;
  /** `import` for an imported account, `provision` for one opened by its first use. */
  openedBy: string | null;
  /** Earlier recovery adjustments by reference. */
  recoveries: Map<string, number>;
  recovered: number;
}

const PAGE = 1000;

/**
 * Reads an account's whole history (newest first, a page at a time) for its opening entry,
 * which is its oldest, and the recovery adjustments made since. Null when tokenmeter has
 * never seen the account.
 */
export async function readAccountOrigin(ledger: TokenLedger, account: string): Promise<AccountOrigin | null> {
  const view = await ledger.getBalance(account);
  if (!view.exists) return null;
  const recoveries = new Map<string, number>();
  let recovered = 0;
  let opening: { at: number; balanceAfter: number; source: string | null } | null = null;
  let cursor: string | null = null;
  do {
    const page = await ledger.history(account, { limit: PAGE, cursor });
    for (const e of page.entries) {
      if (e.kind === 'opening_balance') opening = { at: e.at, balanceAfter: e.balanceAfter, source: e.source };
      if (e.kind === 'adjustment' && e.source === RECOVER_SOURCE && e.reference !== null) {
        recoveries.set(e.reference, e.amount);
        recovered += e.amount;
      }
    }
    cursor = page.nextCursor;
  } while (cursor !== null);
  if (!opening) throw new Error(`account ${account} has no opening entry`);
  return {
    plan: view.plan,
    monthlyAllocation: view.monthlyAllocation,
    balance: view.balance,
    openedAt: opening.at,
    openedWith: opening.balanceAfter,
    openedBy: opening.source,
    recoveries,
    recovered,
  };
}
