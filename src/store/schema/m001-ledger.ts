import type { SchemaDialect } from './schema-dialect.ts';
import type { SchemaMigration } from './schema-migration.ts';

// The entry kinds of version 1's CHECK, as a literal: every database made since holds exactly
// this list, so a fresh one must too. A kind added to core's ENTRY_KINDS later needs a step of
// its own that widens the CHECK.
export const V1_ENTRY_KINDS = [
  'opening_balance',
  'debit',
  'hold_commit',
  'credit',
  'purchase',
  'payment_refund',
  'adjustment',
  'plan_change',
  'cycle_grant',
  'cycle_expiry',
  'import',
  'debit_reversal',
];

const kinds = V1_ENTRY_KINDS.map((k) => `'${k}'`).join(', ');

/** Two of version 1's ledger indexes that every version since has (version 16 dropped the third). */
export const LEDGER_ACCOUNT_AT_INDEX = 'CREATE INDEX ledger_entries_account_at ON ledger_entries (account_id, at);';
export const LEDGER_REFERENCE_INDEX = `CREATE UNIQUE INDEX ledger_entries_reference ON ledger_entries (kind, source, reference)
  WHERE reference IS NOT NULL;`;

/** The ledger's indexes as version 1 made them; versions 7 and 13 make them again after rebuilding the table (released: never edit). */
export const LEDGER_INDEXES = `CREATE INDEX ledger_entries_account ON ledger_entries (account_id, id);
${LEDGER_ACCOUNT_AT_INDEX}
${LEDGER_REFERENCE_INDEX}`;

/** Version 1's hold columns, in their order (released: never edit; version 19 rebuilds the table on SQLite). */
export const V1_HOLD_COLUMNS = (d: SchemaDialect) => `  id ${d.serialId},
  account_id TEXT NOT NULL REFERENCES accounts (id),
  amount ${d.int} NOT NULL CHECK (amount > 0),
  feature TEXT,
  status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'committed', 'released', 'expired')),
  charged ${d.int} NOT NULL DEFAULT 0 CHECK (charged >= 0),
  created_at ${d.int} NOT NULL,
  expires_at ${d.int} NOT NULL,
  closed_at ${d.int},
  idempotency_key TEXT`;

/** A hold is closed exactly when it is no longer active. */
export const HOLD_CLOSED_CHECK = "CHECK ((status = 'active') = (closed_at IS NULL))";

/** The holds an account has open, by when they expire. */
export const HOLDS_ACTIVE_INDEX =
  "CREATE INDEX holds_active ON holds (account_id, expires_at) WHERE status = 'active';";

/** Accounts, the ledger, holds, idempotency keys and settings. */
export const m001Ledger: SchemaMigration = {
  version: 1,
  name: 'ledger',
  sql: (d) => `
CREATE TABLE accounts (
  id TEXT PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 128),
  plan TEXT NOT NULL,
  allocation ${d.int} NOT NULL DEFAULT 0 CHECK (allocation >= 0),
  purchased ${d.int} NOT NULL DEFAULT 0,
  held ${d.int} NOT NULL DEFAULT 0 CHECK (held >= 0),
  used_this_cycle ${d.int} NOT NULL DEFAULT 0 CHECK (used_this_cycle >= 0),
  rolled_over ${d.int} NOT NULL DEFAULT 0 CHECK (rolled_over >= 0),
  cycle_anchor ${d.int} NOT NULL,
  cycle_start ${d.int} NOT NULL,
  last_reset ${d.int},
  cycle_driver TEXT NOT NULL DEFAULT 'lazy' CHECK (cycle_driver IN ('lazy', 'subscription')),
  created_at ${d.int} NOT NULL,
  updated_at ${d.int} NOT NULL,
  version ${d.int} NOT NULL DEFAULT 1 CHECK (version >= 1)
)${d.tableOptions};

CREATE TABLE ledger_entries (
  id ${d.serialId},
  account_id TEXT NOT NULL REFERENCES accounts (id),
  kind TEXT NOT NULL CHECK (kind IN (${kinds})),
  amount ${d.int} NOT NULL,
  allocation_delta ${d.int} NOT NULL,
  purchased_delta ${d.int} NOT NULL,
  balance_after ${d.int} NOT NULL,
  feature TEXT,
  quantity ${d.int} CHECK (quantity IS NULL OR quantity >= 1),
  idempotency_key TEXT,
  source TEXT,
  reference TEXT,
  reason TEXT,
  actor TEXT,
  at ${d.int} NOT NULL,
  CHECK (amount = allocation_delta + purchased_delta),
  CHECK (kind NOT IN ('debit', 'hold_commit', 'cycle_expiry', 'payment_refund') OR amount <= 0),
  CHECK (kind NOT IN ('credit', 'purchase', 'cycle_grant', 'debit_reversal') OR amount >= 0),
  CHECK (kind <> 'adjustment' OR (reason IS NOT NULL AND length(trim(reason)) > 0))
)${d.tableOptions};
${LEDGER_INDEXES}
${d.appendOnly('ledger_entries', 'ledger entries are append-only')}

CREATE TABLE holds (
${V1_HOLD_COLUMNS(d)},
  ${HOLD_CLOSED_CHECK}
)${d.tableOptions};
${HOLDS_ACTIVE_INDEX}

CREATE TABLE idempotency_keys (
  account_id TEXT NOT NULL,
  operation TEXT NOT NULL,
  key TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  fingerprint TEXT NOT NULL,
  response TEXT NOT NULL,
  created_at ${d.int} NOT NULL,
  PRIMARY KEY (account_id, operation, key)
)${d.tableOptions};

CREATE TABLE settings (
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
)${d.tableOptions};
`,
};
