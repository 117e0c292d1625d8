import type { SchemaMigration } from './schema-migration.ts';

/** Grants by when they expire, for the expiry sweep. */
export const GRANTS_EXPIRY_INDEX = 'CREATE INDEX grants_expiry ON grants (expires_at);';

/**
 * Events and webhooks: a transactional outbox. An event is written in the transaction of the
 * change that causes it (so none exists for a change that rolled back, and none is lost for one
 * that committed), numbered per account (`sequence`, UNIQUE with the account) and, by `position`,
 * in the order of the whole table. Its deliveries, one per endpoint that wants its type, are
 * written with it: the dispatcher only ever claims rows, it never decides what to send. A claim
 * (a random token) moves `next_attempt_at` to the end of its lease, so a delivery whose sender
 * died is due again then: at least once, and never twice while its sender lives.
 * On PostgreSQL each event keeps the id of the transaction that wrote it (`txid`): a follower of
 * `GET /api/events` is shown an event only once every transaction that could still commit a
 * smaller position has ended (see sql-outbox-queries.ts). Grants are indexed by expiry for the
 * background work that records expiries at their time; no draw changes `expires_at`, so the
 * index costs nothing on the hot path.
 */
export const m008Events: SchemaMigration = {
  version: 8,
  name: 'events',
  sql: (d) => `
ALTER TABLE accounts ADD COLUMN low_balance_threshold ${d.int} ${d.addedCheck('accounts_low_balance_threshold_range', 'low_balance_threshold IS NULL OR low_balance_threshold >= 0')};

CREATE TABLE events (
  position ${d.serialId},
  id TEXT NOT NULL UNIQUE CHECK (length(id) BETWEEN 1 AND 64),
  account_id TEXT NOT NULL REFERENCES accounts (id),
  sequence ${d.int} NOT NULL CHECK (sequence >= 1),
  type TEXT NOT NULL CHECK (length(type) BETWEEN 1 AND 64),
  at ${d.int} NOT NULL,
  data TEXT NOT NULL,
  dedupe_key TEXT UNIQUE,
  created_at ${d.int} NOT NULL,${d.backend === 'postgres' ? '\n  txid xid8 NOT NULL DEFAULT pg_current_xact_id(),' : ''}
  UNIQUE (account_id, sequence)
)${d.tableOptions};
${d.appendOnly('events', 'events are append-only')}

CREATE TABLE webhook_endpoints (
  id TEXT PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
  url TEXT NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
  events TEXT,
  description TEXT,
  secret TEXT NOT NULL,
  created_at ${d.int} NOT NULL,
  deleted_at ${d.int}
)${d.tableOptions};

CREATE TABLE webhook_deliveries (
  id ${d.serialId},
  endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id),
  event_id TEXT NOT NULL REFERENCES events (id),
  status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts ${d.int} NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at ${d.int},
  claim TEXT,
  response_status ${d.int},
  error TEXT,
  delivered_at ${d.int},
  created_at ${d.int} NOT NULL,
  CHECK (status <> 'pending' OR next_attempt_at IS NOT NULL),
  UNIQUE (endpoint_id, event_id)
)${d.tableOptions};
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX events_account ON events (account_id, position);
${GRANTS_EXPIRY_INDEX}
`,
};
