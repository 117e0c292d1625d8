import type { RawDatabase } from './upgrade-db.ts';

/** PostgreSQL's plan of `sql` as it ran (EXPLAIN (ANALYZE, FORMAT JSON)), `$n` parameters bound. */
export async function explainAnalyze(db: RawDatabase, sql: string, params: (string | number)[] = []): Promise<unknown> {
  const [row] = await db.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
  return row?.['QUERY PLAN'];
}

/**
 * The rows the scans of `relation` in an EXPLAIN (ANALYZE, FORMAT JSON) plan read, over all
 * their loops: those they returned and those their filter removed.
 */
export function rowsRead(plan: unknown, relation: string): number {
  if (Array.isArray(plan)) return plan.reduce((sum: number, p) => sum + rowsRead(p, relation), 0);
  if (typeof plan !== 'object' || plan === null) return 0;
  const node = plan as Record<string, unknown>;
  const own =
    node['Relation Name'] === relation
      ? (Number(node['Actual Rows']) + Number(node['Rows Removed by Filter'] ?? 0)) * Number(node['Actual Loops'])
      : 0;
  return own + rowsRead(node.Plan, relation) + rowsRead(node.Plans, relation);
}
