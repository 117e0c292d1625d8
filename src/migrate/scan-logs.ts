import { DeductionEvidence } from '../core/deduction-evidence.ts';
import { parseDeductionLine } from '../core/deduction-line.ts';
import { clip } from '../core/legacy-values.ts';
import { isGzip, readLogLines } from './read-log-lines.ts';

/** How many unreadable lines a report quotes; the count stays exact. */
export const UNREADABLE_SAMPLES = 50;

export interface LogFileScan {
  file: string;
  gzip: boolean;
  lines: number;
  deductionLines: number;
  unreadableLines: number;
}

export interface UnreadableLine {
  file: string;
  line: number;
  text: string;
  reason: string;
}

/** What reading the logs found, before any account is looked up. */
export interface LogScan {
  files: LogFileScan[];
  lines: number;
  /** Deduction lines read (including repeats and other accounts' lines). */
  deductionLines: number;
  /** Deduction lines that added nothing: met before (an overlapping file). */
  duplicateLines: number;
  /** Deduction lines of accounts other than `--account`. */
  otherAccountLines: number;
  /** Lines that are not deductions (other log messages). */
  otherLines: number;
  unreadableLines: number;
  unreadable: UnreadableLine[];
  evidence: DeductionEvidence;
}

/** A scan that has read nothing yet, gathering into `evidence`. */
export function emptyScan(evidence: DeductionEvidence): LogScan {
  return {
    files: [],
    lines: 0,
    deductionLines: 0,
    duplicateLines: 0,
    otherAccountLines: 0,
    otherLines: 0,
    unreadableLines: 0,
    unreadable: [],
    evidence,
  };
}

/** Reads every file in order into one body of evidence, counting what it could not read. */
export async function scanLogs(files: readonly string[], account: string | null): Promise<LogScan> {
  const evidence = new DeductionEvidence(account);
  const scan = emptyScan(evidence);
  for (const file of files) {
    const gzip = await isGzip(file);
    const stats: LogFileScan = { file, gzip, lines: 0, deductionLines: 0, unreadableLines: 0 };
    evidence.nextFile();
    for await (const text of readLogLines(file, gzip)) {
      stats.lines += 1;
      const parsed = parseDeductionLine(text);
      if (parsed.kind === 'other') {
        scan.otherLines += 1;
      } else if (parsed.kind === 'unreadable') {
        stats.unreadableLines += 1;
        if (scan.unreadable.length < UNREADABLE_SAMPLES) {
          scan.unreadable.push({ file, line: stats.lines, text: clip(text, 200), reason: parsed.reason });
        }
      } else {
        stats.deductionLines += 1;
        const added = evidence.add(text, parsed.deduction);
        if (added === 'duplicate') scan.duplicateLines += 1;
        else if (added === 'filtered') scan.otherAccountLines += 1;
      }
    }
    scan.files.push(stats);
    scan.lines += stats.lines;
    scan.deductionLines += stats.deductionLines;
    scan.unreadableLines += stats.unreadableLines;
  }
  return scan;
}
