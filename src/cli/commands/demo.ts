import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { TokenPackage } from '../../core/catalog.ts';
import { TokenmeterError } from '../../core/errors.ts';
import { openLedger } from '../../ledger/open-ledger.ts';
import type { TokenLedger } from '../../ledger/token-ledger.ts';
import { balanceJson, reconcileJson } from '../../ledger/wire.ts';
import type { Logger } from '../../log/logger.ts';
import { type CommandResult, type CommonOptions, EXIT_FAILURE, runCommand, withCommonOptions } from '../run-command.ts';

/** The demo's own database, relative to the working directory; the only file it ever deletes. */
export const DEMO_DATABASE_FILE = 'data/demo.db';
const DEMO_DATABASE_URL = `sqlite:./${DEMO_DATABASE_FILE}`;
const ACCOUNT = '7';
const FEATURE = 'outbound_call_single';
/** Stops a runaway loop if a custom config gives the default plan a huge allocation. */
const MAX_CALLS = 100_000;

interface DemoOptions extends CommonOptions {
  database?: string;
}

export function addDemoCommand(program: Command): void {
  withCommonOptions(
    program
      .command('demo')
      .description(
        `a narrated walkthrough of the seed incident on its own database (./${DEMO_DATABASE_FILE}, ` +
          'recreated on every run; DATABASE_URL is ignored so a real ledger is never touched)',
      )
      .option('--database <url>', 'use this database instead; it must not hold account 7 yet (nothing is deleted)'),
  ).action((options: DemoOptions) =>
    runCommand(options, (logger) => runDemo(options, logger), process.env.LOG_LEVEL ? undefined : 'warn'),
  );
}

