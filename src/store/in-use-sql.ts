import type { SqlDialect } from './sql-dialect.ts';

/**
 * The distinct non-null features of `table`, one index probe each: the first, then the least
 * greater than the last found, until none is (a loose index scan over `<table>_feature`,
 * migration 15). Reading `SELECT DISTINCT` instead walks every entry (or the whole index).
 */
function distinctFeatures(name: string, table: string): string {
  const next = (after: string) =>
    `(SELECT feature FROM ${table} WHERE feature IS NOT NULL${after} ORDER BY feature LIMIT 1)`;
  return `${name} (feature) AS (
  SELECT ${next('')}
  UNION ALL
  SELECT ${next(` AND feature > ${name}.feature`)} FROM ${name} WHERE ${name}.feature IS NOT NULL
)`;
}

/** What `Store.inUse` reads: the plans accounts are on, and the features the ledger or a hold names. */
export function inUseSql(d: SqlDialect): { plans: string; features: string } {
  return {
    plans: `SELECT plan FROM accounts GROUP BY plan ORDER BY ${d.byteOrder('plan')}`,
    features: `WITH RECURSIVE ${distinctFeatures('entry_features', 'ledger_entries')},
${distinctFeatures('hold_features', 'holds')}
SELECT feature FROM (SELECT feature FROM entry_features UNION SELECT feature FROM hold_features) used
WHERE feature IS NOT NULL ORDER BY ${d.byteOrder('feature')}`,
  };
}
