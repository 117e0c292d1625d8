import type { SchemaMigration } from './schema-migration.ts';

/** The PostgreSQL channel a recorded intent is announced on (every process's worker listens). */
export const TOPUPS_CHANNEL = 'tokenmeter_topups';

/** An account's available tokens over a row of `accounts`, as `availableOf` computes it. */
const available = (row: 'OLD' | 'NEW') =>
  `(${row}.allocation + ${row}.purchased + ${row}.promotional - ${row}.debt - ${row}.held)`;

/** The write that takes available from at or above the armed threshold to below it. */
const CROSSING = `NEW.topup_threshold IS NOT NULL
    AND ${available('OLD')} >= NEW.topup_threshold AND ${available('NEW')} < NEW.topup_threshold`;

const INTENT_COLUMNS = 'account_id, sequence, status, next_attempt_at, created_at, updated_at';
/** Intents are numbered per account, 1, 2, 3 (the account's row lock serializes whoever numbers one). */
export const NEXT_INTENT_SEQUENCE = (account: string) =>
  `COALESCE((SELECT max(sequence) FROM topup_intents WHERE account_id = ${account}), 0) + 1`;
const INTENT_VALUES = `NEW.id, ${NEXT_INTENT_SEQUENCE('NEW.id')}, 'pending', NEW.updated_at, NEW.updated_at, NEW.updated_at`;
const ARMED = `CASE WHEN NEW.status = 'active' THEN NEW.threshold END`;

/** The two rules as SQLite triggers: INSERT OR IGNORE skips a row the open-intent index refuses. */
const sqliteTriggers = `
CREATE TRIGGER accounts_topup_crossing AFTER UPDATE ON accounts
  WHEN ${CROSSING}
  BEGIN INSERT OR IGNORE INTO topup_intents (${INTENT_COLUMNS}) VALUES (${INTENT_VALUES}); END;
CREATE TRIGGER auto_topups_arm_insert AFTER INSERT ON auto_topups
  BEGIN UPDATE accounts SET topup_threshold = ${ARMED} WHERE id = NEW.account_id; END;
CREATE TRIGGER auto_topups_arm_update AFTER UPDATE ON auto_topups
  BEGIN UPDATE accounts SET topup_threshold = ${ARMED} WHERE id = NEW.account_id; END;`;

/** The same rules on PostgreSQL; a recorded intent also wakes every process's worker (NOTIFY). */
const pgTriggers = `
CREATE FUNCTION accounts_topup_crossing() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO topup_intents (${INTENT_COLUMNS}) VALUES (${INTENT_VALUES}) ON CONFLICT DO NOTHING;
  PERFORM pg_notify('${TOPUPS_CHANNEL}', NEW.id);
  RETURN NULL;
END
$$;
CREATE TRIGGER accounts_topup_crossing AFTER UPDATE ON accounts FOR EACH ROW
  WHEN (${CROSSING})
  EXECUTE FUNCTION accounts_topup_crossing();
CREATE FUNCTION auto_topups_arm() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE accounts SET topup_threshold = ${ARMED} WHERE id = NEW.account_id;
  RETURN NULL;
END
$$;
CREATE TRIGGER auto_topups_arm AFTER INSERT OR UPDATE ON auto_topups FOR EACH ROW
  EXECUTE FUNCTION auto_topups_arm();`;

/**
 * Automatic top-up. The database itself records the intent: a trigger on `accounts` inserts one
 * in the transaction of whichever write (a single operation, a group-commit batch, an expiry, a
 * refund) takes available from at or above the account's armed threshold to below it, numbered by
 * the account (1, 2, 3, ...). At most one intent per account is open (`pending` or `charging`), by a
 * partial UNIQUE index: a second crossing, a concurrent batch or another process adds nothing.
 * `accounts.topup_threshold` is the armed threshold (null unless auto top-up is on and active);
 * it is kept by triggers from `auto_topups`, its only source, so no write path can leave it stale.
 * Arming does not bump the account's version: no ledger write reads or writes that column, so a
 * write decided before it in the same transaction still applies.
 * Saved cards are remembered as brand and last four digits; the offline test provider keeps its
 * off-session charges (one per idempotency key) in a table of its own.
 */
