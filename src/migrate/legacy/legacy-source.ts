import type { LegacyRow } from '../../core/legacy-row.ts';

/** Where the legacy users are, and the names of the columns tokenmeter reads. */
export interface LegacyColumns {
  table: string;
  id: string;
  balance: string;
  used: string;
  plan: string;
}

/** The seed app's names (a Sequelize `users` table). */
export const SEED_COLUMNS: LegacyColumns = {
  table: 'users',
  id: 'id',
  balance: 'tokens_balance',
  used: 'tokens_used_this_month',
  plan: 'token_package',
};

/** Where a row sits in its source, for a report: its ordinal, and the line a CSV record starts on. */
export interface RowPlace {
  row: number;
  line: number | null;
}

/** A row, or a record the source could not even split into columns (reported, never dropped). */
export type LegacyItem =
  | { kind: 'row'; place: RowPlace; row: LegacyRow }
  | { kind: 'unreadable'; place: RowPlace; reason: string };

/**
 * A legacy users table read as a stream: rows arrive one at a time, so a million of them
 * never sit in memory together.
 */
export interface LegacySource {
  /** Safe to print and log: no password. */
  readonly description: string;
  /** How much there is to read, in `unit`s, when known. */
  readonly total: number | null;
  readonly unit: 'rows' | 'bytes';
  /** How much has been read so far, in `unit`s. */
  position(): number;
  items(): AsyncIterable<LegacyItem>;
  close(): Promise<void>;
}
