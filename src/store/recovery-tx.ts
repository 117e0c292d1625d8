import type { RecoveredLine } from '../core/recovery.ts';

/** What recoveries recorded, read and written inside a write transaction. */
export interface RecoveryTx {
  /** An account's recorded lines (its settled opening included). */
  recoveredLines(account: string): Promise<RecoveredLine[]>;
  /**
   * Records lines as counted. The primary key (account, key) refuses a line recorded before,
   * so a line two recoveries both counted fails the transaction instead of counting twice.
   */
  insertRecoveredLines(rows: readonly RecoveredLine[]): Promise<void>;
}
