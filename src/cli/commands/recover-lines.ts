import type { AccountRecovery, RecoveryReport } from '../../migrate/recover.ts';
import type { LogScan } from '../../migrate/scan-logs.ts';
import { tokens } from '../run-command.ts';

/** Unreadable lines quoted for people (--json carries more). */
const QUOTED = 10;

/** A recovery report for people: what the logs hold, then each account. */
export function recoveryLines(scan: LogScan, r: RecoveryReport): string[] {
  const files = `${scan.files.length} log ${scan.files.length === 1 ? 'file' : 'files'}`;
  const lines = [
    `Read ${files}: ${scan.lines} lines, ${scan.deductionLines} deduction lines ` +
      `(${scan.duplicateLines} met before), ${scan.unreadableLines} unreadable`,
  ];
  const quoted = scan.unreadable.slice(0, QUOTED);
  for (const u of quoted) lines.push(`  unreadable ${u.file}:${u.line}: ${u.reason}: ${u.text}`);
  if (scan.unreadableLines > quoted.length) {
    lines.push(`  (${scan.unreadableLines - quoted.length} more unreadable lines not quoted; --json lists up to 50)`);
  }
  for (const a of r.accounts) lines.push(...accountLines(a));
  const pending = r.accounts.filter((a) => a.status === 'correction_pending');
  if (!r.applied && pending.length > 0) {
    const sum = pending.reduce((s, a) => s + (a.correction ?? 0), 0);
    lines.push(
      `Preview only: ${count(pending.length, 'correction')} pending (${signed(sum)} tokens). ` +
        'Nothing was written; add --apply --reason TEXT to write them.',
    );
  } else if (r.applied) {
    lines.push(`Applied ${count(r.correctionsApplied, 'correction')} (${signed(r.tokensCorrected)} tokens).`);
  } else if (r.needsReview === 0) {
    lines.push('Nothing to correct.');
  }
  if (r.needsReview > 0) lines.push(`${count(r.needsReview, 'account')} need review; nothing was written for them.`);
  return lines;
}

function accountLines(a: AccountRecovery): string[] {
  const until = a.until === null ? '' : ` before ${new Date(a.until).toISOString()}`;
  const since = a.since === null ? '' : ` from ${new Date(a.since).toISOString()}`;
  const head = `Account ${a.account} (plan ${a.plan}): ${a.deductions} deductions, ${tokens(a.spent)} spent${since}${until}`;
  const out = [head];
  if (a.status === 'not_in_tokenmeter') {
    out.push('  not in tokenmeter: import it first (tokenmeter import-legacy); nothing to correct');
    return out;
  }
  if (a.status === 'no_evidence') {
    out.push('  no deduction lines in the window: nothing to recover');
    return out;
  }
  const counted = a.countedBefore.spent + a.fresh.spent;
  out.push(
    `  expected ${a.opening} − ${counted} = ${a.expected}; tokenmeter opened it with ${a.openedWith ?? '?'} ` +
      `(${a.openedBy ?? '?'})${a.recovered === 0 ? '' : `, earlier recoveries ${signed(a.recovered)}`}, holds ${a.balance ?? '?'} now`,
  );
  if (a.countedBefore.deductions > 0) {
    out.push(
      `  earlier recoveries counted ${count(a.countedBefore.deductions, 'deduction')} (${tokens(a.countedBefore.spent)}); ` +
        `of this window's, ${a.alreadyCounted.deductions} were among them and count no more, ` +
        `${a.fresh.deductions} are new (${tokens(a.fresh.spent)})`,
    );
  }
  if (a.coveredByOpening.deductions > 0) {
    out.push(
      `  ${count(a.coveredByOpening.deductions, 'deduction')} fall before the opening ${a.settledOpening} an earlier recovery settled: not counted`,
    );
  }
  if (a.untimed > 0) out.push(`  ${a.untimed} of the deductions come from lines without a timestamp (counted)`);
  if (a.status !== 'needs_review' && a.firstLoggedBalance !== null && a.firstLoggedBalance !== a.opening) {
    out.push(
      `  warning: the first counted line starts at balance ${a.firstLoggedBalance}, not the opening ${a.opening} (see --opening, --since)`,
    );
  }
  for (const p of a.repeats.slice(0, 3)) {
    out.push(
      `  RED FLAG: "Balance: ${p.balanceBefore} → ${p.balanceAfter}" logged ${p.times} times: the legacy app did not persist its deductions`,
    );
  }
  const correction = a.correction ?? 0;
  const status: Record<AccountRecovery['status'], string> = {
    correction_pending: `correction ${signed(correction)} → balance ${a.balanceAfter} (pending)`,
    applied: `applied ${signed(correction)}: balance ${a.balance} → ${a.balanceAfter} (entry #${a.entryId})`,
    already_applied: 'every deduction here was counted by an earlier recovery: nothing changed',
    no_correction: 'no correction needed',
    needs_review: `needs review, not written: ${reviewText(a)}`,
    no_evidence: '',
    not_in_tokenmeter: '',
  };
  out.push(`  ${status[a.status]}`);
  return out;
}

function reviewText(a: AccountRecovery): string {
  switch (a.review) {
    case 'opening_settled':
      return `an earlier recovery settled the opening at ${a.settledOpening}; --opening does not change it`;
    case 'unrecorded_recovery':
      return 'recoveries from before tokenmeter recorded the lines they counted exist; check this account by hand';
    default:
      return (
        `the logs start at balance ${a.firstLoggedBalance}, not the plan allocation ` +
        `${a.opening}; rerun with --account ${a.account} --opening N (and --since) to correct it`
      );
  }
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : String(n);
}
