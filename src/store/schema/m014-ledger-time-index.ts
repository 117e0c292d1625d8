import type { SchemaMigration } from './schema-migration.ts';

/**
 * The ledger by time alone, for the reads over every account in a window: usage by day and by
 * account (the console's charts, default the last 30 days) read only the window's entries
 * instead of the whole ledger. On 1,000,000 entries over a year, a 30-day usage by day went from
 * ~230 to ~80 ms and by account from ~620 to ~140 ms. Entries are written with the current time,
 * so each insert appends at the index's right edge: `node bench/insert-cost.ts` measured no
 * cost beyond the noise (200 and 10,000 accounts, two runs each). `IF NOT EXISTS`: on
 * PostgreSQL, building it blocks writes to the ledger, so a large ledger's operator may build it
 * beforehand `CONCURRENTLY` (README, Credit grants, on migrating); the step then finds it.
 */
export const m014LedgerTimeIndex: SchemaMigration = {
  version: 14,
  name: 'ledger_time_index',
  sql: () => `
CREATE INDEX IF NOT EXISTS ledger_entries_at ON ledger_entries (at);
`,
};
