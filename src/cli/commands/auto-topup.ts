import type { Command } from 'commander';
import { parseIntStrict } from '../../core/amounts.ts';
import { invalid } from '../../core/errors.ts';
import { autoTopupJson } from '../../http/auto-topup-json.ts';
import type { TokenLedger } from '../../ledger/token-ledger.ts';
import type { AutoTopupView } from '../../ledger/topup/auto-topup-ledger.ts';
import { type CommonOptions, runWithLedger, tokens, withCommonOptions } from '../run-command.ts';

interface AutoTopupOptions extends CommonOptions {
  enable?: boolean;
  disable?: boolean;
  threshold?: string;
  package?: string;
  monthlyLimit?: string;
}

/** `auto-topup <account>`: shows the settings, or saves them with `--enable ...` / `--disable`. */
export function addAutoTopupCommand(program: Command): void {
  withCommonOptions(
    program
      .command('auto-topup')
      .description("show or change an account's automatic top-up; values not given are kept from the current settings")
      .argument('<account>', "the app's account id")
      .option('--enable', 'turn it on (needs a card saved by a top-up checkout)')
      .option('--disable', 'turn it off')
      .option('--threshold <n>', 'top up when available drops below this (0 or more)')
      .option('--package <id>', 'the top-up package bought each time, e.g. tokens_500')
      .option('--monthly-limit <n>', 'most automatic top-ups per calendar month (UTC), 1 to 100'),
  ).action((account: string, options: AutoTopupOptions) =>
    runWithLedger(options, async (ledger) => {
      if (options.enable === true && options.disable === true) {
        throw invalid('enable', 'give --enable or --disable, not both');
      }
      const current = await ledger.autoTopup.get(account);
      const changes =
        options.enable === true ||
        options.disable === true ||
        options.threshold !== undefined ||
        options.package !== undefined ||
        options.monthlyLimit !== undefined;
      const view = changes ? await ledger.autoTopup.put(request(account, current, options)) : current;
      return {
        json: { success: true, auto_topup: autoTopupJson(view) },
        lines: [...(changes ? ['Saved.'] : []), ...describe(view, ledger)],
      };
    }),
  );
}

function request(account: string, current: AutoTopupView, o: AutoTopupOptions) {
  return {
    account,
    enabled: o.enable === true ? true : o.disable === true ? false : current.enabled,
    threshold: o.threshold === undefined ? current.threshold : parseIntStrict('threshold', o.threshold),
    packageId: o.package ?? current.packageId,
    monthlyLimit: o.monthlyLimit === undefined ? current.monthlyLimit : parseIntStrict('monthly_limit', o.monthlyLimit),
  };
}

function describe(v: AutoTopupView, ledger: TokenLedger): string[] {
  const pkg = ledger.catalog.packages.get(v.packageId);
  const buys = pkg ? `${v.packageId} (${tokens(pkg.tokens)})` : v.packageId;
  const lines = [
    `Auto top-up for account ${v.account}: ${v.status}`,
    `  when available drops below ${v.threshold}, buy ${buys}`,
    `  at most ${v.monthlyLimit} a month; ${v.usedThisMonth} this month`,
    `  card: ${v.paymentMethod ? `${v.paymentMethod.brand} ending ${v.paymentMethod.last4}` : 'none saved'}`,
  ];
  if (v.lastError !== null) lines.push(`  last error: ${v.lastError}`);
  return lines;
}
