import { LEDGER_INDEXES, V1_ENTRY_KINDS } from './m001-ledger.ts';
import { KEYED_DEBIT_HELD, KEYED_DEBIT_INDEX } from './m006-keyed-debits.ts';
import type { SchemaDialect } from './schema-dialect.ts';
import type { SchemaMigration } from './schema-migration.ts';

// Version 7's entry kinds, as a literal (see m001-ledger.ts): version 1's and the grants'.
const V7_ENTRY_KINDS = [...V1_ENTRY_KINDS, 'grant', 'grant_expiry', 'grant_void', 'bucket_migration'];

const kinds = V7_ENTRY_KINDS.map((k) => `'${k}'`).join(', ');

/** The grants table as version 7 made it, named `name` (released: never edit; version 19 rebuilds it on SQLite). */
export function grantsTable(d: SchemaDialect, name: string): string {
  return `CREATE TABLE ${name} (
  id ${d.serialId},
  account_id TEXT NOT NULL REFERENCES accounts (id),
  category TEXT NOT NULL CHECK (category IN ('included', 'paid', 'promotional')),
  tokens ${d.int} NOT NULL CHECK (tokens >= 0),
  remaining ${d.int} NOT NULL CHECK (remaining BETWEEN 0 AND tokens),
  priority ${d.int} NOT NULL DEFAULT 50 CHECK (priority BETWEEN 0 AND 100),
  effective_at ${d.int} NOT NULL,
  expires_at ${d.int} CHECK (expires_at IS NULL OR expires_at > effective_at),
  source TEXT NOT NULL CHECK (length(source) BETWEEN 1 AND 64),
  reference TEXT NOT NULL CHECK (length(reference) BETWEEN 1 AND 255),
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('scheduled', 'active', 'expired', 'voided')),
  reason TEXT,
  actor TEXT,
  created_at ${d.int} NOT NULL,
  closed_at ${d.int},
  CHECK (status IN ('active') OR remaining = 0),
  UNIQUE (account_id, source, reference)
)${d.tableOptions};`;
}

/** The ledger's row rules from version 7: an entry's amount is its category moves net of its debt move. */
export const ENTRY_CHECKS = [
  `kind IN (${kinds})`,
  'amount = allocation_delta + purchased_delta + promotional_delta - debt_delta',
  "kind NOT IN ('debit', 'hold_commit', 'cycle_expiry', 'payment_refund', 'grant_expiry', 'grant_void') OR amount <= 0",
  "kind NOT IN ('credit', 'purchase', 'cycle_grant', 'debit_reversal', 'grant') OR amount >= 0",
  "kind NOT IN ('adjustment', 'grant_void') OR (reason IS NOT NULL AND length(trim(reason)) > 0)",
];

/**
 * Credit grants. Tokens live in grants, each drawn by a delta UPDATE guarded in the write
 * (`remaining` within 0..tokens is a CHECK; status and guard in the statement); the account
 * keeps each category's sum and its debt for the overdraft guard; every entry records which
 * grants it moved (`grant_moves`, a JSON array of [grant id, delta]: no extra row per deduction).
 * Existing accounts' two buckets become grants: the allocation an included grant, purchased
 * tokens a paid grant, a negative purchased figure a debt, each recorded by one
 * `bucket_migration` entry of 0 tokens, so every grant's remaining is the sum of its moves.
 */
export const m007Grants: SchemaMigration = {
  version: 7,
  name: 'grants',
  sql: (d) => `
${grantsTable(d, 'grants')}
${d.updatedInPlace('grants')}

ALTER TABLE accounts ADD COLUMN promotional ${d.int} NOT NULL DEFAULT 0 ${d.addedCheck('accounts_promotional_range', 'promotional >= 0')};
ALTER TABLE accounts ADD COLUMN debt ${d.int} NOT NULL DEFAULT 0 ${d.addedCheck('accounts_debt_range', 'debt >= 0')};
${d.backend === 'sqlite' ? sqliteEntries(d) : pgEntries()}
${bucketsToGrants(d)}
`,
};

/** PostgreSQL adds the columns and replaces the constraints that change. */
function pgEntries(): string {
  return `
ALTER TABLE ledger_entries ADD COLUMN promotional_delta bigint NOT NULL DEFAULT 0;
ALTER TABLE ledger_entries ADD COLUMN debt_delta bigint NOT NULL DEFAULT 0;
ALTER TABLE ledger_entries ADD COLUMN grant_moves text NOT NULL DEFAULT '[]';
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_kind_check;
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_check;
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_check1;
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_check2;
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_check3;
${ENTRY_CHECKS.map((c, i) => `ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_v7_rule${i + 1} CHECK (${c});`).join('\n')}
`;
}

