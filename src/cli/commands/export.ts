import { once } from 'node:events';
import { type Command, Option } from 'commander';
import { requireAccountId } from '../../core/account-id.ts';
import { invalid, TokenmeterError } from '../../core/errors.ts';
import { openLedger } from '../../ledger/open-ledger.ts';
import { entryJson } from '../../ledger/wire.ts';
import { createLogger } from '../../log/logger.ts';
import { entryCsvHeader, entryCsvLine } from '../../migrate/entry-csv.ts';
import { entriesOldestFirst } from '../../migrate/ledger-export.ts';
import { type CommonOptions, EXIT_FAILURE, reportError, withCommonOptions } from '../run-command.ts';

interface ExportOptions extends CommonOptions {
  account: string;
  format?: 'csv' | 'json';
}

const CHUNK = 64 * 1024;

export function addExportCommand(program: Command): void {
  withCommonOptions(
    program
      .command('export')
      .description("an account's whole ledger, oldest first, for support and accounting (streamed)")
      .requiredOption('--account <id>', "the app's account id")
      .addOption(
        new Option('--format <format>', 'csv (default) or json (--json is the same)').choices(['csv', 'json']),
      ),
  ).action(async (options: ExportOptions) => {
    const format = options.format ?? (options.json === true ? 'json' : 'csv');
    const jsonErrors = format === 'json' || options.json === true;
    try {
      if (options.json === true && format === 'csv') throw invalid('format', '--json exports JSON; drop one of them');
      const account = requireAccountId(options.account);
      const ledger = await openLedger({
        ...(options.config === undefined ? {} : { configPath: options.config }),
        logger: createLogger(),
      });
      try {
        if (!(await ledger.getBalance(account)).exists) {
          throw new TokenmeterError('not_found', `Account ${account} does not exist`, 'account');
        }
        await streamExport(entriesOldestFirst(ledger, account), account, format);
      } finally {
        await ledger.close();
      }
    } catch (err) {
      reportError(err, jsonErrors);
      process.exitCode = EXIT_FAILURE;
    }
  });
}

/** Writes the export as it is read, in chunks, waiting whenever stdout is full. */
async function streamExport(
  entries: AsyncIterable<Parameters<typeof entryJson>[0]>,
  account: string,
  format: 'csv' | 'json',
): Promise<void> {
  let buffer = format === 'csv' ? entryCsvHeader() : `{"success":true,"account":${JSON.stringify(account)},"entries":[`;
  let count = 0;
  for await (const entry of entries) {
    buffer +=
      format === 'csv' ? entryCsvLine(entry) : `${count === 0 ? '\n' : ',\n'}${JSON.stringify(entryJson(entry))}`;
    count += 1;
    if (buffer.length >= CHUNK) {
      await write(buffer);
      buffer = '';
    }
  }
  if (format === 'json') buffer += `${count === 0 ? '' : '\n'}],"count":${count}}\n`;
  await write(buffer);
}

async function write(text: string): Promise<void> {
  if (text !== '' && !process.stdout.write(text)) await once(process.stdout, 'drain');
}
