import type { LegacyAccount } from '../core/legacy-row.ts';
import type { ImportOutcome } from '../ledger/types.ts';

/** Longest list a report holds in memory; the counts stay exact beyond it. */
export const REPORT_LIST_LIMIT = 10_000;

export interface RejectedRow {
  row: number;
  /** The line in a CSV file, when the source has lines. */
  line: number | null;
  account: string | null;
  reason: string;
}

export interface AlreadyActive {
  account: string;
  /** What tokenmeter holds now (kept). */
  balance: number;
  /** What the legacy source holds (not imported). */
  legacyBalance: number;
}

/** What an import did (or, in a dry run, would do). */
export interface ImportReport {
  source: string;
  dryRun: boolean;
  rowsRead: number;
  imported: number;
  tokensImported: number;
  nullBalancesInitialized: number;
  nullUsedInitialized: number;
  nullPlansDefaulted: number;
  /** Plans the legacy rows named that tokenmeter does not know, with their row counts. */
  unknownPlans: { plan: string; rows: number }[];
  defaultPlan: string;
  /** Already imported by an earlier run: nothing written again. */
  skipped: number;
  alreadyActive: AlreadyActive[];
  alreadyActiveCount: number;
  rejected: RejectedRow[];
  rejectedCount: number;
}

/** Counts an import's rows and outcomes as they stream past. */
export class ImportTally {
  private readonly report: ImportReport;
  private readonly unknown = new Map<string, number>();

  constructor(source: string, dryRun: boolean, defaultPlan: string) {
    this.report = {
      source,
      dryRun,
      rowsRead: 0,
      imported: 0,
      tokensImported: 0,
      nullBalancesInitialized: 0,
      nullUsedInitialized: 0,
      nullPlansDefaulted: 0,
      unknownPlans: [],
      defaultPlan,
      skipped: 0,
      alreadyActive: [],
      alreadyActiveCount: 0,
      rejected: [],
      rejectedCount: 0,
    };
  }

  row(): void {
    this.report.rowsRead += 1;
  }

  rejected(row: RejectedRow): void {
    this.report.rejectedCount += 1;
    if (this.report.rejected.length < REPORT_LIST_LIMIT) this.report.rejected.push(row);
  }

  outcome(outcome: ImportOutcome, legacy: LegacyAccount): void {
    const r = this.report;
    if (outcome.status === 'already_imported') {
      r.skipped += 1;
    } else if (outcome.status === 'already_active') {
      r.alreadyActiveCount += 1;
      if (r.alreadyActive.length < REPORT_LIST_LIMIT) {
        r.alreadyActive.push({
          account: outcome.account,
          balance: outcome.balance,
          legacyBalance: outcome.legacyBalance,
        });
      }
    } else {
      r.imported += 1;
      r.tokensImported += outcome.balance;
      if (legacy.balanceWasNull) r.nullBalancesInitialized += 1;
      if (legacy.usedWasNull) r.nullUsedInitialized += 1;
      if (legacy.planDefaulted === 'null') r.nullPlansDefaulted += 1;
      if (legacy.unknownPlan !== null) {
        this.unknown.set(legacy.unknownPlan, (this.unknown.get(legacy.unknownPlan) ?? 0) + 1);
      }
    }
  }

  done(): ImportReport {
    const unknownPlans = [...this.unknown.entries()]
      .map(([plan, rows]) => ({ plan, rows }))
      .sort((a, b) => b.rows - a.rows || (a.plan < b.plan ? -1 : 1));
    return { ...this.report, unknownPlans };
  }
}
