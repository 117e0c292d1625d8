import type { Command } from 'commander';
import { parseIntStrict } from '../../core/amounts.ts';
import { creditJson } from '../../ledger/wire.ts';
import {
  type CommonOptions,
  defaultActor,
  refusalResult,
  runWithLedger,
  tokens,
  withCommonOptions,
} from '../run-command.ts';

interface CreditOptions extends CommonOptions {
  tokens: string;
  source: string;
  reference: string;
  reason?: string;
  actor?: string;
}

export function addCreditCommand(program: Command): void {
  withCommonOptions(
    program
      .command('credit')
      .description('grant purchased tokens (never expire), once per (source, reference)')
      .argument('<account>', "the app's account id")
      .requiredOption('--tokens <n>', 'tokens to add, 1 to 1000000000')
      .requiredOption('--source <source>', 'where they come from, e.g. grant or support')
      .requiredOption('--reference <ref>', 'unique per source: a repeat replays instead of crediting twice')
      .option('--reason <text>', 'why (recorded in the ledger)')
      .option('--actor <name>', 'who (default cli:<os user>)'),
  ).action((account: string, options: CreditOptions) =>
    runWithLedger(options, async (ledger) => {
      const r = await ledger.credit({
        account,
        tokens: parseIntStrict('tokens', options.tokens),
        source: options.source,
        reference: options.reference,
        kind: 'credit',
        actor: options.actor ?? defaultActor(),
        ...(options.reason === undefined ? {} : { reason: options.reason }),
      });
      if (!r.ok) return refusalResult(r);
      const line = r.replayed
        ? `Already credited: ${options.source} reference "${options.reference}" (nothing added); balance ${r.balance}`
        : `Credited ${tokens(r.tokens)} to account ${r.account}: balance now ${r.balance} (available ${r.available})`;
      return { json: creditJson(r), lines: [line] };
    }),
  );
}
