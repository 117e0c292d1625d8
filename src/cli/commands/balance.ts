import type { Command } from 'commander';
import type { BalanceView } from '../../core/balance-view.ts';
import { balanceJson } from '../../ledger/wire.ts';
import { type CommonOptions, runWithLedger, tokens, withCommonOptions } from '../run-command.ts';

const iso = (ms: number) => new Date(ms).toISOString();

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

/** A balance for people: the figures, then one line per grant it is spent from, in that order. */
export function balanceLines(view: BalanceView): string[] {
  const lines = [
    `Account ${view.account}: balance ${view.balance} (available ${view.available}), plan ${view.plan}, ` +
      `used this month ${view.usedThisCycle}`,
    `  allocation ${view.allocation}, purchased ${view.purchased}, promotional ${view.promotional}, ` +
      `debt ${view.debt}, held ${view.held}, rolled over ${view.rolledOver}; ` +
      `next reset ${view.nextReset === null ? 'by the provider' : iso(view.nextReset)}`,
  ];
  if (view.pool !== null) {
    const p = view.pool;
    const limit =
      p.limitPerCycle === null
        ? 'no limit'
        : `limit ${tokens(p.limitPerCycle)} per pool cycle, ${p.remainingThisCycle ?? 0} remaining`;
    lines.push(
      `  member of pool ${p.id} (${p.available} available there): ${limit}, used ${p.usedThisCycle} this cycle`,
    );
  }
  if (view.expiringNext !== null) {
    lines.push(`  expiring next: ${tokens(view.expiringNext.tokens)} on ${iso(view.expiringNext.at)}`);
  }
  if (view.grants.length > 0) lines.push('  grants, in the order they are spent:');
  for (const g of view.grants) {
    const ends = g.expiresAt === null ? 'never expires' : `until ${iso(g.expiresAt)}`;
    lines.push(`    #${g.id} ${g.category}: ${g.remaining} left, priority ${g.priority}, ${ends}`);
  }
  if (!view.exists) lines.push('  (never used: these are the figures it will open with)');
  if (view.featuresDisabled) lines.push('  Features disabled: no tokens available. Purchase tokens to continue.');
  return lines;
}