/** SQLite's ledger columns as version 7 rebuilt the table; version 13 rebuilds it from them (released: never edit). */
export const V7_SQLITE_LEDGER_COLUMNS = `  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id TEXT NOT NULL REFERENCES accounts (id),
  kind TEXT NOT NULL,
  amount INTEGER NOT NULL,
  allocation_delta INTEGER NOT NULL,
  purchased_delta INTEGER NOT NULL,
  balance_after INTEGER NOT NULL,
  feature TEXT,
  quantity INTEGER CHECK (quantity IS NULL OR quantity >= 1),
  idempotency_key TEXT,
  source TEXT,
  reference TEXT,
  reason TEXT,
  actor TEXT,
  at INTEGER NOT NULL,
  held_after INTEGER NOT NULL DEFAULT -1 CHECK (held_after >= -1),
  promotional_delta INTEGER NOT NULL DEFAULT 0,
  debt_delta INTEGER NOT NULL DEFAULT 0,
  grant_moves TEXT NOT NULL DEFAULT '[]'`;

/**
 * SQLite cannot change a table's CHECK: the ledger is rebuilt into a table with the new rules
 * (SQLite's documented way), its rows copied with their ids, then its indexes and triggers made
 * again exactly as versions 1 and 6 made them. Foreign keys pointing at it (recovered_lines) are
 * checked at COMMIT, when the rebuilt table holds every id again.
 */
function sqliteEntries(d: SchemaDialect): string {
  return `
PRAGMA defer_foreign_keys = ON;
CREATE TABLE ledger_entries_v7 (
${V7_SQLITE_LEDGER_COLUMNS},
${ENTRY_CHECKS.map((c) => `  CHECK (${c})`).join(',\n')}
) STRICT;
INSERT INTO ledger_entries_v7 (id, account_id, kind, amount, allocation_delta, purchased_delta, balance_after,
  feature, quantity, idempotency_key, source, reference, reason, actor, at, held_after)
SELECT id, account_id, kind, amount, allocation_delta, purchased_delta, balance_after,
  feature, quantity, idempotency_key, source, reference, reason, actor, at, held_after
FROM ledger_entries ORDER BY id;
DROP TABLE ledger_entries;
ALTER TABLE ledger_entries_v7 RENAME TO ledger_entries;
${LEDGER_INDEXES}
${d.appendOnly('ledger_entries', 'ledger entries are append-only')}
${KEYED_DEBIT_INDEX}
${d.newRowsCheck(KEYED_DEBIT_HELD)}
`;
}

/** The two buckets of every existing account become grants, recorded by one entry each. */
function bucketsToGrants(d: SchemaDialect): string {
  const movesOf =
    d.backend === 'sqlite'
      ? `(SELECT json_group_array(json_array(g.id, g.remaining)) FROM
           (SELECT id, remaining FROM grants WHERE account_id = a.id ORDER BY id) g)`
      : `(SELECT coalesce(json_agg(json_build_array(g.id, g.remaining) ORDER BY g.id), '[]'::json)::text
           FROM grants g WHERE g.account_id = a.id)`;
  return `
INSERT INTO grants (account_id, category, tokens, remaining, priority, effective_at, expires_at, source, reference,
  status, reason, actor, created_at)
SELECT id, 'included', allocation, allocation, 50, cycle_start, NULL, 'migration', 'allocation',
  'active', 'The allocation bucket before grants', 'migration', updated_at
FROM accounts WHERE allocation > 0;
INSERT INTO grants (account_id, category, tokens, remaining, priority, effective_at, expires_at, source, reference,
  status, reason, actor, created_at)
SELECT id, 'paid', purchased, purchased, 50, created_at, NULL, 'migration', 'purchased',
  'active', 'Purchased tokens before grants', 'migration', updated_at
FROM accounts WHERE purchased > 0;
INSERT INTO ledger_entries (account_id, kind, amount, allocation_delta, purchased_delta, promotional_delta, debt_delta,
  grant_moves, balance_after, source, reference, reason, actor, at, held_after)
SELECT a.id, 'bucket_migration', 0, 0, ${d.backend === 'sqlite' ? 'max' : 'GREATEST'}(0, -a.purchased), 0,
  ${d.backend === 'sqlite' ? 'max' : 'GREATEST'}(0, -a.purchased), ${movesOf},
  a.allocation + a.purchased, 'migration', a.id, 'Tokens moved into grants', 'migration', a.updated_at, a.held
FROM accounts a WHERE a.allocation > 0 OR a.purchased <> 0;
UPDATE accounts SET debt = ${d.backend === 'sqlite' ? 'max' : 'GREATEST'}(0, -purchased),
  purchased = ${d.backend === 'sqlite' ? 'max' : 'GREATEST'}(0, purchased), version = version + 1
WHERE purchased < 0;
`;
}
