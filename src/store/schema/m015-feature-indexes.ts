import type { SchemaMigration } from './schema-migration.ts';

/**
 * The features the ledger and the holds name, found without reading them: opening a ledger
 * checks that its config still configures every feature in use (`Store.inUse`), which read every
 * entry, 0.3–0.5 s per million entries at every server start and CLI command. With these indexes
 * it steps from one distinct feature to the next (`inUseSql`), one index probe per feature
 * whatever the ledger's size: under 1 ms on 1,000,000 entries (`node bench/read-stall.ts`). An
 * entry's id grows with time, so each insert appends at the right edge of its own feature's run:
 * one hot page per feature, as `ledger_entries_at` appends at one (`node bench/insert-cost.ts
 * --keys ordered` with and without them: within the noise). Partial: entries without a feature
 * (credits, grants, adjustments) add nothing. `IF NOT EXISTS`: on PostgreSQL building them blocks
 * writes to those tables, so a large ledger's operator may build them beforehand `CONCURRENTLY`
 * (README, Credit grants, on migrating); the step then finds them.
 */
export const m015FeatureIndexes: SchemaMigration = {
  version: 15,
  name: 'feature_indexes',
  sql: () => `
CREATE INDEX IF NOT EXISTS ledger_entries_feature ON ledger_entries (feature) WHERE feature IS NOT NULL;
CREATE INDEX IF NOT EXISTS holds_feature ON holds (feature) WHERE feature IS NOT NULL;
`,
};
