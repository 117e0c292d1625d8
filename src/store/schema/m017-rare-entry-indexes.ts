import type { SchemaMigration } from './schema-migration.ts';

/**
 * The entries that take a payment's tokens back (a refund's or a dispute's step) or return them
 * (a dispute won), as the index below selects them. Written out, not built from core's lists: a
 * released step never changes. The store's reads name this same text, so both databases can
 * prove the index covers them (`test/store/rare-entry-reads.test.ts` checks each against core's
 * `TAKE_BACK_KINDS` and `ALLOCATION_GRANT_KINDS`).
 */
export const TAKE_BACK_ENTRIES = "kind IN ('payment_refund', 'debit_reversal')";

/** The entries that grant a plan's allocation: a cycle's opening or renewal, a plan change. */
export const ALLOCATION_GRANT_ENTRIES = "kind IN ('opening_balance', 'cycle_grant', 'plan_change')";

/**
 * Two writes read back a few entries of rare kinds from an account's ledger, with the account
 * locked (on SQLite, the whole writer waiting): a refund or dispute reads the steps already
 * taken back for its payment, and a plan change reads what the cycle has granted. No index
 * served either but the account's own, so the first read every entry the account ever had and
 * the second every entry of its current cycle: on an account of a million deductions, 140–240 ms
 * each (SQLite, warm cache) against under 0.3 ms through these indexes. Partial: a
 * deduction, the bulk of the ledger, adds nothing to them. `IF NOT EXISTS`: on PostgreSQL,
 * building them blocks writes to the ledger, so a large ledger's operator may build them
 * beforehand `CONCURRENTLY` (README, Credit grants, on migrating); the step then finds them.
 */
export const m017RareEntryIndexes: SchemaMigration = {
  version: 17,
  name: 'rare_entry_indexes',
  sql: () => `
CREATE INDEX IF NOT EXISTS ledger_entries_take_backs ON ledger_entries (account_id, source)
  WHERE ${TAKE_BACK_ENTRIES};
CREATE INDEX IF NOT EXISTS ledger_entries_allocation_grants ON ledger_entries (account_id, at)
  WHERE ${ALLOCATION_GRANT_ENTRIES};
`,
};
