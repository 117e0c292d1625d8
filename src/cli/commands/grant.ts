import { type Command, Option } from 'commander';
import { parseIntStrict } from '../../core/amounts.ts';
import { invalid } from '../../core/errors.ts';
import { CALLER_GRANT_CATEGORIES, type CallerGrantCategory, type Grant } from '../../core/grant.ts';
import { grantJson, parseIsoTime } from '../../ledger/wire.ts';
import { type CommonOptions, defaultActor, runWithLedger, tokens, withCommonOptions } from '../run-command.ts';

interface GrantOptions extends CommonOptions {
  tokens: string;
  category: CallerGrantCategory;
  expiresAt?: string;
  expiresIn?: string;
  priority?: string;
  reference?: string;
  reason: string;
  actor?: string;
}

const UNIT_MS: Record<string, number> = { h: 3_600_000, d: 86_400_000 };

/** `--expires-in 30d` or `12h`: a span from now, in whole days or hours. */
export function parseExpiresIn(text: string): number {
  const match = /^(\d{1,5})([dh])$/.exec(text.trim());
  const count = match?.[1] === undefined ? 0 : Number(match[1]);
  const unit = match?.[2] === undefined ? undefined : UNIT_MS[match[2]];
  if (unit === undefined || count < 1)
    throw invalid('expiresIn', `must be a number of days or hours, e.g. 30d or 12h; got "${text}"`);
  return count * unit;
}

export function addGrantCommand(program: Command): void {
  withCommonOptions(
    program
      .command('grant')
      .description('grant promotional or paid tokens, with an optional expiry and priority')
      .argument('<account>', "the app's account id")
      .requiredOption('--tokens <n>', 'tokens to grant, 1 to 1000000000')
      .addOption(
        new Option('--category <category>', 'promotional (bonuses, compensation) or paid')
          .choices(CALLER_GRANT_CATEGORIES)
          .makeOptionMandatory(),
      )
      .addOption(
        new Option('--expires-at <time>', 'when what remains expires (ISO 8601 with a zone)').conflicts('expiresIn'),
      )
      .addOption(
        new Option('--expires-in <span>', 'expires this long from now, e.g. 30d or 12h').conflicts('expiresAt'),
      )
      .option('--priority <n>', '0 to 100, lower is spent first (default 50)')
      .option('--reference <ref>', 'grant at most once per account and reference; a repeat returns the first grant')
      .requiredOption('--reason <text>', 'why (required; recorded in the ledger)')
      .option('--actor <name>', 'who (default cli:<os user>)'),
  ).action((account: string, options: GrantOptions) =>
    runWithLedger(options, async (ledger) => {
      const now = Date.now();
      const expiresAt =
        options.expiresAt !== undefined
          ? parseIsoTime('expiresAt', options.expiresAt)
          : options.expiresIn !== undefined
            ? now + parseExpiresIn(options.expiresIn)
            : undefined;
      const priority = options.priority === undefined ? undefined : parseIntStrict('priority', options.priority);
      const grant = await ledger.grant({
        account,
        tokens: parseIntStrict('tokens', options.tokens),
        category: options.category,
        ...(expiresAt === undefined ? {} : { expiresAt }),
        ...(priority === undefined ? {} : { priority }),
        reason: options.reason,
        actor: options.actor ?? defaultActor(),
        ...(options.reference === undefined ? {} : { reference: options.reference }),
      });
      const view = await ledger.getBalance(grant.account);
      return {
        json: { success: true, grant: grantJson(grant, Date.now()) },
        lines: [
          `Grant #${grant.id}: ${tokens(grant.tokens)} ${grant.category} to account ${grant.account}, ${expiryText(grant)}, ` +
            `priority ${grant.priority}; balance now ${view.balance} (available ${view.available})`,
        ],
      };
    }),
  );
}

/** "expires 2026-12-31T00:00:00.000Z" or "never expires". */
export function expiryText(g: Pick<Grant, 'expiresAt'>): string {
  return g.expiresAt === null ? 'never expires' : `expires ${new Date(g.expiresAt).toISOString()}`;
}
