import type { Command } from 'commander';
import { type CommonOptions, runWithLedger, withCommonOptions } from '../run-command.ts';

export function addMigrateCommand(program: Command): void {
  withCommonOptions(
    program
      .command('migrate')
      .description('create or upgrade the database schema (every command also does this on open)'),
  ).action((options: CommonOptions) =>
    runWithLedger(options, async (ledger) => {
      const { backend, location } = ledger.store;
      return {
        json: { success: true, backend, database: location },
        lines: [`Database ${location} is migrated (${backend})`],
      };
    }),
  );
}
