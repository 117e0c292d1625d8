import type { Row } from '../../src/store/rows.ts';
import { SqliteConnection } from '../../src/store/sqlite/sqlite-connection.ts';

type Param = string | number | bigint | null;

/** A SQLite connection that keeps SQLite's plan (`EXPLAIN QUERY PLAN`) of every read it runs. */
export class PlannedConnection extends SqliteConnection {
  private plans: string[] = [];

  override all(sql: string, ...params: Param[]): Row[] {
    const steps = super.all(`EXPLAIN QUERY PLAN ${sql}`, ...params).map((r) => String(r.detail));
    this.plans.push(steps.join(' | '));
    return super.all(sql, ...params);
  }

  /** The plans of what ran since the last call, emptied for the next read. */
  take(): string[] {
    const plans = this.plans;
    this.plans = [];
    return plans;
  }
}
