import type { SchemaMigration } from './schema-migration.ts';

/** Why an event matched no payment, and the disputes of payments. */
export const m004PaymentFacts: SchemaMigration = {
  version: 4,
  name: 'payment_facts',
  sql: (d) => `
ALTER TABLE payment_events ADD COLUMN reason TEXT
  ${d.addedCheck('payment_events_reason', "reason IS NULL OR (status = 'unmatched' AND length(reason) BETWEEN 1 AND 64)")};

CREATE TABLE payment_disputes (
  provider TEXT NOT NULL CHECK (length(provider) BETWEEN 1 AND 32),
  dispute_id TEXT NOT NULL CHECK (length(dispute_id) BETWEEN 1 AND 255),
  payment_intent TEXT NOT NULL CHECK (length(payment_intent) BETWEEN 1 AND 255),
  status TEXT NOT NULL CHECK (status IN ('open', 'won', 'lost')),
  amount ${d.int} NOT NULL CHECK (amount >= 0),
  created_at ${d.int} NOT NULL,
  updated_at ${d.int} NOT NULL,
  PRIMARY KEY (provider, dispute_id)
)${d.tableOptions};
CREATE INDEX payment_disputes_intent ON payment_disputes (provider, payment_intent);
`,
};
