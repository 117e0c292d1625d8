import type { Command } from 'commander';
import { parseIntStrict } from '../../core/amounts.ts';
import type { LedgerEntry } from '../../core/entry.ts';
import { historyJson } from '../../ledger/wire.ts';
import { type CommonOptions, runWithLedger, withCommonOptions } from '../run-command.ts';

interface HistoryOptions extends CommonOptions {
  limit?: string;
  cursor?: string;
}

export function addHistoryCommand(program: Command): void {
  withCommonOptions(
    program
      .command('history')
      .description("an account's ledger entries, newest first")
      .argument('<account>', "the app's account id")
      .option('--limit <n>', 'entries per page, 1 to 1000 (default 50)')
      .option('--cursor <cursor>', 'continue from a previous page'),
  ).action((account: string, options: HistoryOptions) =>
    runWithLedger(options, async (ledger) => {
      const limit = options.limit === undefined ? undefined : parseIntStrict('limit', options.limit);
      const h = await ledger.history(account, {
        ...(limit === undefined ? {} : { limit }),
        ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
      });
      const lines = h.entries.length === 0 ? [`Account ${h.account}: no ledger entries`] : h.entries.map(entryLine);
      if (h.nextCursor !== null) lines.push(`More: tokenmeter history ${account} --cursor ${h.nextCursor}`);
      return { json: historyJson(h), lines };
    }),
  );
}

function entryLine(e: LedgerEntry): string {
  const sign = e.amount > 0 ? '+' : '';
  const parts = [`#${e.id}`, new Date(e.at).toISOString(), e.kind, `${sign}${e.amount}`, `→ ${e.balanceAfter}`];
  if (e.feature !== null) parts.push(`${e.feature} x${e.quantity ?? 1}`);
  if (e.source !== null) parts.push(`${e.source}:${e.reference ?? ''}`);
  if (e.reason !== null) parts.push(`"${e.reason}"`);
  if (e.actor !== null) parts.push(`by ${e.actor}`);
  return parts.join('  ');
}
