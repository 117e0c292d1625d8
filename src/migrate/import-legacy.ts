import type { Catalog } from '../core/catalog.ts';
import { type LegacyAccount, normalizeLegacyRow } from '../core/legacy-row.ts';
import { MAX_IMPORT_BATCH } from '../ledger/ops/import-accounts.ts';
import type { TokenLedger } from '../ledger/token-ledger.ts';
import { type ImportReport, ImportTally, type RejectedRow } from './import-tally.ts';
import type { LegacyItem, LegacySource } from './legacy/legacy-source.ts';

export interface ImportLegacyOptions {
  dryRun: boolean;
  actor: string;
  /** Accounts per write transaction (default 500). */
  batchSize?: number;
  /** Called as rows are read, with the source's position and the rows read so far. */
  onProgress?: (position: number, rows: number) => void;
}

/** The first row of the run that named an id: the one taken for that account. */
interface FirstRow {
  row: number;
  line: number | null;
  balance: number;
}

/**
 * Streams a legacy users table into tokenmeter: each row normalized (NULLs filled in with
 * the seed's defaults, bad rows rejected with the reason), then imported in batches, each one
 * write transaction. Idempotent: a second run finds every account and writes nothing.
 *
 * An id met again in the same run (a table without a primary key) is rejected with both
 * balances, naming the row taken; it is never reported as already imported, which means an
 * earlier run imported it. Only the ids are kept in memory, never the rows.
 */
export async function importLegacy(
  ledger: TokenLedger,
  source: LegacySource,
  options: ImportLegacyOptions,
): Promise<ImportReport> {
  const batchSize = Math.min(Math.max(options.batchSize ?? 500, 1), MAX_IMPORT_BATCH);
  const tally = new ImportTally(source.description, options.dryRun, ledger.catalog.defaultPlan);
  const reason = `imported from ${source.description}`.slice(0, 500);
  let batch: LegacyAccount[] = [];
  const taken = new Map<string, FirstRow>();

  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    const accounts = batch;
    batch = [];
    const outcomes = await ledger.importAccounts(
      accounts.map((a) => ({
        account: a.account,
        plan: a.plan,
        balance: a.balance,
        usedThisCycle: a.usedThisCycle,
        reason,
        actor: options.actor,
      })),
      { dryRun: options.dryRun },
    );
    outcomes.forEach((outcome, i) => {
      const legacy = accounts[i];
      if (legacy) tally.outcome(outcome, legacy);
    });
  };

  let rows = 0;
  for await (const item of source.items()) {
    rows += 1;
    tally.row();
    const admitted = admit(item, ledger.catalog, taken);
    if (admitted.ok) batch.push(admitted.value);
    else tally.rejected(admitted.rejected);
    if (batch.length >= batchSize) await flush();
    if (rows % 100 === 0) options.onProgress?.(source.position(), rows);
  }
  await flush();
  options.onProgress?.(source.position(), rows);
  return tally.done();
}

/**
 * A row ready to import, or why it is rejected: unreadable, not an account, or an id this run
 * has already taken. Only a row that could be imported takes its id.
 */
function admit(
  item: LegacyItem,
  catalog: Catalog,
  taken: Map<string, FirstRow>,
): { ok: true; value: LegacyAccount } | { ok: false; rejected: RejectedRow } {
  if (item.kind === 'unreadable') return { ok: false, rejected: { ...item.place, account: null, reason: item.reason } };
  const normalized = normalizeLegacyRow(item.row, catalog);
  if (!normalized.ok) {
    return { ok: false, rejected: { ...item.place, account: normalized.account, reason: normalized.reason } };
  }
  const legacy = normalized.value;
  const first = taken.get(legacy.account);
  if (first)
    return { ok: false, rejected: { ...item.place, account: legacy.account, reason: duplicate(first, legacy) } };
  taken.set(legacy.account, { ...item.place, balance: legacy.balance });
  return { ok: true, value: legacy };
}

function duplicate(first: FirstRow, repeat: LegacyAccount): string {
  const where = first.line === null ? `row ${first.row}` : `row ${first.row} (line ${first.line})`;
  return (
    `duplicate id: ${where} has it too and is the one taken (balance ${first.balance}); ` +
    `this row's balance ${repeat.balance} is not imported`
  );
}
