import type { SchemaMigration } from './schema-migration.ts';

/**
 * An account's entries never go back in time: a new entry may not be earlier than any entry its
 * account already has (the trigger, `SchemaDialect.ledgerInTime`). The engine writes each entry
 * at `max(its time, the account's last write)` (`WorkingAccount.flush`), so a clock stepped
 * back, or a writer that read the clock before waiting for the account's lock, still writes in
 * order; the trigger refuses whatever does not.
 */
export const LEDGER_IN_TIME_TRIGGER = 'ledger_entries_in_time';
export const LEDGER_IN_TIME_MESSAGE = 'a ledger entry may not be earlier than an entry its account already has';

/**
 * With that rule, `(account_id, at)` (which ends with the id: SQLite's rowid, PostgreSQL's sort
 * within equal times) orders an account's entries as `(account_id, id)` did, so the second
 * per-account index goes: every deduction on many accounts paid for a leaf page of each
 * (`node bench/in-process.ts`, 10,000 uniform accounts: ~14 KB written to disk a deduction,
 * about 4 of them this index's). History pages by time, then id (`store/history-sql.ts`).
 *
 * Entries written before this step are left as they are: where a clock went back, their times
 * are out of id order, and their account's history lists them by time. Each account's
 * `updated_at`, the engine's floor for the next entry's time, is raised to its latest entry's
 * time, so the first write after the step never meets the trigger. On PostgreSQL the DROP
 * takes the ledger's lock for a moment; the UPDATE reads one index entry an account.
 */
export const m016LedgerInTime: SchemaMigration = {
  version: 16,
  name: 'ledger_in_time',
  sql: (d) => `
UPDATE accounts SET updated_at = (SELECT max(e.at) FROM ledger_entries e WHERE e.account_id = accounts.id)
WHERE updated_at < (SELECT max(e.at) FROM ledger_entries e WHERE e.account_id = accounts.id);
${d.ledgerInTime(LEDGER_IN_TIME_TRIGGER, LEDGER_IN_TIME_MESSAGE)}
DROP INDEX IF EXISTS ledger_entries_account;
`,
};
