import type { SchemaMigration } from './schema-migration.ts';

/**
 * Each deduction line an applied recovery counted, and (line_hash 'opening') the opening it
 * settled: the primary key lets a line be counted once, whatever runs come later.
 */
export const m005RecoveredLines: SchemaMigration = {
  version: 5,
  name: 'recovered_lines',
  sql: (d) => `
CREATE TABLE recovered_lines (
  account_id TEXT NOT NULL CHECK (length(account_id) BETWEEN 1 AND 128),
  line_hash TEXT NOT NULL CHECK (length(line_hash) BETWEEN 1 AND 128),
  tokens ${d.int} NOT NULL CHECK (tokens >= 0),
  at ${d.int},
  entry_id ${d.int} REFERENCES ledger_entries (id),
  recovered_at ${d.int} NOT NULL,
  PRIMARY KEY (account_id, line_hash)
)${d.tableOptions};
`,
};
