import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { TokenmeterError } from '../core/errors.ts';
import { errorJson } from '../ledger/wire.ts';
import { addAdjustCommand } from './commands/adjust.ts';
import { addAutoTopupCommand } from './commands/auto-topup.ts';
import { addBackupCommand } from './commands/backup.ts';
import { addBalanceCommand } from './commands/balance.ts';
import { addCreditCommand } from './commands/credit.ts';
import { addDeductCommand } from './commands/deduct.ts';
import { addDemoCommand } from './commands/demo.ts';
import { addEventsCommand } from './commands/events.ts';
import { addExportCommand } from './commands/export.ts';
import { addGrantCommand } from './commands/grant.ts';
import { addGrantsCommand } from './commands/grants.ts';
import { addHistoryCommand } from './commands/history.ts';
import { addImportLegacyCommand } from './commands/import-legacy.ts';
import { addKeysCommand } from './commands/keys.ts';
import { addMigrateCommand } from './commands/migrate.ts';
import { addPoolCommand } from './commands/pool.ts';
import { addReconcileCommand } from './commands/reconcile.ts';
import { addRecoverCommand } from './commands/recover.ts';
import { addServeCommand } from './commands/serve.ts';
import { addSetPlanCommand } from './commands/set-plan.ts';
import { addVoidGrantCommand } from './commands/void-grant.ts';
import { addWebhooksCommand } from './commands/webhooks.ts';
import { EXIT_CODES_HELP, EXIT_FAILURE, writeJson } from './run-command.ts';

/** The `tokenmeter` command line, ready to parse. */
function buildProgram(): Command {
  const program = new Command('tokenmeter')
    .description('tokenmeter: a prepaid token ledger. Output on stdout, logs (JSON) on stderr.')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    // A usage error is one line, like every other failure (commander would add the hint, and
    // its "Did you mean" suggestion, on lines of their own).
    .configureOutput({ outputError: (message, write) => write(`${oneLine(message)} (run with --help for usage)\n`) })
    .addHelpText('after', EXIT_CODES_HELP);
  addMigrateCommand(program);
  addDemoCommand(program);
  addBackupCommand(program);
  addBalanceCommand(program);
  addDeductCommand(program);
  addAdjustCommand(program);
  addCreditCommand(program);
  addGrantCommand(program);
  addGrantsCommand(program);
  addVoidGrantCommand(program);
  addSetPlanCommand(program);
  addAutoTopupCommand(program);
  addPoolCommand(program);
  addHistoryCommand(program);
  addReconcileCommand(program);
  addImportLegacyCommand(program);
  addRecoverCommand(program);
  addExportCommand(program);
  addServeCommand(program);
  addKeysCommand(program);
  addWebhooksCommand(program);
  addEventsCommand(program);
  for (const command of program.commands) command.addHelpText('after', EXIT_CODES_HELP);
  return program;
}

/** Runs the CLI and sets process.exitCode; it never calls process.exit, so logs flush. */
export async function main(argv: readonly string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv]);
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    // Commander has already printed its message (or the help/version) on the right stream.
    process.exitCode = err.exitCode;
    if (err.exitCode !== 0 && argv.includes('--json')) {
      writeJson(errorJson(new TokenmeterError('invalid_request', err.message.replace(/^error: /, ''))));
    }
  }
}

function oneLine(message: string): string {
  return message.trim().replace(/\s*\n\s*/g, ' ');
}

function packageVersion(): string {
  try {
    const json: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    if (typeof json === 'object' && json !== null && 'version' in json && typeof json.version === 'string') {
      return json.version;
    }
  } catch {
    // Fall through: a missing package.json must not stop the CLI.
  }
  return '0.0.0';
}

/** The `tokenmeter` process: runs `main` on its arguments; a failure is one line on stderr and exit 1. */
export function start(): void {
  // `tokenmeter history 7 | head` closes stdout early: that is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  main().catch((err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EXIT_FAILURE;
  });
}
