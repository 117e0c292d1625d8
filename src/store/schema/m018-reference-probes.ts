import type { SchemaMigration } from './schema-migration.ts';

/**
 * PostgreSQL checks once per INSERT statement that each new ledger entry names an account
 * (migration 12). A trigger function's query is planned at its first run on a connection, from
 * the size of that statement, and the plan is kept for the connection's life: where that first
 * statement carried some dozens of entries, the planner could choose to read every account into
 * a hash table, and then did so for every batch the connection wrote (a first statement of 80
 * entries over 10,000 accounts: all 10,000 read, 3.5 ms a statement; a million accounts would
 * make it hundreds of milliseconds). The check now probes the accounts' key once per distinct
 * account the statement names: the only plan a scalar lookup has (and a hot account's batch of
 * 256 entries probes once, not 256 times). SQLite keeps its foreign key, a probe a row.
 */
export const m018ReferenceProbes: SchemaMigration = {
  version: 18,
  name: 'reference_probes',
  sql: (d) => d.referencesProbed('ledger_entries', 'account_id', 'accounts', 'id'),
};
