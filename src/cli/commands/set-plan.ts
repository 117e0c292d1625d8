import type { Command } from 'commander';
import { planJson } from '../../ledger/wire.ts';
import { type CommonOptions, defaultActor, runWithLedger, withCommonOptions } from '../run-command.ts';

interface SetPlanOptions extends CommonOptions {
  reason: string;
  actor?: string;
}

export function addSetPlanCommand(program: Command): void {
  withCommonOptions(
    program
      .command('set-plan')
      .description("switch an account's plan now, within the cycle: an upgrade adds the difference of the allocations")
      .argument('<account>', "the app's account id")
      .argument('<plan>', 'a configured plan id, e.g. starter')
      .requiredOption('--reason <text>', 'why (required; recorded in the ledger)')
      .option('--actor <name>', 'who (default cli:<os user>)'),
  ).action((account: string, plan: string, options: SetPlanOptions) =>
    runWithLedger(options, async (ledger) => {
      const r = await ledger.setPlan({ account, plan, reason: options.reason, actor: options.actor ?? defaultActor() });
      const line =
        r.entryId === null
          ? `Account ${r.account} is already on plan ${r.plan}; nothing changed`
          : `Account ${r.account}: plan ${r.previousPlan ?? '(new account)'} → ${r.plan}, balance ${r.balance} ` +
            `(available ${r.available}), rolled over ${r.rolledOver}`;
      return { json: planJson(r), lines: [line] };
    }),
  );
}
