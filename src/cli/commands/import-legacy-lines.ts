import type { ImportReport } from '../../migrate/import-tally.ts';
import { tokens } from '../run-command.ts';

/** An import's summary for people. */
export function importLines(r: ImportReport): string[] {
  const verb = r.dryRun ? 'Would import' : 'Imported';
  const lines = [
    `${r.dryRun ? 'Dry run (nothing written). ' : ''}${verb} ${accounts(r.imported)} from ${r.source}: ` +
      `${tokens(r.tokensImported)} (${r.rowsRead} rows read)`,
    `  NULL balances initialized to the plan allocation: ${r.nullBalancesInitialized}`,
    `  NULL used counts set to 0: ${r.nullUsedInitialized}`,
    `  NULL plans defaulted to ${r.defaultPlan}: ${r.nullPlansDefaulted}`,
  ];
  if (r.unknownPlans.length > 0) {
    const named = r.unknownPlans.map((u) => `"${u.plan}" (${u.rows})`).join(', ');
    lines.push(`  unknown plans defaulted to ${r.defaultPlan}: ${named}`);
  }
  lines.push(`  skipped, already imported: ${r.skipped}`);
  lines.push(
    `  already active in tokenmeter, not overwritten: ${r.alreadyActiveCount}` +
      (r.alreadyActiveCount > 0 ? ' (settle each with `tokenmeter adjust`)' : ''),
  );
  for (const a of r.alreadyActive) {
    lines.push(`    account ${a.account}: tokenmeter ${a.balance}, legacy ${a.legacyBalance}`);
  }
  lines.push(`  rejected: ${r.rejectedCount}`);
  for (const x of r.rejected) {
    const where = x.line === null ? `row ${x.row}` : `row ${x.row} (line ${x.line})`;
    lines.push(`    ${where}${x.account === null ? '' : `, id ${x.account}`}: ${x.reason}`);
  }
  const unlisted = r.alreadyActiveCount - r.alreadyActive.length + r.rejectedCount - r.rejected.length;
  if (unlisted > 0) lines.push(`  (${unlisted} more not listed; the counts are exact)`);
  return lines;
}

function accounts(n: number): string {
  return `${n} ${n === 1 ? 'account' : 'accounts'}`;
}
