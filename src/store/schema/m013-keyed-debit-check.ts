import { LEDGER_INDEXES } from './m001-ledger.ts';
import { KEYED_DEBIT_HELD, KEYED_DEBIT_INDEX } from './m006-keyed-debits.ts';
import { ENTRY_CHECKS, V7_SQLITE_LEDGER_COLUMNS } from './m007-grants.ts';
import { MEMBER_ENTRIES_INDEX } from './m011-pools.ts';
import type { SchemaDialect } from './schema-dialect.ts';
import type { SchemaMigration } from './schema-migration.ts';

/** The ledger's columns as versions 1 to 11 left them, in their order. */
export const V11_LEDGER_COLUMN_NAMES = `id, account_id, kind, amount, allocation_delta, purchased_delta, balance_after, feature, quantity,
  idempotency_key, source, reference, reason, actor, at, held_after, promotional_delta, debt_delta, grant_moves,
  pool_id, member_id, pooled`;

/** A keyed debit written before version 6, which records no held_after (-1): its replay answers from idempotency_keys. */
const KEYED_BEFORE_V6 = "kind = 'debit' AND idempotency_key IS NOT NULL AND held_after < 0";

/**
 * SQLite: version 6's rule on keyed debits (`KEYED_DEBIT_HELD`) becomes a CHECK instead of a
 * trigger. A trigger runs a sub-program for every inserted row, whether or not its WHEN holds:
 * 0.6 µs of a ~4 µs ledger row in 256-row INSERTs, 5% of a deduction on one hot account
 * (`node bench/in-process.ts`, SQLite FULL on tmpfs). SQLite cannot add a CHECK to a table, nor
 * one that spares the rows already there, so the ledger is rebuilt as version 7 rebuilt it, and
 * the rows the rule spares say so themselves: `keyed_before_v6` is 1 exactly on the keyed debits
 * written before version 6, set by this copy; no writer names the column, so every new row has 0
 * and meets the rule. Ids, the AUTOINCREMENT counter, indexes and triggers are kept as they were;
 * the copy takes time in proportion to the ledger, once, at the upgrade (4.8 s for 1,000,000
 * entries on the 2-core bench machine). PostgreSQL has held new rows to the rule with a NOT VALID
 * CHECK since version 6: nothing changes there.
 */
export const m013KeyedDebitCheck: SchemaMigration = {
  version: 13,
  name: 'keyed_debit_check',
  sql: (d) => (d.backend === 'sqlite' ? sqliteRebuild(d) : 'SELECT 1; -- nothing to change on PostgreSQL'),
};

/** SQLite's ledger table as version 13 made it, named `name` (released: never edit). */
export function v13LedgerTable(name: string): string {
  return `CREATE TABLE ${name} (
${V7_SQLITE_LEDGER_COLUMNS},
  pool_id TEXT,
  member_id TEXT,
  pooled INTEGER NOT NULL DEFAULT 0 CHECK (pooled >= 0),
  keyed_before_v6 INTEGER NOT NULL DEFAULT 0 CHECK (keyed_before_v6 = 0 OR (${KEYED_BEFORE_V6})),
${ENTRY_CHECKS.map((c) => `  CHECK (${c})`).join(',\n')},
  CONSTRAINT ${KEYED_DEBIT_HELD.name} CHECK (keyed_before_v6 = 1 OR (${KEYED_DEBIT_HELD.check}))
) STRICT;`;
}

function sqliteRebuild(d: SchemaDialect): string {
  return `
PRAGMA defer_foreign_keys = ON;
${v13LedgerTable('ledger_entries_v13')}
INSERT INTO ledger_entries_v13 (${V11_LEDGER_COLUMN_NAMES}, keyed_before_v6)
SELECT ${V11_LEDGER_COLUMN_NAMES}, ${KEYED_BEFORE_V6} FROM ledger_entries ORDER BY id;
-- AUTOINCREMENT's counter as it was, not the highest id copied: no id is ever handed out twice.
INSERT INTO sqlite_sequence (name, seq)
SELECT 'ledger_entries_v13', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'ledger_entries_v13');
UPDATE sqlite_sequence
SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'ledger_entries'), 0))
WHERE name = 'ledger_entries_v13';
DROP TABLE ledger_entries;
ALTER TABLE ledger_entries_v13 RENAME TO ledger_entries;
${LEDGER_INDEXES}
${d.appendOnly('ledger_entries', 'ledger entries are append-only')}
${KEYED_DEBIT_INDEX}
${MEMBER_ENTRIES_INDEX}
`;
}
