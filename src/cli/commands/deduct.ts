import type { Command } from 'commander';
import { parseIntStrict } from '../../core/amounts.ts';
import { deductJson } from '../../ledger/wire.ts';
import { type CommonOptions, refusalResult, runWithLedger, tokens, withCommonOptions } from '../run-command.ts';

interface DeductOptions extends CommonOptions {
  quantity?: string;
  idempotencyKey?: string;
}

export function addDeductCommand(program: Command): void {
  withCommonOptions(
    program
      .command('deduct')
      .description('charge a feature use (cost x quantity); exit 2 when refused for insufficient tokens')
      .argument('<account>', "the app's account id (provisioned on first use)")
      .argument('<feature>', 'a configured feature id, e.g. outbound_call_single')
      .option('--quantity <n>', 'units used, 1 to 1000000 (default 1)')
      .option('--idempotency-key <key>', 'charge at most once per key; a repeat replays the first result'),
  ).action((account: string, feature: string, options: DeductOptions) =>
    runWithLedger(options, async (ledger) => {
      const quantity = options.quantity === undefined ? undefined : parseIntStrict('quantity', options.quantity);
      const r = await ledger.deduct({
        account,
        feature,
        ...(quantity === undefined ? {} : { quantity }),
        ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
      });
      if (!r.ok) return refusalResult(r);
      // A replay returns the first result verbatim, so its figures are those of then, not now.
      const line = r.replayed
        ? `Already charged under this idempotency key (entry #${r.entryId}): ${tokens(r.cost)} for ${r.feature}; ` +
          'nothing charged again'
        : `Charged ${tokens(r.cost)} to account ${r.account} for ${r.feature} x${r.quantity}: ` +
          `balance ${r.balanceBefore} → ${r.balance} (available ${r.available})`;
      return { json: deductJson(r), lines: [line] };
    }),
  );
}
