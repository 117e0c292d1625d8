import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { invalid } from '../../core/errors.ts';
import { type CommonOptions, runWithLedger, withCommonOptions } from '../run-command.ts';

export function addBackupCommand(program: Command): void {
  withCommonOptions(
    program
      .command('backup')
      .description('write a consistent copy of the SQLite database, safe while it serves')
      .argument('<file>', 'the new file to write (an existing file is never overwritten)'),
  ).action((file: string, options: CommonOptions) =>
    runWithLedger(options, async (ledger) => {
      const target = resolve(file);
      if (existsSync(target)) throw invalid('file', `${target} already exists; choose a new file`);
      await ledger.store.backup(target);
      return {
        json: { success: true, database: ledger.store.location, file: target },
        lines: [`Backed up ${ledger.store.location} to ${target}`],
      };
    }),
  );
}
