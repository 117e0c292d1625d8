import { type Command, Option } from 'commander';
import { parseIntStrict } from '../../core/amounts.ts';
import { invalid } from '../../core/errors.ts';
import { adjustJson } from '../../ledger/wire.ts';
import {
  type CommonOptions,
  defaultActor,
  refusalResult,
  runWithLedger,
  tokens,
  withCommonOptions,
} from '../run-command.ts';

interface AdjustOptions extends CommonOptions {
  amount?: string;
  setBalance?: string;
  reason: string;
  expectedBalance?: string;
  actor?: string;
  idempotencyKey?: string;
}

export function addAdjustCommand(program: Command): void {
  withCommonOptions(
    program
      .command('adjust')
      .description('an operator correction, by an amount or to a balance, with the reason on record')
      .argument('<account>', "the app's account id")
      .addOption(new Option('--amount <n>', 'add (or, negative, take) this many tokens').conflicts('setBalance'))
      .addOption(new Option('--set-balance <n>', 'set the balance to this figure (0 or more)').conflicts('amount'))
      .requiredOption('--reason <text>', 'why (required; recorded in the ledger)')
      .option('--expected-balance <n>', 'refuse (balance_changed) unless the balance is still this')
      .option('--actor <name>', 'who (default cli:<os user>)')
      .option('--idempotency-key <key>', 'at most once per account and key; other parameters with it are refused'),
  ).action((account: string, options: AdjustOptions) =>
    runWithLedger(options, async (ledger) => {
      const amount = options.amount === undefined ? undefined : parseIntStrict('amount', options.amount);
      const setBalance =
        options.setBalance === undefined ? undefined : parseIntStrict('setBalance', options.setBalance);
      const expectedBalance =
        options.expectedBalance === undefined ? undefined : parseIntStrict('expectedBalance', options.expectedBalance);
      const common = {
        account,
        reason: options.reason,
        actor: options.actor ?? defaultActor(),
        ...(expectedBalance === undefined ? {} : { expectedBalance }),
        ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
      };
      let r: Awaited<ReturnType<typeof ledger.adjust>>;
      if (amount !== undefined) r = await ledger.adjust({ ...common, amount });
      else if (setBalance !== undefined) r = await ledger.adjust({ ...common, setBalance });
      else throw invalid('amount', 'give exactly one of --amount or --set-balance');
      if (!r.ok) return refusalResult(r);
      const line =
        r.entryId === null
          ? `Account ${r.account}: balance already ${r.balance}; nothing changed`
          : `Adjusted account ${r.account} by ${tokens(r.delta)}: balance ${r.balanceBefore} → ${r.balance} ` +
            `(available ${r.available})`;
      return { json: adjustJson(r), lines: [line] };
    }),
  );
}
