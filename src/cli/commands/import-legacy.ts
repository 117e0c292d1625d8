import type { Command } from 'commander';
import { parseIntStrict } from '../../core/amounts.ts';
import { importLegacy } from '../../migrate/import-legacy.ts';
import { SEED_COLUMNS } from '../../migrate/legacy/legacy-source.ts';
import { openLegacySource } from '../../migrate/legacy/open-legacy-source.ts';
import { importReportJson } from '../../migrate/report-json.ts';
import { type CommonOptions, defaultActor, runWithLedger, withCommonOptions } from '../run-command.ts';
import { importLines } from './import-legacy-lines.ts';

interface ImportLegacyOptions extends CommonOptions {
  source: string;
  table: string;
  idColumn: string;
  balanceColumn: string;
  usedColumn: string;
  planColumn: string;
  dryRun?: boolean;
  actor?: string;
  batchSize?: string;
}

export function addImportLegacyCommand(program: Command): void {
  withCommonOptions(
    program
      .command('import-legacy')
      .description("bring an existing app's users over: each opens with its legacy balance; nothing is overwritten")
      .requiredOption('--source <url>', 'sqlite:<path>, postgres://user@host/db, or the path of a CSV file')
      .option('--table <name>', 'the users table (SQL sources)', SEED_COLUMNS.table)
      .option('--id-column <name>', "the user id column: tokenmeter's account id", SEED_COLUMNS.id)
      .option('--balance-column <name>', 'the token balance column (NULL → the plan allocation)', SEED_COLUMNS.balance)
      .option('--used-column <name>', 'the used-this-month column (NULL → 0)', SEED_COLUMNS.used)
      .option('--plan-column <name>', 'the plan column (NULL or unknown → the default plan)', SEED_COLUMNS.plan)
      .option('--dry-run', 'report what would be imported; write nothing')
      .option('--actor <name>', 'who (default cli:<os user>), recorded on each opening entry')
      .option('--batch-size <n>', 'accounts per transaction, 1 to 1000 (default 500)'),
  ).action((options: ImportLegacyOptions) =>
    runWithLedger(options, async (ledger) => {
      const batchSize = options.batchSize === undefined ? undefined : parseIntStrict('batchSize', options.batchSize);
      const source = await openLegacySource(options.source, {
        table: options.table,
        id: options.idColumn,
        balance: options.balanceColumn,
        used: options.usedColumn,
        plan: options.planColumn,
      });
      // The progress bar's library is loaded only by the command that draws it.
      const { startProgress } = await import('../../migrate/progress-bar.ts');
      const progress = startProgress({ label: 'Importing', total: source.total, unit: source.unit });
      try {
        const report = await importLegacy(ledger, source, {
          dryRun: options.dryRun === true,
          actor: options.actor ?? defaultActor(),
          ...(batchSize === undefined ? {} : { batchSize }),
          onProgress: (position, rows) => progress.update(position, rows),
        });
        return { json: importReportJson(report), lines: importLines(report) };
      } finally {
        progress.stop();
        await source.close();
      }
    }),
  );
}
