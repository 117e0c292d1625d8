import type { EvidenceLine } from './deduction-evidence.ts';

/** The part of the logs that counts: [since, until); null bounds are open. */
export interface RecoveryWindow {
  since: number | null;
  until: number | null;
}

/** The same "Balance: a → b" logged more than once. */
export interface RepeatedBalance {
  balanceBefore: number;
  balanceAfter: number;
  times: number;
}

/** What an account's counted lines show. */
export interface Spending {
  /** Tokens the counted lines deducted. */
  spent: number;
  /** Deductions counted (a line without a timestamp may stand for several). */
  deductions: number;
  /** Of those, how many come from lines without a timestamp (their time could not be checked). */
  untimed: number;
  /** Lines with a timestamp outside the window. */
  outsideWindow: number;
  /** The balance the earliest counted line started from, or null with no lines. */
  firstBalance: number | null;
  /** The seed's red flag: a repeated transition means the deductions were not persisted. */
  repeats: RepeatedBalance[];
  /** The lines counted, earliest first: the evidence a correction refers to. */
  counted: EvidenceLine[];
}

/** Sums the deductions inside the window and looks for repeated balances. */
export function spendingIn(lines: readonly EvidenceLine[], window: RecoveryWindow): Spending {
  const counted: EvidenceLine[] = [];
  let outsideWindow = 0;
  for (const line of lines) {
    const at = line.deduction.at;
    if (
      at !== null &&
      ((window.since !== null && at < window.since) || (window.until !== null && at >= window.until))
    ) {
      outsideWindow += 1;
      continue;
    }
    counted.push(line);
  }
  counted.sort(chronological);
  let spent = 0;
  let deductions = 0;
  let untimed = 0;
  const pairs = new Map<string, RepeatedBalance>();
  for (const line of counted) {
    const { tokens, balanceBefore, balanceAfter, at } = line.deduction;
    spent += tokens * line.count;
    deductions += line.count;
    if (at === null) untimed += line.count;
    const key = `${balanceBefore}>${balanceAfter}`;
    const pair = pairs.get(key) ?? { balanceBefore, balanceAfter, times: 0 };
    pair.times += line.count;
    pairs.set(key, pair);
  }
  const repeats = [...pairs.values()].filter((p) => p.times > 1).sort((a, b) => b.times - a.times);
  const firstBalance = counted[0]?.deduction.balanceBefore ?? null;
  return { spent, deductions, untimed, outsideWindow, firstBalance, repeats, counted };
}

/** Timestamped lines by time; lines without one keep the logs' order, after them. */
function chronological(a: EvidenceLine, b: EvidenceLine): number {
  const ta = a.deduction.at;
  const tb = b.deduction.at;
  if (ta !== null && tb !== null && ta !== tb) return ta - tb;
  if (ta !== null && tb === null) return -1;
  if (ta === null && tb !== null) return 1;
  return a.seq - b.seq;
}

/** The adjustments' source that marks a recovery. */
export const RECOVER_SOURCE = 'recover';

/** The key under which a recovery records the opening it settled (the lines' keys are hashes). */
export const OPENING_KEY = 'opening';

/** One deduction a recovery may count: a log line (one occurrence of it, for untimed repeats). */
export interface EvidenceItem {
  /** The deduction's identity: the same line met again has the same key. */
  key: string;
  tokens: number;
  at: number | null;
}

/**
 * What an applied recovery recorded, one row per key: each deduction it counted, and under
 * `OPENING_KEY` the opening it settled (`tokens` is then the opening balance, `at` the time it
 * applies from, null for the account's start). The database keeps one row per (account, key).
 */
export interface RecoveredLine {
  account: string;
  key: string;
  tokens: number;
  at: number | null;
  /** The adjustment that carried it; null when the recovery it belonged to corrected nothing. */
  entryId: number | null;
  recoveredAt: number;
}

export interface Tally {
  deductions: number;
  spent: number;
}

/** Why a correction waits for the operator instead of being written. */
export type RecoveryReview =
  /** The logs start from another balance than the default opening. */
  | 'logs_start_elsewhere'
  /** An earlier recovery settled another opening than the --opening given now. */
  | 'opening_settled'
  /** Recovery adjustments exist from before tokenmeter recorded the lines it counted. */
  | 'unrecorded_recovery';

