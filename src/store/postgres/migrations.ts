import { ENTRY_KINDS } from '../../core/entry.ts';
import { pendingMigrations } from '../pending-migrations.ts';
import { int } from '../rows.ts';
import type { PgQueryable } from './pg-client.ts';

/** One schema step, recorded in schema_migrations once applied. */
export interface PgMigration {
  version: number;
  name: string;
  sql: string;
}

const kinds = ENTRY_KINDS.map((k) => `'${k}'`).join(', ');

/**
 * The PostgreSQL schema, rule for rule the embedded one: `bigint` for every amount, time and
 * id (identity ids), NOT NULL with defaults on every balance and counter, CHECKs on what can
 * never be negative, a UNIQUE reference per idempotent entry kind, and a trigger that makes
 * the ledger append-only (UPDATE, DELETE and TRUNCATE alike).
 */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  {
    version: 1,
    name: 'ledger',
    sql: `
CREATE TABLE accounts (
  id text PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 128),
  plan text NOT NULL,
  allocation bigint NOT NULL DEFAULT 0 CHECK (allocation >= 0),
  purchased bigint NOT NULL DEFAULT 0,
  held bigint NOT NULL DEFAULT 0 CHECK (held >= 0),
  used_this_cycle bigint NOT NULL DEFAULT 0 CHECK (used_this_cycle >= 0),
  rolled_over bigint NOT NULL DEFAULT 0 CHECK (rolled_over >= 0),
  cycle_anchor bigint NOT NULL,
  cycle_start bigint NOT NULL,
  last_reset bigint,
  cycle_driver text NOT NULL DEFAULT 'lazy' CHECK (cycle_driver IN ('lazy', 'subscription')),
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  version bigint NOT NULL DEFAULT 1 CHECK (version >= 1)
);

CREATE TABLE ledger_entries (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id text NOT NULL REFERENCES accounts (id),
  kind text NOT NULL CHECK (kind IN (${kinds})),
  amount bigint NOT NULL,
  allocation_delta bigint NOT NULL,
  purchased_delta bigint NOT NULL,
  balance_after bigint NOT NULL,
  feature text,
  quantity bigint CHECK (quantity IS NULL OR quantity >= 1),
  idempotency_key text,
  source text,
  reference text,
  reason text,
  actor text,
  at bigint NOT NULL,
  CHECK (amount = allocation_delta + purchased_delta),
  CHECK (kind NOT IN ('debit', 'hold_commit', 'cycle_expiry', 'payment_refund') OR amount <= 0),
  CHECK (kind NOT IN ('credit', 'purchase', 'cycle_grant', 'debit_reversal') OR amount >= 0),
  CHECK (kind <> 'adjustment' OR (reason IS NOT NULL AND length(trim(reason)) > 0))
);
CREATE INDEX ledger_entries_account ON ledger_entries (account_id, id);
CREATE INDEX ledger_entries_account_at ON ledger_entries (account_id, at);
CREATE UNIQUE INDEX ledger_entries_reference ON ledger_entries (kind, source, reference)
  WHERE reference IS NOT NULL;

CREATE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'ledger entries are append-only' USING ERRCODE = 'restrict_violation';
END
$$;
-- Statement level, so a refused UPDATE or DELETE fails even when it matches no row.
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_append_only();

CREATE TABLE holds (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id text NOT NULL REFERENCES accounts (id),
  amount bigint NOT NULL CHECK (amount > 0),
  feature text,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'committed', 'released', 'expired')),
  charged bigint NOT NULL DEFAULT 0 CHECK (charged >= 0),
  created_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  closed_at bigint,
  idempotency_key text,
  CHECK ((status = 'active') = (closed_at IS NULL))
);
CREATE INDEX holds_active ON holds (account_id, expires_at) WHERE status = 'active';

CREATE TABLE idempotency_keys (
  account_id text NOT NULL,
  operation text NOT NULL,
  key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  fingerprint text NOT NULL,
  response text NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (account_id, operation, key)
);

CREATE TABLE settings (
  key text PRIMARY KEY,
  value text NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'service',
    sql: `
CREATE TABLE api_keys (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  scope text NOT NULL CHECK (scope IN ('app', 'admin')),
  hash text NOT NULL UNIQUE CHECK (length(hash) = 64),
  prefix text NOT NULL,
  created_at bigint NOT NULL,
  revoked_at bigint
);
CREATE INDEX api_keys_prefix ON api_keys (prefix);

CREATE TABLE used_nonces (
  nonce text PRIMARY KEY,
  expires_at bigint NOT NULL
);
CREATE INDEX used_nonces_expiry ON used_nonces (expires_at);
`,
  },
  {
    version: 3,
    name: 'payments',
    sql: `
CREATE TABLE payments (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  provider text NOT NULL CHECK (length(provider) BETWEEN 1 AND 32),
  reference text NOT NULL CHECK (length(reference) BETWEEN 1 AND 255),
  account_id text NOT NULL CHECK (length(account_id) BETWEEN 1 AND 128),
  package_id text NOT NULL CHECK (length(package_id) BETWEEN 1 AND 64),
  kind text NOT NULL CHECK (kind IN ('topup', 'plan')),
  tokens bigint NOT NULL CHECK (tokens >= 0),
  amount bigint NOT NULL CHECK (amount >= 0),
  currency text NOT NULL CHECK (length(currency) = 3),
  status text NOT NULL CHECK (status IN ('pending', 'paid', 'canceled', 'failed', 'refunded', 'partially_refunded', 'disputed')),
  payment_intent text,
  subscription_id text,
  tokens_taken_back bigint NOT NULL DEFAULT 0 CHECK (tokens_taken_back >= 0 AND tokens_taken_back <= tokens),
  amount_refunded bigint NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0),
  receipt_url text,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  UNIQUE (provider, reference)
);
CREATE UNIQUE INDEX payments_intent ON payments (provider, payment_intent) WHERE payment_intent IS NOT NULL;
CREATE INDEX payments_account ON payments (account_id, created_at);

