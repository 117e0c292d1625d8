import type { Command } from 'commander';
import { reconcileJson } from '../../ledger/wire.ts';
import { type CommonOptions, EXIT_FAILURE, EXIT_OK, runWithLedger, withCommonOptions } from '../run-command.ts';

export function addReconcileCommand(program: Command): void {
  withCommonOptions(
    program.command('reconcile').description('check every account against its ledger and holds; exit 1 on any drift'),
  ).action((options: CommonOptions) =>
    runWithLedger(options, async (ledger) => {
      const report = await ledger.reconcile();
      const n = report.accountsChecked;
      const checked = `${n} ${n === 1 ? 'account' : 'accounts'} checked`;
      if (report.drift.length === 0) {
        return { json: reconcileJson(report), lines: [`Reconciled: ${checked}, no drift`], exitCode: EXIT_OK };
      }
      const lines = report.drift.map(
        (d) =>
          `  account ${d.account}: ${d.check} is ${d.actual}, ledger says ${d.expected}` +
          (d.entryId === null ? '' : ` (entry #${d.entryId})`),
      );
      return {
        json: reconcileJson(report),
        lines: [],
        errorLines: [`error: drift found (${checked}, ${report.drift.length} problems):`, ...lines],
        exitCode: EXIT_FAILURE,
      };
    }),
  );
}
