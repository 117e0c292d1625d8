import type { SchemaMigration } from './schema-migration.ts';

/**
 * The entries that take a payment's tokens back (a refund's or a dispute's step) or return them
 * (a dispute won), as the index below selects them. Written out, not built from core's list: a
 * released step never changes. The store's read of a payment's steps names this same text, so
 * both databases can prove the index covers it (`test/store/take-back-reads.test.ts` checks it
 * against `TAKE_BACK_KINDS`).
 */
export const TAKE_BACK_ENTRIES = "kind IN ('payment_refund', 'debit_reversal')";

/**
 * A refund or dispute of a payment reads the steps already taken back for it, inside the
 * account's write. That read named the account, the provider and a reference prefix, which no
 * index served but the account's own, so it read every entry the account ever had: on an
 * account of a million deductions, 137–152 ms with the account locked (on SQLite, the whole
 * writer), against 0.05–0.25 ms through this index (SQLite, warm cache). A partial index of the
 * take-back entries alone serves it from the few there are; a deduction, the bulk of the
 * ledger, adds nothing to it. `IF NOT EXISTS`: on
 * PostgreSQL, building it blocks writes to the ledger, so a large ledger's operator may build it
 * beforehand `CONCURRENTLY` (README, Credit grants, on migrating); the step then finds it.
 */
export const m017TakeBackIndex: SchemaMigration = {
  version: 17,
  name: 'take_back_index',
  sql: () => `
CREATE INDEX IF NOT EXISTS ledger_entries_take_backs ON ledger_entries (account_id, source)
  WHERE ${TAKE_BACK_ENTRIES};
`,
};