CREATE TABLE payment_events (
  provider text NOT NULL,
  event_id text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 255),
  type text NOT NULL,
  status text NOT NULL CHECK (status IN ('applied', 'pending', 'ignored', 'unmatched')),
  match_key text,
  received_at bigint NOT NULL,
  payload text NOT NULL,
  PRIMARY KEY (provider, event_id)
);
CREATE INDEX payment_events_pending ON payment_events (provider, match_key) WHERE status = 'pending';

CREATE TABLE payment_customers (
  account_id text NOT NULL,
  provider text NOT NULL,
  customer_id text NOT NULL CHECK (length(customer_id) BETWEEN 1 AND 255),
  created_at bigint NOT NULL,
  PRIMARY KEY (account_id, provider),
  UNIQUE (provider, customer_id)
);

CREATE TABLE subscriptions (
  provider text NOT NULL,
  subscription_id text NOT NULL,
  account_id text NOT NULL,
  plan text NOT NULL,
  status text NOT NULL,
  period_end bigint,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (provider, subscription_id)
);
CREATE INDEX subscriptions_account ON subscriptions (account_id);
`,
  },
  {
    version: 4,
    name: 'payment_facts',
    sql: `
ALTER TABLE payment_events ADD COLUMN reason text,
  ADD CONSTRAINT payment_events_reason
  CHECK (reason IS NULL OR (status = 'unmatched' AND length(reason) BETWEEN 1 AND 64));

CREATE TABLE payment_disputes (
  provider text NOT NULL CHECK (length(provider) BETWEEN 1 AND 32),
  dispute_id text NOT NULL CHECK (length(dispute_id) BETWEEN 1 AND 255),
  payment_intent text NOT NULL CHECK (length(payment_intent) BETWEEN 1 AND 255),
  status text NOT NULL CHECK (status IN ('open', 'won', 'lost')),
  amount bigint NOT NULL CHECK (amount >= 0),
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (provider, dispute_id)
);
CREATE INDEX payment_disputes_intent ON payment_disputes (provider, payment_intent);
`,
  },
  {
    version: 5,
    name: 'recovered_lines',
    // Each deduction line an applied recovery counted, and (line_hash 'opening') the opening it
    // settled: the primary key lets a line be counted once, whatever runs come later.
    sql: `
CREATE TABLE recovered_lines (
  account_id text NOT NULL CHECK (length(account_id) BETWEEN 1 AND 128),
  line_hash text NOT NULL CHECK (length(line_hash) BETWEEN 1 AND 128),
  tokens bigint NOT NULL CHECK (tokens >= 0),
  at bigint,
  entry_id bigint REFERENCES ledger_entries (id),
  recovered_at bigint NOT NULL,
  PRIMARY KEY (account_id, line_hash)
);
`,
  },
  {
    version: 6,
    name: 'keyed_debits',
    // A keyed deduction is one row: its debit, unique per (account, key), replayed from the
    // entry. held_after (with balance_after) rebuilds the answer's available. Rows from before
    // hold -1, which no held can be; their replays answer from idempotency_keys as before. A
    // keyed debit must carry the real figure: the NOT VALID check holds every new row to it and
    // leaves the old ones be. The index cannot refuse existing rows: every keyed debit was
    // written with its idempotency_keys row, whose primary key (account, 'deduct', key) allowed
    // one per key. The key leads it, so a batch's commit dirties fewer index pages (see the
    // SQLite migration).
    sql: `
ALTER TABLE ledger_entries ADD COLUMN held_after bigint NOT NULL DEFAULT -1
  CONSTRAINT ledger_entries_held_after_range CHECK (held_after >= -1);
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_keyed_debit_held
  CHECK (kind <> 'debit' OR idempotency_key IS NULL OR held_after >= 0) NOT VALID;
CREATE UNIQUE INDEX ledger_entries_deduction_key ON ledger_entries (idempotency_key, account_id)
  WHERE kind = 'debit' AND idempotency_key IS NOT NULL;
`,
  },
];

// Any constant works as long as every tokenmeter process uses the same one.
const MIGRATION_LOCK = 7_254_091_337;

/**
 * Applies pending migrations inside the caller's transaction. The transaction-scoped advisory
 * lock makes processes that start at once take turns: the first applies, the others then find
 * nothing left to do.
 */
export async function applyMigrations(q: PgQueryable, now: number): Promise<void> {
  await q.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
  await q.exec(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
       version bigint PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)`,
  );
  const applied = (await q.query('SELECT version FROM schema_migrations')).map((r) => int(r, 'version'));
  for (const m of pendingMigrations(PG_MIGRATIONS, applied)) {
    await q.exec(m.sql);
    await q.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
      m.version,
      m.name,
      now,
    ]);
  }
}
