import type { DeductionLine } from './deduction-line.ts';

/** One distinct deduction line of the logs and how many deductions it stands for. */
export interface EvidenceLine {
  /** The line as logged (trailing white space removed): the evidence itself. */
  text: string;
  deduction: DeductionLine;
  /** 1 for a timestamped line; for a line without a timestamp, its most occurrences in one file. */
  count: number;
  /** Order of first sight, to keep the logs' order among lines without a timestamp. */
  seq: number;
}

interface Tracked extends EvidenceLine {
  file: number;
  inFile: number;
}

/**
 * The deduction lines of a set of log files, per account, each deduction counted once.
 *
 * A line with a timestamp is one event however often it is met: overlapping or rotated
 * files repeat it, and the same text with the same time counts once. A line without a
 * timestamp cannot be told apart from the next deduction of the same amount at the same
 * balance (the seed's NULL-balance bug wrote exactly such repeats), so every occurrence within
 * one file counts, and across files the file holding it most often decides the count, so an
 * overlapping copy does not double it.
 */
export class DeductionEvidence {
  private readonly byAccount = new Map<string, Map<string, Tracked>>();
  private readonly only: string | null;
  private file = 0;
  private seq = 0;

  /** @param only keep the lines of this account alone (the rest are not held in memory). */
  constructor(only: string | null = null) {
    this.only = only;
  }

  /** Call before the lines of each new file. */
  nextFile(): void {
    this.file += 1;
  }

  /** Adds a line; `counted` when it adds a deduction, `duplicate` when met before, `filtered` for other accounts. */
  add(text: string, deduction: DeductionLine): 'counted' | 'duplicate' | 'filtered' {
    if (this.only !== null && deduction.account !== this.only) return 'filtered';
    let lines = this.byAccount.get(deduction.account);
    if (!lines) {
      lines = new Map();
      this.byAccount.set(deduction.account, lines);
    }
    const key = text.trimEnd();
    const seen = lines.get(key);
    if (!seen) {
      this.seq += 1;
      lines.set(key, { text: key, deduction, count: 1, seq: this.seq, file: this.file, inFile: 1 });
      return 'counted';
    }
    if (deduction.at !== null) return 'duplicate';
    if (seen.file !== this.file) {
      seen.file = this.file;
      seen.inFile = 0;
    }
    seen.inFile += 1;
    if (seen.inFile <= seen.count) return 'duplicate';
    seen.count = seen.inFile;
    return 'counted';
  }

  /** The accounts with deduction lines, in a stable order (numeric ids numerically). */
  accounts(): string[] {
    return [...this.byAccount.keys()].sort(compareIds);
  }

  /** An account's distinct lines, in the order first met. */
  linesOf(account: string): EvidenceLine[] {
    const lines = this.byAccount.get(account);
    if (!lines) return [];
    return [...lines.values()].map(({ text, deduction, count, seq }) => ({ text, deduction, count, seq }));
  }
}

/** "2" before "10"; other ids in code-point order. */
export function compareIds(a: string, b: string): number {
  const numeric = /^\d+$/;
  if (numeric.test(a) && numeric.test(b) && a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}
