import {
  HOLD_CLOSED_CHECK,
  HOLDS_ACTIVE_INDEX,
  LEDGER_ACCOUNT_AT_INDEX,
  LEDGER_REFERENCE_INDEX,
  V1_HOLD_COLUMNS,
} from './m001-ledger.ts';
import { KEYED_DEBIT_INDEX } from './m006-keyed-debits.ts';
import { grantsTable } from './m007-grants.ts';
import { GRANTS_EXPIRY_INDEX } from './m008-events.ts';
import { GRANTS_SCHEDULED_INDEX } from './m009-scheduled-grants.ts';
import { MEMBER_ENTRIES_INDEX, V11_POOL_HOLD_COLUMNS } from './m011-pools.ts';
import { V11_LEDGER_COLUMN_NAMES, v13LedgerTable } from './m013-keyed-debit-check.ts';
import { m014LedgerTimeIndex } from './m014-ledger-time-index.ts';
import { m015FeatureIndexes } from './m015-feature-indexes.ts';
import { LEDGER_IN_TIME_MESSAGE, LEDGER_IN_TIME_TRIGGER } from './m016-ledger-in-time.ts';
import { ALLOCATION_GRANT_ENTRIES, TAKE_BACK_ENTRIES } from './m017-rare-entry-indexes.ts';
import type { SchemaDialect } from './schema-dialect.ts';
import type { SchemaMigration } from './schema-migration.ts';
import { withoutInLists } from './sqlite-check-lists.ts';

/**
 * Version 17's partial index of allocation grants takes the same spelling: SQLite evaluates its
 * condition for every entry inserted (one probe of a three-value list, ~2,000 instructions a
 * row). The read names this same text (`rare-entry-sql.ts`), so that SQLite can tell the index
 * covers it; PostgreSQL, whose index keeps the list, proves either spelling.
 */
export const ALLOCATION_GRANTS_SPELLED = withoutInLists(ALLOCATION_GRANT_ENTRIES);

const GRANT_COLUMN_NAMES = `id, account_id, category, tokens, remaining, priority, effective_at, expires_at, source, reference,
  status, reason, actor, created_at, closed_at`;

/** Holds as version 1 made them with version 11's three columns, in their order. */
const v11HoldsTable = (d: SchemaDialect, name: string) => `CREATE TABLE ${name} (
${V1_HOLD_COLUMNS(d)},
${V11_POOL_HOLD_COLUMNS(d)
  .map((column) => `  ${column}`)
  .join(',\n')},
  ${HOLD_CLOSED_CHECK}
)${d.tableOptions};`;

const HOLD_COLUMN_NAMES = `id, account_id, amount, feature, status, charged, created_at, expires_at, closed_at, idempotency_key,
  pool_hold, pool_amount, member_id`;

/**
 * SQLite: the three tables every deduction, draw and hold writes are rebuilt with the same
 * rules, their IN lists spelled as comparisons (`sqlite-check-lists.ts`: SQLite built a
 * temporary B-tree of each list for every row written: about 36,000 instructions of a ledger
 * row's 79,000, and 20,000 of a grant update's 42,000). Only the spelling of the
 * CHECKs changes: the columns, their order, every row with its id, each table's AUTOINCREMENT
 * counter, and every index and trigger come back as they were. The copy takes time in proportion
 * to the ledger, once, at the upgrade, as version 13's did. Foreign keys pointing at the ledger
 * (recovered_lines) are checked at COMMIT, when the rebuilt table holds every id again.
 * PostgreSQL compares an IN list in place: nothing changes there.
 */
export const m019ChecksWithoutInLists: SchemaMigration = {
  version: 19,
  name: 'checks_without_in_lists',
  sql: (d) => (d.backend === 'sqlite' ? sqliteRebuild(d) : 'SELECT 1; -- nothing to change on PostgreSQL'),
};

/** Copies `table` into `table_v19`, made by `create`, with its ids and its AUTOINCREMENT counter, then takes its place. */
function rebuilt(table: string, create: (name: string) => string, columns: string): string {
  const next = `${table}_v19`;
  return `
${withoutInLists(create(next))}
INSERT INTO ${next} (${columns}) SELECT ${columns} FROM ${table} ORDER BY id;
INSERT INTO sqlite_sequence (name, seq)
SELECT '${next}', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = '${next}');
UPDATE sqlite_sequence
SET seq = max(seq, coalesce((SELECT seq FROM sqlite_sequence WHERE name = '${table}'), 0))
WHERE name = '${next}';
DROP TABLE ${table};
ALTER TABLE ${next} RENAME TO ${table};`;
}

function sqliteRebuild(d: SchemaDialect): string {
  return `
PRAGMA defer_foreign_keys = ON;
${rebuilt('ledger_entries', v13LedgerTable, `${V11_LEDGER_COLUMN_NAMES}, keyed_before_v6`)}
${rebuilt('grants', (name) => grantsTable(d, name), GRANT_COLUMN_NAMES)}
${rebuilt('holds', (name) => v11HoldsTable(d, name), HOLD_COLUMN_NAMES)}
${LEDGER_ACCOUNT_AT_INDEX}
${LEDGER_REFERENCE_INDEX}
${d.appendOnly('ledger_entries', 'ledger entries are append-only')}
${KEYED_DEBIT_INDEX}
${MEMBER_ENTRIES_INDEX}
${m014LedgerTimeIndex.sql(d)}
${m015FeatureIndexes.sql(d)}
${d.ledgerInTime(LEDGER_IN_TIME_TRIGGER, LEDGER_IN_TIME_MESSAGE)}
CREATE INDEX ledger_entries_take_backs ON ledger_entries (account_id, source) WHERE ${TAKE_BACK_ENTRIES};
CREATE INDEX ledger_entries_allocation_grants ON ledger_entries (account_id, at) WHERE ${ALLOCATION_GRANTS_SPELLED};
${GRANTS_EXPIRY_INDEX}
${GRANTS_SCHEDULED_INDEX}
${HOLDS_ACTIVE_INDEX}
`;
}
