import type { Command } from 'commander';
import { parseIntStrict } from '../../core/amounts.ts';
import { grantJson } from '../../ledger/wire.ts';
import { type CommonOptions, defaultActor, runWithLedger, tokens, withCommonOptions } from '../run-command.ts';

interface VoidGrantOptions extends CommonOptions {
  reason: string;
  actor?: string;
}

export function addVoidGrantCommand(program: Command): void {
  withCommonOptions(
    program
      .command('void-grant')
      .description('void a grant: what remains of it leaves the balance, with the reason on record')
      .argument('<id>', 'the grant id (see `tokenmeter grants <account>`)')
      .requiredOption('--reason <text>', 'why (required; recorded in the ledger)')
      .option('--actor <name>', 'who (default cli:<os user>)'),
  ).action((id: string, options: VoidGrantOptions) =>
    runWithLedger(options, async (ledger) => {
      const grant = await ledger.voidGrant({
        id: parseIntStrict('id', id),
        reason: options.reason,
        actor: options.actor ?? defaultActor(),
      });
      const view = await ledger.getBalance(grant.account);
      return {
        json: { success: true, grant: grantJson(grant, Date.now()) },
        lines: [
          `Voided grant #${grant.id} (${tokens(grant.tokens)} ${grant.category}) of account ${grant.account}: ` +
            `balance now ${view.balance} (available ${view.available})`,
        ],
      };
    }),
  );
}