export const m010AutoTopup: SchemaMigration = {
  version: 10,
  name: 'auto_topup',
  sql: (d) => `
ALTER TABLE accounts ADD COLUMN topup_threshold ${d.int} ${d.addedCheck('accounts_topup_threshold_range', 'topup_threshold IS NULL OR topup_threshold >= 0')};

CREATE TABLE auto_topups (
  account_id TEXT PRIMARY KEY REFERENCES accounts (id),
  enabled ${d.int} NOT NULL CHECK (enabled IN (0, 1)),
  threshold ${d.int} NOT NULL CHECK (threshold >= 0),
  package_id TEXT NOT NULL CHECK (length(package_id) BETWEEN 1 AND 64),
  monthly_limit ${d.int} NOT NULL CHECK (monthly_limit BETWEEN 1 AND 100),
  status TEXT NOT NULL CHECK (status IN ('off', 'active', 'suspended')),
  failures ${d.int} NOT NULL DEFAULT 0 CHECK (failures >= 0),
  last_error TEXT,
  updated_at ${d.int} NOT NULL,
  CHECK ((enabled = 0) = (status = 'off'))
)${d.tableOptions};

CREATE TABLE payment_methods (
  account_id TEXT NOT NULL REFERENCES accounts (id),
  provider TEXT NOT NULL,
  method_id TEXT NOT NULL CHECK (length(method_id) BETWEEN 1 AND 255),
  brand TEXT NOT NULL CHECK (length(brand) BETWEEN 1 AND 32),
  last4 TEXT NOT NULL CHECK (length(last4) = 4),
  saved_at ${d.int} NOT NULL,
  PRIMARY KEY (account_id, provider)
)${d.tableOptions};

CREATE TABLE topup_intents (
  id ${d.serialId},
  account_id TEXT NOT NULL REFERENCES accounts (id),
  sequence ${d.int} NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending'
    CHECK (status IN ('pending', 'charging', 'succeeded', 'failed', 'cancelled', 'limited')),
  attempt ${d.int} NOT NULL DEFAULT 0 CHECK (attempt >= 0),
  provider TEXT,
  payment_id TEXT,
  claim TEXT,
  next_attempt_at ${d.int},
  error TEXT,
  created_at ${d.int} NOT NULL,
  updated_at ${d.int} NOT NULL,
  settled_at ${d.int},
  UNIQUE (account_id, sequence),
  CHECK (status NOT IN ('pending', 'charging') OR next_attempt_at IS NOT NULL),
  CHECK (status IN ('pending', 'charging') OR settled_at IS NOT NULL),
  CHECK (status <> 'succeeded' OR payment_id IS NOT NULL)
)${d.tableOptions};
CREATE UNIQUE INDEX topup_intents_open ON topup_intents (account_id) WHERE status IN ('pending', 'charging');
CREATE INDEX topup_intents_due ON topup_intents (next_attempt_at) WHERE status IN ('pending', 'charging');
CREATE INDEX topup_intents_succeeded ON topup_intents (account_id, settled_at) WHERE status = 'succeeded';
CREATE UNIQUE INDEX topup_intents_payment ON topup_intents (provider, payment_id) WHERE payment_id IS NOT NULL;

CREATE TABLE test_charges (
  idempotency_key TEXT PRIMARY KEY CHECK (length(idempotency_key) BETWEEN 1 AND 255),
  payment_id TEXT NOT NULL UNIQUE,
  account_id TEXT NOT NULL,
  method_id TEXT NOT NULL,
  amount ${d.int} NOT NULL CHECK (amount >= 0),
  currency TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('succeeded', 'failed')),
  reason TEXT,
  created_at ${d.int} NOT NULL,
  CHECK ((status = 'failed') = (reason IS NOT NULL))
)${d.tableOptions};
${d.backend === 'postgres' ? pgTriggers : sqliteTriggers}
`,
};
