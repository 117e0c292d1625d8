import type { SchemaMigration } from './schema-migration.ts';

/** Payments, the provider events applied once each, customers and subscriptions. */
export const m003Payments: SchemaMigration = {
  version: 3,
  name: 'payments',
  sql: (d) => `
CREATE TABLE payments (
  id ${d.serialId},
  provider TEXT NOT NULL CHECK (length(provider) BETWEEN 1 AND 32),
  reference TEXT NOT NULL CHECK (length(reference) BETWEEN 1 AND 255),
  account_id TEXT NOT NULL CHECK (length(account_id) BETWEEN 1 AND 128),
  package_id TEXT NOT NULL CHECK (length(package_id) BETWEEN 1 AND 64),
  kind TEXT NOT NULL CHECK (kind IN ('topup', 'plan')),
  tokens ${d.int} NOT NULL CHECK (tokens >= 0),
  amount ${d.int} NOT NULL CHECK (amount >= 0),
  currency TEXT NOT NULL CHECK (length(currency) = 3),
  status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'canceled', 'failed', 'refunded', 'partially_refunded', 'disputed')),
  payment_intent TEXT,
  subscription_id TEXT,
  tokens_taken_back ${d.int} NOT NULL DEFAULT 0 CHECK (tokens_taken_back >= 0 AND tokens_taken_back <= tokens),
  amount_refunded ${d.int} NOT NULL DEFAULT 0 CHECK (amount_refunded >= 0),
  receipt_url TEXT,
  created_at ${d.int} NOT NULL,
  updated_at ${d.int} NOT NULL,
  UNIQUE (provider, reference)
)${d.tableOptions};
CREATE UNIQUE INDEX payments_intent ON payments (provider, payment_intent) WHERE payment_intent IS NOT NULL;
CREATE INDEX payments_account ON payments (account_id, created_at);

CREATE TABLE payment_events (
  provider TEXT NOT NULL,
  event_id TEXT NOT NULL CHECK (length(event_id) BETWEEN 1 AND 255),
  type TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('applied', 'pending', 'ignored', 'unmatched')),
  match_key TEXT,
  received_at ${d.int} NOT NULL,
  payload TEXT NOT NULL,
  PRIMARY KEY (provider, event_id)
)${d.tableOptions};
CREATE INDEX payment_events_pending ON payment_events (provider, match_key) WHERE status = 'pending';

CREATE TABLE payment_customers (
  account_id TEXT NOT NULL,
  provider TEXT NOT NULL,
  customer_id TEXT NOT NULL CHECK (length(customer_id) BETWEEN 1 AND 255),
  created_at ${d.int} NOT NULL,
  PRIMARY KEY (account_id, provider),
  UNIQUE (provider, customer_id)
)${d.tableOptions};

CREATE TABLE subscriptions (
  provider TEXT NOT NULL,
  subscription_id TEXT NOT NULL,
  account_id TEXT NOT NULL,
  plan TEXT NOT NULL,
  status TEXT NOT NULL,
  period_end ${d.int},
  created_at ${d.int} NOT NULL,
  updated_at ${d.int} NOT NULL,
  PRIMARY KEY (provider, subscription_id)
)${d.tableOptions};
CREATE INDEX subscriptions_account ON subscriptions (account_id);
`,
};
