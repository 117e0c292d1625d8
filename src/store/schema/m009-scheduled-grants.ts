import type { SchemaMigration } from './schema-migration.ts';

/** The grants not yet in effect, by when they start. */
export const GRANTS_SCHEDULED_INDEX =
  "CREATE INDEX grants_scheduled ON grants (effective_at) WHERE status = 'scheduled';";

/**
 * Grants that take effect later, indexed by when: the background work records a start at its
 * time (and the balance events it causes), as it does an expiry. Only scheduled grants are in
 * the index; a draw never makes a grant scheduled, so the hot path adds no entry to it.
 */
export const m009ScheduledGrants: SchemaMigration = {
  version: 9,
  name: 'scheduled_grants',
  sql: () => `
${GRANTS_SCHEDULED_INDEX}
`,
};
