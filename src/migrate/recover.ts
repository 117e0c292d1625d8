import { MAX_ADJUSTMENT } from '../core/amounts.ts';
import { findPlan } from '../core/catalog.ts';
import { planCorrection, type RepeatedBalance, spendingIn } from '../core/recovery.ts';
import type { TokenLedger } from '../ledger/token-ledger.ts';
import { type AccountOrigin, RECOVER_SOURCE, readAccountOrigin } from './account-origin.ts';
import { evidenceReference } from './evidence-reference.ts';
import type { LogScan } from './scan-logs.ts';

export type RecoveryStatus =
  /** A correction the logs call for; written only with --apply. */
  | 'correction_pending'
  /** Written now (--apply). */
  | 'applied'
  /** This very recovery (same evidence, same opening) was applied before: nothing to do. */
  | 'already_applied'
  /** tokenmeter already holds what the logs say. */
  | 'no_correction'
  /**
   * The logs start from another balance than the default opening (the plan's allocation), so
   * the arithmetic would be wrong: not written even with --apply; rerun for the account with
   * its own --opening (and --since).
   */
  | 'needs_review'
  /** No deduction lines in the window: nothing to recover from. */
  | 'no_evidence'
  /** tokenmeter has never seen the account: import it first. */
  | 'not_in_tokenmeter';

export interface AccountRecovery {
  account: string;
  status: RecoveryStatus;
  plan: string;
  /** The window the lines were counted in: [since, until); null is open. */
  since: number | null;
  until: number | null;
  deductions: number;
  /** Deductions from lines without a timestamp (counted; their time could not be checked). */
  untimed: number;
  outsideWindow: number;
  spent: number;
  opening: number;
  /** opening − spent: what the account should have held when tokenmeter took it over. */
  expected: number;
  /** What tokenmeter opened the account with, and how (`import` or `provision`). */
  openedWith: number | null;
  openedBy: string | null;
  openedAt: number | null;
  /** Earlier recovery adjustments (other evidence). */
  recovered: number;
  /** tokenmeter's balance now. */
  balance: number | null;
  correction: number | null;
  /** The balance once the correction is written. */
  balanceAfter: number | null;
  redFlag: boolean;
  repeats: RepeatedBalance[];
  /** The balance the first counted line started from; a warning when it is not the opening. */
  firstLoggedBalance: number | null;
  reference: string | null;
  entryId: number | null;
}

export interface RecoverOptions {
  since: number | null;
  until: number | null;
  /** Default: each account's plan allocation. */
  opening: number | null;
  /** Only this account (it is reported even without lines). */
  account: string | null;
  apply: { reason: string; actor: string } | null;
}

export interface RecoveryReport {
  applied: boolean;
  accounts: AccountRecovery[];
  correctionsPending: number;
  correctionsApplied: number;
  /** Accounts held back for the operator (see `needs_review`). */
  needsReview: number;
  tokensCorrected: number;
}

/**
 * Works out, for every account in the logs, what the logs prove it spent before tokenmeter
 * took it over and the correction that follows; with `apply`, writes each correction as an
 * adjustment (source `recover`, reference the evidence's hash), so it happens at most once.
 */
export async function recover(ledger: TokenLedger, scan: LogScan, options: RecoverOptions): Promise<RecoveryReport> {
  const ids = options.account === null ? scan.evidence.accounts() : [options.account];
  const accounts: AccountRecovery[] = [];
  for (const account of ids) {
    const origin = await readAccountOrigin(ledger, account);
    const planned = assess(ledger, scan, account, origin, options);
    accounts.push(
      options.apply && planned.status === 'correction_pending' ? await apply(ledger, planned, options.apply) : planned,
    );
  }
  return {
    applied: options.apply !== null,
    accounts,
    correctionsPending: accounts.filter((a) => a.status === 'correction_pending').length,
    correctionsApplied: accounts.filter((a) => a.status === 'applied').length,
    needsReview: accounts.filter((a) => a.status === 'needs_review').length,
    tokensCorrected: accounts.filter((a) => a.status === 'applied').reduce((sum, a) => sum + (a.correction ?? 0), 0),
  };
}

function assess(
  ledger: TokenLedger,
  scan: LogScan,
  account: string,
  origin: AccountOrigin | null,
  options: RecoverOptions,
): AccountRecovery {
  // Spending tokenmeter recorded itself is never counted again: the window ends where its ledger begins.
  const until =
    origin === null
      ? options.until
      : options.until === null
        ? origin.openedAt
        : Math.min(options.until, origin.openedAt);
  const spending = spendingIn(scan.evidence.linesOf(account), { since: options.since, until });
  const plan = origin?.plan ?? ledger.catalog.defaultPlan;
  const opening = options.opening ?? origin?.monthlyAllocation ?? findPlan(ledger.catalog, plan).monthlyAllocation;
  const base: AccountRecovery = {
    account,
    status: 'no_evidence',
    plan,
    since: options.since,
    until,
    deductions: spending.deductions,
    untimed: spending.untimed,
    outsideWindow: spending.outsideWindow,
    spent: spending.spent,
    opening,
    expected: opening - spending.spent,
    openedWith: origin?.openedWith ?? null,
    openedBy: origin?.openedBy ?? null,
    openedAt: origin?.openedAt ?? null,
    recovered: origin?.recovered ?? 0,
    balance: origin?.balance ?? null,
    correction: null,
    balanceAfter: null,
    redFlag: spending.repeats.length > 0,
    repeats: spending.repeats.slice(0, 5),
    firstLoggedBalance: spending.firstBalance,
    reference: null,
    entryId: null,
  };
  if (origin === null) return { ...base, status: 'not_in_tokenmeter' };
  if (spending.deductions === 0) return base;
  const reference = evidenceReference(account, opening, spending.counted);
  const priorAmount = origin.recoveries.get(reference);
  if (priorAmount !== undefined) {
    return { ...base, status: 'already_applied', reference, correction: 0, balanceAfter: origin.balance };
  }
  const { correction } = planCorrection({
    opening,
    spent: spending.spent,
    openedWith: origin.openedWith,
    recovered: origin.recovered,
  });
  // Only the operator's own --opening may override what the logs say the account started from.
  const doubtful = options.opening === null && spending.firstBalance !== null && spending.firstBalance !== opening;
  return {
    ...base,
    status: correction === 0 ? 'no_correction' : doubtful ? 'needs_review' : 'correction_pending',
    reference,
    correction,
    balanceAfter: origin.balance + correction,
  };
}

async function apply(
  ledger: TokenLedger,
  planned: AccountRecovery,
  how: { reason: string; actor: string },
): Promise<AccountRecovery> {
  const { correction, reference } = planned;
  if (correction === null || correction === 0 || reference === null) return planned;
  if (Math.abs(correction) > MAX_ADJUSTMENT) {
    throw new RangeError(`account ${planned.account}: a correction of ${correction} is beyond one adjustment`);
  }
  const r = await ledger.adjust({
    account: planned.account,
    amount: correction,
    reason: how.reason,
    actor: how.actor,
    source: RECOVER_SOURCE,
    reference,
  });
  if (!r.ok) throw new Error(`account ${planned.account}: ${r.message}`);
  return {
    ...planned,
    status: r.replayed ? 'already_applied' : 'applied',
    balance: r.replayed ? r.balance : r.balanceBefore,
    balanceAfter: r.balance,
    entryId: r.entryId,
  };
}
