import { findPlan } from '../core/catalog.ts';
import {
  type EvidenceItem,
  type RecoveryClaim,
  type RecoveryReview,
  type RepeatedBalance,
  type Spending,
  spendingIn,
  type Tally,
} from '../core/recovery.ts';
import type { TokenLedger } from '../ledger/token-ledger.ts';
import { type AccountOrigin, readAccountOrigin } from './account-origin.ts';
import { evidenceReference, freshReference, lineKeys } from './evidence-reference.ts';
import type { LogScan } from './scan-logs.ts';

export type RecoveryStatus =
  /** A correction the logs call for; written only with --apply. */
  | 'correction_pending'
  /** Written now (--apply). */
  | 'applied'
  /** Every deduction in the window was counted by an earlier recovery: nothing to do. */
  | 'already_applied'
  /** tokenmeter already holds what the logs say (with --apply, the lines are recorded as counted). */
  | 'no_correction'
  /**
   * Not written even with --apply, see `review`: the logs start from another balance than the
   * default opening (rerun for the account with its own --opening and --since), an earlier
   * recovery settled another opening, or recoveries from before lines were recorded exist.
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
  /** The window's deductions, whether or not an earlier recovery counted them. */
  deductions: number;
  /** Deductions from lines without a timestamp (counted; their time could not be checked). */
  untimed: number;
  outsideWindow: number;
  spent: number;
  opening: number;
  /** opening − everything counted (earlier and now): what the account should have held when tokenmeter took it over. */
  expected: number;
  /** What tokenmeter opened the account with, and how (`import` or `provision`). */
  openedWith: number | null;
  openedBy: string | null;
  openedAt: number | null;
  /** Earlier recovery adjustments, summed. */
  recovered: number;
  /** What earlier recoveries counted for the account, all evidence. */
  countedBefore: Tally;
  /** Of the window's deductions, those an earlier recovery counted: not counted again. */
  alreadyCounted: Tally;
  /** Of the window's deductions, those before the time of an opening an earlier recovery settled. */
  coveredByOpening: Tally;
  /** Counted for the first time by this run. */
  fresh: Tally;
  /** The opening an earlier recovery settled, or null. */
  settledOpening: number | null;
  review: RecoveryReview | null;
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

const NONE: Tally = { deductions: 0, spent: 0 };

/**
 * Works out, for every account in the logs, what the logs prove it spent before tokenmeter
 * took it over and the correction that follows. Corrections are cumulative over the evidence:
 * a deduction line an applied recovery counted is never counted again, nor given back by a
 * run that does not include it; a run corrects only for lines not counted yet. With `apply`,
 * each correction is an adjustment (source `recover`) written with the lines it counted.
 */
export async function recover(ledger: TokenLedger, scan: LogScan, options: RecoverOptions): Promise<RecoveryReport> {
  const ids = options.account === null ? scan.evidence.accounts() : [options.account];
  const accounts: AccountRecovery[] = [];
  for (const account of ids) {
    const origin = await readAccountOrigin(ledger, account);
    accounts.push(await recoverAccount(ledger, scan, account, origin, options));
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

async function recoverAccount(
  ledger: TokenLedger,
  scan: LogScan,
  account: string,
  origin: AccountOrigin | null,
  options: RecoverOptions,
): Promise<AccountRecovery> {
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
    countedBefore: NONE,
    alreadyCounted: NONE,
    coveredByOpening: NONE,
    fresh: NONE,
    settledOpening: null,
    review: null,
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

  const claim: RecoveryClaim = {
    account,
    opening,
    openingGiven: options.opening !== null,
    // An opening the operator states is the balance at --since; the plan's is the account's start.
    openingAt: options.opening === null ? null : options.since,
    openedWith: origin.openedWith,
    firstBalance: spending.firstBalance,
    items: itemsOf(spending),
    unrecorded: unrecorded(origin, account, opening, spending),
  };
  const outcome = await ledger.recordRecovery({
    claim,
    apply: options.apply,
    reference: (keys) => freshReference(account, opening, keys),
  });
  const p = outcome.plan;
  const applied = outcome.written && p.status === 'correction_pending';
  return {
    ...base,
    status: applied ? 'applied' : p.status,
    opening: p.opening,
    expected: p.expected,
    countedBefore: p.countedBefore,
    alreadyCounted: p.alreadyCounted,
    coveredByOpening: p.coveredByOpening,
    fresh: p.fresh,
    settledOpening: p.settled?.opening ?? null,
    review: p.review,
    balance: outcome.balance,
    correction: p.correction,
    balanceAfter: outcome.balanceAfter,
    reference: outcome.reference,
    entryId: outcome.entryId,
  };
}

/** One item per deduction the window's lines stand for. */
function itemsOf(spending: Spending): EvidenceItem[] {
  return spending.counted.flatMap((line) =>
    lineKeys(line).map((key) => ({ key, tokens: line.deduction.tokens, at: line.deduction.at })),
  );
}

/**
 * Recovery adjustments written before tokenmeter recorded the lines each counted (they carry
 * the v1 reference of their whole evidence): `matches` when this very evidence made one.
 */
function unrecorded(
  origin: AccountOrigin,
  account: string,
  opening: number,
  spending: Spending,
): RecoveryClaim['unrecorded'] {
  if (origin.recoveries.size === 0) return 'none';
  return origin.recoveries.has(evidenceReference(account, opening, spending.counted)) ? 'matches' : 'other';
}
