import type { Command } from 'commander';
import type { BalanceView } from '../../core/balance-view.ts';
import { balanceJson } from '../../ledger/wire.ts';
import { type CommonOptions, runWithLedger, withCommonOptions } from '../run-command.ts';

export function addBalanceCommand(program: Command): void {
  withCommonOptions(
    program
      .command('balance')
      .description("show an account's balance, plan and per-feature affordability (writes nothing)")
      .argument('<account>', "the app's account id"),
  ).action((account: string, options: CommonOptions) =>
    runWithLedger(options, async (ledger) => {
      const view = await ledger.getBalance(account);
      return { json: balanceJson(view), lines: balanceLines(view) };
    }),
  );
}

/** A balance for people, in two or three short lines. */
export function balanceLines(view: BalanceView): string[] {
  const lines = [
    `Account ${view.account}: balance ${view.balance} (available ${view.available}), plan ${view.plan}, ` +
      `used this month ${view.usedThisCycle}`,
    `  allocation ${view.allocation}, purchased ${view.purchased}, held ${view.held}, ` +
      `rolled over ${view.rolledOver}; next reset ${view.nextReset === null ? 'by the provider' : new Date(view.nextReset).toISOString()}`,
  ];
  if (!view.exists) lines.push('  (never used: these are the figures it will open with)');
  if (view.featuresDisabled) lines.push('  Features disabled: no tokens available. Purchase tokens to continue.');
  return lines;
}