export interface RecoveryClaim {
  account: string;
  /** The balance the evidence starts from: the operator's --opening, else the plan allocation. */
  opening: number;
  openingGiven: boolean;
  /** When the operator's opening applies (its --since); null: the account's start. */
  openingAt: number | null;
  /** What tokenmeter opened the account with. */
  openedWith: number;
  /** The balance the window's earliest line started from. */
  firstBalance: number | null;
  /** The window's deductions. */
  items: readonly EvidenceItem[];
  /** Recovery adjustments with no recorded lines: `matches` when this very evidence made one. */
  unrecorded: 'none' | 'matches' | 'other';
}

export interface RecoveryPlan {
  status: 'correction_pending' | 'already_applied' | 'no_correction' | 'needs_review';
  review: RecoveryReview | null;
  /** The opening earlier recoveries settled, or null. */
  settled: { opening: number; at: number | null } | null;
  /** The opening the arithmetic uses: the settled one, else the claim's. */
  opening: number;
  /** Everything earlier recoveries counted for the account. */
  countedBefore: Tally;
  /** Of the window's deductions, those earlier recoveries counted (skipped now). */
  alreadyCounted: Tally;
  /** Of the window's deductions, those before the settled opening's time (it accounts for them). */
  coveredByOpening: Tally;
  /** Deductions counted for the first time now. */
  fresh: Tally;
  /** The opening less everything counted, earlier and now: the balance at the takeover. */
  expected: number;
  correction: number;
  /** What an --apply records with the correction (empty: nothing to write). */
  record: Omit<RecoveredLine, 'entryId' | 'recoveredAt'>[];
}

/**
 * The cumulative rule: a deduction is counted by at most one applied recovery, and the
 * opening is settled by the first. A run corrects only for what no earlier recovery counted
 * (plus the opening's difference from what tokenmeter opened with, the first time), so a
 * narrower run never gives back what a wider one took, and any order of runs over the same
 * evidence ends where one full run would.
 */
export function planRecovery(claim: RecoveryClaim, recorded: readonly RecoveredLine[]): RecoveryPlan {
  const counted = new Set<string>();
  const countedBefore: Tally = { deductions: 0, spent: 0 };
  let settled: RecoveryPlan['settled'] = null;
  for (const row of recorded) {
    if (row.key === OPENING_KEY) {
      settled = { opening: row.tokens, at: row.at };
      continue;
    }
    counted.add(row.key);
    countedBefore.deductions += 1;
    countedBefore.spent += row.tokens;
  }
  const alreadyCounted: Tally = { deductions: 0, spent: 0 };
  const coveredByOpening: Tally = { deductions: 0, spent: 0 };
  const fresh: Tally = { deductions: 0, spent: 0 };
  const record: RecoveryPlan['record'] = [];
  const seen = new Set<string>();
  for (const item of claim.items) {
    if (seen.has(item.key)) continue;
    seen.add(item.key);
    const tally =
      settled !== null && settled.at !== null && item.at !== null && item.at < settled.at
        ? coveredByOpening
        : counted.has(item.key)
          ? alreadyCounted
          : fresh;
    tally.deductions += 1;
    tally.spent += item.tokens;
    if (tally === fresh) record.push({ account: claim.account, key: item.key, tokens: item.tokens, at: item.at });
  }
  const opening = settled?.opening ?? claim.opening;
  const openingTerm = settled === null ? opening - claim.openedWith : 0;
  const correction = openingTerm - fresh.spent;
  const expected = opening - countedBefore.spent - fresh.spent;
  const base = { settled, opening, countedBefore, alreadyCounted, coveredByOpening, fresh, expected, correction };

  const review = reviewOf(claim, settled);
  if (claim.unrecorded === 'matches' && settled === null) {
    return { ...base, status: 'already_applied', review: null, correction: 0, record: [] };
  }
  if (review !== null) return { ...base, status: 'needs_review', review, record: [] };
  if (record.length === 0) return { ...base, status: 'already_applied', review: null, correction: 0, record: [] };
  if (settled === null) record.push({ account: claim.account, key: OPENING_KEY, tokens: opening, at: claim.openingAt });
  return { ...base, status: correction === 0 ? 'no_correction' : 'correction_pending', review: null, record };
}

function reviewOf(claim: RecoveryClaim, settled: RecoveryPlan['settled']): RecoveryReview | null {
  if (settled !== null) {
    return claim.openingGiven && claim.opening !== settled.opening ? 'opening_settled' : null;
  }
  if (claim.unrecorded === 'other') return 'unrecorded_recovery';
  // Only the operator's own --opening may override what the logs say the account started from.
  if (!claim.openingGiven && claim.firstBalance !== null && claim.firstBalance !== claim.opening) {
    return 'logs_start_elsewhere';
  }
  return null;
}
