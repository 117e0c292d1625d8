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

/**
 * The recovery arithmetic. The logs say the account should have had `opening − spent` when
 * tokenmeter took it over; tokenmeter opened it with `openedWith` and earlier recoveries
 * moved it by `recovered`, so the correction is what is still missing. It is measured against
 * the opening, not today's balance, so spending recorded in tokenmeter's own ledger since
 * then is neither counted again nor undone.
 */
export function planCorrection(input: { opening: number; spent: number; openedWith: number; recovered: number }): {
  expected: number;
  correction: number;
} {
  const expected = input.opening - input.spent;
  return { expected, correction: expected - input.openedWith - input.recovered };
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
