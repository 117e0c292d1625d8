import type { Tally } from '../core/recovery.ts';
import type { JsonObject } from '../ledger/wire.ts';
import type { ImportReport } from './import-tally.ts';
import type { RecoveryReport } from './recover.ts';
import type { LogScan } from './scan-logs.ts';

/** `tokenmeter import-legacy --json`: snake_case like every other answer. */
export function importReportJson(r: ImportReport): JsonObject {
  return {
    success: true,
    dry_run: r.dryRun,
    source: r.source,
    rows_read: r.rowsRead,
    imported: r.imported,
    tokens_imported: r.tokensImported,
    null_balances_initialized: r.nullBalancesInitialized,
    null_used_initialized: r.nullUsedInitialized,
    null_plans_defaulted: r.nullPlansDefaulted,
    unknown_plans: r.unknownPlans.map((u) => ({ plan: u.plan, rows: u.rows })),
    default_plan: r.defaultPlan,
    skipped: r.skipped,
    already_active: r.alreadyActive.map((a) => ({
      account: a.account,
      balance: a.balance,
      legacy_balance: a.legacyBalance,
    })),
    already_active_count: r.alreadyActiveCount,
    rejected: r.rejected.map((x) => ({ row: x.row, line: x.line, account: x.account, reason: x.reason })),
    rejected_count: r.rejectedCount,
  };
}

/** `tokenmeter recover --json`. */
export function recoveryReportJson(
  scan: LogScan,
  r: RecoveryReport,
  window: { since: number | null; until: number | null },
): JsonObject {
  return {
    success: true,
    applied: r.applied,
    since: iso(window.since),
    until: iso(window.until),
    logs: {
      files: scan.files.map((f) => ({
        file: f.file,
        gzip: f.gzip,
        lines: f.lines,
        deduction_lines: f.deductionLines,
        unreadable_lines: f.unreadableLines,
      })),
      lines: scan.lines,
      deduction_lines: scan.deductionLines,
      duplicate_lines: scan.duplicateLines,
      other_account_lines: scan.otherAccountLines,
      other_lines: scan.otherLines,
      unreadable_lines: scan.unreadableLines,
      unreadable: scan.unreadable.map((u) => ({ file: u.file, line: u.line, text: u.text, reason: u.reason })),
    },
    accounts: r.accounts.map((a) => ({
      account: a.account,
      status: a.status,
      plan: a.plan,
      window: { since: iso(a.since), until: iso(a.until) },
      deductions: a.deductions,
      untimed_deductions: a.untimed,
      outside_window: a.outsideWindow,
      spent: a.spent,
      opening: a.opening,
      expected_balance: a.expected,
      opened_with: a.openedWith,
      opened_by: a.openedBy,
      opened_at: iso(a.openedAt),
      earlier_recoveries: a.recovered,
      counted_before: tally(a.countedBefore),
      already_counted: tally(a.alreadyCounted),
      covered_by_opening: tally(a.coveredByOpening),
      new_deductions: a.fresh.deductions,
      new_spent: a.fresh.spent,
      settled_opening: a.settledOpening,
      review_reason: a.review,
      balance: a.balance,
      correction: a.correction,
      balance_after: a.balanceAfter,
      red_flag: a.redFlag,
      repeated_balances: a.repeats.map((p) => ({
        balance_before: p.balanceBefore,
        balance_after: p.balanceAfter,
        times: p.times,
      })),
      first_logged_balance: a.firstLoggedBalance,
      opening_mismatch: a.firstLoggedBalance !== null && a.firstLoggedBalance !== a.opening,
      reference: a.reference,
      entry_id: a.entryId,
    })),
    corrections_pending: r.correctionsPending,
    corrections_applied: r.correctionsApplied,
    needs_review: r.needsReview,
    tokens_corrected: r.tokensCorrected,
  };
}

/** What a set of deductions took: how many, and their tokens. */
function tally(t: Tally): JsonObject {
  return { deductions: t.deductions, spent: t.spent };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
