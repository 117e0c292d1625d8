import type { LegacyAccount } from '../core/legacy-row.ts';
import { normalizeLegacyRow } from '../core/legacy-row.ts';
import { MAX_IMPORT_BATCH } from '../ledger/ops/import-accounts.ts';
import type { TokenLedger } from '../ledger/token-ledger.ts';
import { type ImportReport, ImportTally } from './import-tally.ts';
import type { LegacySource } from './legacy/legacy-source.ts';

export interface ImportLegacyOptions {
  dryRun: boolean;
  actor: string;
  /** Accounts per write transaction (default 500). */
  batchSize?: number;
  /** Called as rows are read, with the source's position and the rows read so far. */
  onProgress?: (position: number, rows: number) => void;
}

/**
 * Streams a legacy users table into tokenmeter: each row normalized (NULLs filled in with
 * the seed's defaults, bad rows rejected with the reason), then imported in batches, each one
 * write transaction. Idempotent: a second run finds every account and writes nothing.
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
    if (item.kind === 'unreadable') {
      tally.rejected({ ...item.place, account: null, reason: item.reason });
    } else {
      const normalized = normalizeLegacyRow(item.row, ledger.catalog);
      if (normalized.ok) batch.push(normalized.value);
      else tally.rejected({ ...item.place, account: normalized.account, reason: normalized.reason });
    }
    if (batch.length >= batchSize) await flush();
    if (rows % 100 === 0) options.onProgress?.(source.position(), rows);
  }
  await flush();
  options.onProgress?.(source.position(), rows);
  return tally.done();
}
