// A ledger written straight into a migrated SQLite file, for measuring and testing reads and
// inserts at sizes the engine would take minutes to reach: accounts with their defaults, and
// debits through group commit's own many-row INSERT. The rows pass the schema's checks; the
// accounts' figures do not follow them (reconcile reports that drift).
import type { NewEntry } from '../../src/core/entry.ts';
import type { SqliteConnection } from '../../src/store/sqlite/sqlite-connection.ts';

/** Accounts on the free plan with every figure at its default, created at `at`. */
export function insertRawAccounts(conn: SqliteConnection, ids: readonly string[], at: number): void {
  for (const id of ids) {
    conn.run(
      "INSERT INTO accounts (id, plan, cycle_anchor, cycle_start, created_at, updated_at) VALUES (?, 'free', ?, ?, ?, ?)",
      id,
      at,
      at,
      at,
      at,
    );
  }
}

/** A debit of `tokens` (default 1) from the allocation, for the ledger entry `id`. */
export function rawDebit(d: {
  id: number;
  account: string;
  at: number;
  tokens?: number;
  feature?: string;
  key?: string | null;
  grantMoves?: NewEntry['grantMoves'];
  balanceAfter?: number;
}): NewEntry {
  const tokens = d.tokens ?? 1;
  return {
    id: d.id,
    account: d.account,
    kind: 'debit',
    amount: -tokens,
    allocationDelta: -tokens,
    purchasedDelta: 0,
    promotionalDelta: 0,
    debtDelta: 0,
    grantMoves: d.grantMoves ?? [],
    balanceAfter: d.balanceAfter ?? 0,
    feature: d.feature ?? 'outbound_call_single',
    quantity: 1,
    idempotencyKey: d.key ?? null,
    source: null,
    reference: null,
    reason: null,
    actor: null,
    at: d.at,
    heldAfter: 0,
  };
}
