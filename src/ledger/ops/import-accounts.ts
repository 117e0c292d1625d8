import { requireAccountId } from '../../core/account-id.ts';
import { balanceOf } from '../../core/account-state.ts';
import { MAX_ADJUSTMENT, requireInt } from '../../core/amounts.ts';
import { findPlan } from '../../core/catalog.ts';
import { invalid } from '../../core/errors.ts';
import { IMPORT_SOURCE, openImported } from '../../core/import-account.ts';
import { currentView } from '../../core/renewal.ts';
import type { WriteTx } from '../../store/store.ts';
import type { LedgerContext } from '../context.ts';
import { assignGrantIds } from '../draft-grants.ts';
import { requireText } from '../inputs.ts';
import type { ImportAccountInput, ImportOptions, ImportOutcome } from '../types.ts';

/** Most accounts one import transaction takes: big enough to amortize the commit, small enough to hold the lock briefly. */
export const MAX_IMPORT_BATCH = 1000;

const DEFAULT_REASON = 'imported from a legacy system';
const DEFAULT_ACTOR = 'import';

interface CheckedInput {
  account: string;
  plan: ReturnType<typeof findPlan>;
  balance: number;
  usedThisCycle: number;
  reason: string;
  actor: string;
}

/**
 * Imports legacy accounts in one write transaction. Each is load → decide → write once: an
 * account tokenmeter already holds is never overwritten (`already_imported` when an earlier
 * import opened it, found by its opening entry's reference; `already_active` when it was
 * provisioned by use), any other opens on its plan with an `opening_balance` entry (source
 * `import`, reference the account id, so the database refuses a second one). An account given
 * twice in one call is imported by the first and `already_imported` for the second, like a
 * second call: a caller reading a legacy source keeps the first row of an id and rejects the
 * others itself, as import-legacy does, so that no conflict goes unreported.
 */
export async function importAccounts(
  ctx: LedgerContext,
  inputs: readonly ImportAccountInput[],
  options: ImportOptions = {},
): Promise<ImportOutcome[]> {
  if (inputs.length > MAX_IMPORT_BATCH) throw invalid('accounts', `at most ${MAX_IMPORT_BATCH} per call`);
  const checked = inputs.map((input) => checkInput(ctx, input));
  if (checked.length === 0) return [];

  let preview: ImportOutcome[] | undefined;
  try {
    const outcomes = await ctx.store.write(async (tx) => {
      const now = ctx.clock.now();
      const done: ImportOutcome[] = [];
      for (const input of checked) done.push(await importOne(ctx, tx, input, now));
      if (options.dryRun === true) {
        preview = done.map((o) => (o.status === 'imported' ? { ...o, entryId: null } : o));
        throw new DryRunRollback();
      }
      return done;
    });
    const imported = outcomes.filter((o) => o.status === 'imported').length;
    if (imported > 0) ctx.logger.debug({ imported, batch: outcomes.length }, `Imported ${imported} legacy accounts`);
    return outcomes;
  } catch (err) {
    // The dry run's own rollback: everything was decided, nothing was committed.
    if (preview !== undefined) return preview;
    throw err;
  }
}

/** Imports one legacy account; see importAccounts. */
export async function importAccount(
  ctx: LedgerContext,
  input: ImportAccountInput,
  options: ImportOptions = {},
): Promise<ImportOutcome> {
  const [outcome] = await importAccounts(ctx, [input], options);
  if (!outcome) throw new Error('import returned no outcome');
  return outcome;
}

async function importOne(ctx: LedgerContext, tx: WriteTx, input: CheckedInput, now: number): Promise<ImportOutcome> {
  const stored = await tx.lockAccount(input.account);
  if (stored) {
    const balance = balanceOf(currentView(stored, findPlan(ctx.catalog, stored.plan), now));
    const prior = await tx.findEntryByReference('opening_balance', IMPORT_SOURCE, input.account);
    if (prior) {
      return {
        status: 'already_imported',
        account: input.account,
        balance,
        importedBalance: prior.balanceAfter,
        importedAt: prior.at,
        entryId: prior.id,
      };
    }
    return {
      status: 'already_active',
      account: input.account,
      balance,
      legacyBalance: input.balance,
      plan: stored.plan,
    };
  }
  const opened = await assignGrantIds(tx, openImported(input, now));
  // A legacy debt opens below zero, which only an exempt write may do (like an adjustment).
  await tx.insertAccount(opened.state, input.balance < 0 ? 'exempt' : 'no_overdraft');
  const [entryId] = await tx.insertEntries(opened.entries);
  return {
    status: 'imported',
    account: input.account,
    plan: input.plan.id,
    balance: balanceOf(opened.state),
    allocation: opened.state.allocation,
    purchased: opened.state.purchased,
    usedThisCycle: opened.state.usedThisCycle,
    entryId: entryId ?? null,
  };
}

function checkInput(ctx: LedgerContext, input: ImportAccountInput): CheckedInput {
  return {
    account: requireAccountId(input.account),
    plan: findPlan(ctx.catalog, input.plan),
    balance: requireInt('balance', input.balance, -MAX_ADJUSTMENT, MAX_ADJUSTMENT),
    usedThisCycle: requireInt('usedThisCycle', input.usedThisCycle ?? 0, 0, MAX_ADJUSTMENT),
    reason: input.reason === undefined ? DEFAULT_REASON : requireText('reason', input.reason, 500),
    actor: input.actor === undefined ? DEFAULT_ACTOR : requireText('actor', input.actor, 200),
  };
}

/** Thrown inside a dry run's transaction so the store rolls it back. */
class DryRunRollback extends Error {
  constructor() {
    super('dry run: rolled back');
    this.name = 'DryRunRollback';
  }
}
