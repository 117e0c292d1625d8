import type { Command } from 'commander';
import { requireAccountId } from '../../core/account-id.ts';
import { MAX_ADJUSTMENT, parseIntStrict } from '../../core/amounts.ts';
import { invalid } from '../../core/errors.ts';
import { requireIsoTime } from '../../core/log-time.ts';
import { requireText } from '../../ledger/inputs.ts';
import { recover } from '../../migrate/recover.ts';
import { recoveryReportJson } from '../../migrate/report-json.ts';
import { scanLogs } from '../../migrate/scan-logs.ts';
import { type CommonOptions, defaultActor, runWithLedger, withCommonOptions } from '../run-command.ts';
import { recoveryLines } from './recover-lines.ts';

interface RecoverOptions extends CommonOptions {
  logs: string[];
  since?: string;
  until?: string;
  opening?: string;
  account?: string;
  apply?: boolean;
  reason?: string;
  actor?: string;
}

export function addRecoverCommand(program: Command): void {
  withCommonOptions(
    program
      .command('recover')
      .description('recover tokens the legacy logs prove were spent but never saved; a preview unless --apply')
      .requiredOption(
        '--logs <file...>',
        'legacy log files, plain or gzip (repeatable; overlapping files count a line once)',
      )
      .option('--since <time>', 'count lines from this ISO-8601 time (UTC unless it names a zone)')
      .option('--until <time>', "count lines before this time (never past the account's import)")
      .option(
        '--opening <n>',
        "the balance each account had at --since (default: its plan's allocation); the first applied recovery settles it",
      )
      .option('--account <id>', 'only this account')
      .option(
        '--apply',
        'write each correction as an adjustment; a log line is counted by one applied recovery at most',
      )
      .option('--reason <text>', 'why (required with --apply; recorded in the ledger)')
      .option('--actor <name>', 'who (default cli:<os user>)'),
  ).action((options: RecoverOptions) =>
    runWithLedger(options, async (ledger) => {
      const since = options.since === undefined ? null : requireIsoTime('since', options.since);
      const until = options.until === undefined ? null : requireIsoTime('until', options.until);
      if (since !== null && until !== null && until <= since) throw invalid('until', 'must be after --since');
      const opening = options.opening === undefined ? null : parseIntStrict('opening', options.opening);
      if (opening !== null && (opening < 0 || opening > MAX_ADJUSTMENT)) {
        throw invalid('opening', `must be between 0 and ${MAX_ADJUSTMENT}`);
      }
      const account = options.account === undefined ? null : requireAccountId(options.account);
      if (options.apply === true && options.reason === undefined) throw invalid('reason', 'is required with --apply');
      const apply =
        options.apply === true
          ? { reason: requireText('reason', options.reason, 500), actor: options.actor ?? defaultActor() }
          : null;

      const scan = await scanLogs(options.logs, account);
      const report = await recover(ledger, scan, { since, until, opening, account, apply });
      return {
        json: recoveryReportJson(scan, report, { since, until }),
        lines: recoveryLines(scan, report),
      };
    }),
  );
}
