import type { Command } from 'commander';
import type { Grant } from '../../core/grant.ts';
import { displayStatus } from '../../core/grant.ts';
import { grantJson, remainingShown } from '../../ledger/wire.ts';
import { type CommonOptions, runWithLedger, withCommonOptions } from '../run-command.ts';
import { expiryText } from './grant.ts';

interface GrantsOptions extends CommonOptions {
  all?: boolean;
}

export function addGrantsCommand(program: Command): void {
  withCommonOptions(
    program
      .command('grants')
      .description("an account's grants, newest first: the live ones, or every one with --all")
      .argument('<account>', "the app's account id")
      .option('--all', 'also the expired, voided and used-up ones'),
  ).action((account: string, options: GrantsOptions) =>
    runWithLedger(options, async (ledger) => {
      const grants = await ledger.grants(account, { includeInactive: options.all === true });
      const now = Date.now();
      const lines =
        grants.length === 0
          ? [`Account ${account}: no ${options.all === true ? '' : 'live '}grants`]
          : grants.map((g) => grantLine(g, now));
      return { json: { success: true, account, grants: grants.map((g) => grantJson(g, now)) }, lines };
    }),
  );
}

function grantLine(g: Grant, now: number): string {
  const status = displayStatus(g, now);
  const remaining = remainingShown(g, status);
  const parts = [
    `#${g.id}`,
    g.category,
    `${remaining}/${g.tokens} left`,
    status,
    `priority ${g.priority}`,
    expiryText(g),
    `${g.source}:${g.reference}`,
  ];
  if (g.reason !== null) parts.push(`"${g.reason}"`);
  return parts.join('  ');
}