async function runDemo(options: DemoOptions, logger: Logger): Promise<CommandResult> {
  const databaseUrl = options.database ?? DEMO_DATABASE_URL;
  if (options.database === undefined) {
    const file = resolve(DEMO_DATABASE_FILE);
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${file}${suffix}`, { force: true });
  }
  const ledger = await openLedger({
    databaseUrl,
    ...(options.config === undefined ? {} : { configPath: options.config }),
    logger,
  });
  try {
    if ((await ledger.getBalance(ACCOUNT)).exists) {
      throw new TokenmeterError(
        'invalid_request',
        `${ledger.store.location} already has account ${ACCOUNT}; the demo needs a fresh database ` +
          `(without --database it recreates ./${DEMO_DATABASE_FILE})`,
      );
    }
    return await story(ledger, databaseUrl, options.json !== true);
  } finally {
    await ledger.close();
  }
}

/** Tells the story; in human mode each line is printed as it happens, so logs on stderr interleave in order. */
async function story(ledger: TokenLedger, databaseUrl: string, stream: boolean): Promise<CommandResult> {
  const out: string[] = [];
  const say = (line = ''): void => {
    out.push(line);
    if (stream) process.stdout.write(`${line}\n`);
  };
  const call = async () => ledger.deduct({ account: ACCOUNT, feature: FEATURE });

  say('tokenmeter demo: the seed incident, replayed. There, a NULL balance was read as 100 on every');
  say('call and never saved (58 calls cost nothing), and a zero balance blocked nothing.');
  say(`Database: ${ledger.store.location}`);
  say();
  const fresh = await ledger.getBalance(ACCOUNT);
  say(
    `Account ${ACCOUNT} has never been seen: reading it writes nothing and shows plan ${fresh.plan}, ` +
      `balance ${fresh.balance}.`,
  );
  let calls = 0;
  for (let i = 1; i <= 3; i++) {
    const r = await call();
    calls += 1;
    if (!r.ok) throw new TokenmeterError('internal', `call ${calls} was refused: ${r.message}`);
    const note = i === 1 ? ` (${FEATURE} costs ${r.cost}; account provisioned and charged in one transaction)` : '';
    say(`Call ${calls}: balance ${r.balanceBefore} → ${r.balance}${note}`);
  }
  const saved = await ledger.getBalance(ACCOUNT);
  say(
    `Read back from the database: balance ${saved.balance}, used this month ${saved.usedThisCycle} ` +
      `(the seed's bug read 100 here every time)`,
  );
  say();

  const start = saved.balance;
  const cost = ledger.catalog.features.get(FEATURE)?.cost ?? 1;
  let quick = 0;
  let balance = start;
  while (balance >= cost && quick < MAX_CALLS) {
    const r = await call();
    if (!r.ok) throw new TokenmeterError('internal', `call ${calls + 1} was refused: ${r.message}`);
    calls += 1;
    quick += 1;
    balance = r.balance;
  }
  say(`The remaining ${quick} calls: balance ${start} → ${balance}, each charged and saved in its own transaction.`);
  const blocked = await call();
  calls += 1;
  if (blocked.ok) throw new TokenmeterError('internal', `call ${calls} was not refused`);
  const atZero = await ledger.getBalance(ACCOUNT);
  say(`Call ${calls} is blocked, and nothing is written:`);
  say(`  ${blocked.message}`);
  say(`  balance ${atZero.balance}, features_disabled: ${atZero.featuresDisabled}`);
  say();

  const pkg = topUpPackage(ledger);
  const credited = await ledger.credit({
    account: ACCOUNT,
    tokens: pkg.tokens,
    source: 'demo',
    reference: 'demo-order-1',
    reason: `demo purchase of ${pkg.id}`,
    actor: 'demo',
  });
  if (!credited.ok) throw new TokenmeterError('internal', `the demo purchase was refused: ${credited.message}`);
  const restored = await ledger.getBalance(ACCOUNT);
  say(
    `Purchase: package ${pkg.id} (${pkg.tokens} tokens, ${pkg.price}) credited to the purchased bucket ` +
      '(source demo, reference demo-order-1)',
  );
  say(`  balance ${atZero.balance} → ${restored.balance}, features_disabled: ${restored.featuresDisabled}`);
  const after = await call();
  if (!after.ok) throw new TokenmeterError('internal', `the call after the purchase was refused: ${after.message}`);
  calls += 1;
  say(`Call ${calls}: balance ${after.balanceBefore} → ${after.balance}`);
  say();

  const report = await ledger.reconcile();
  const history = await ledger.history(ACCOUNT, { limit: 1000 });
  const kinds = new Map<string, number>();
  for (const e of history.entries.toReversed()) kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
  const clean = report.drift.length === 0;
  say(
    `Reconcile: ${report.accountsChecked} account checked, ` +
      (clean ? 'no drift (every figure equals the sum of its ledger entries)' : `${report.drift.length} drift!`),
  );
  say(
    `Ledger of account ${ACCOUNT}: ${history.entries.length} entries ` +
      `(${[...kinds].map(([kind, n]) => `${kind} ${n}`).join(', ')})`,
  );
  say();
  const env = `DATABASE_URL=${shellQuote(databaseUrl)}`;
  say('Look around (same database):');
  say(`  ${env} npx tokenmeter balance ${ACCOUNT} --json`);
  say(`  ${env} npx tokenmeter history ${ACCOUNT} --limit 5`);
  say(`  ${env} npx tokenmeter reconcile`);

  const final = await ledger.getBalance(ACCOUNT);
  return {
    json: {
      success: clean,
      database: ledger.store.location,
      narration: out,
      balance: balanceJson(final),
      reconcile: reconcileJson(report),
    },
    lines: stream ? [] : out,
    ...(clean ? {} : { exitCode: EXIT_FAILURE }),
  };
}

function topUpPackage(ledger: TokenLedger): { id: string; tokens: number; price: string } {
  const packages = [...ledger.catalog.packages.values()];
  const pkg: TokenPackage | undefined =
    ledger.catalog.packages.get('tokens_100') ?? packages.find((p) => p.kind === 'topup');
  if (pkg === undefined) return { id: '(none configured)', tokens: 100, price: 'a grant' };
  return { id: pkg.id, tokens: pkg.tokens, price: formatPrice(pkg.priceCents, pkg.currency) };
}

function formatPrice(cents: number, currency: string): string {
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency: currency.toUpperCase() }).format(cents / 100);
  } catch {
    return `${(cents / 100).toFixed(2)} ${currency}`;
  }
}

function shellQuote(text: string): string {
  return /^[\w:./@%+=,-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
