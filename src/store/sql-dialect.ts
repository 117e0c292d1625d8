/** A value bound to a `?` placeholder; SQLite's adapter binds a flag as 1 or 0 (it has no boolean). */
export type SqlValue = string | number | boolean | null;

/**
 * What truly differs in the SQL text of tokenmeter's own statements between the backends. The
 * statements are written once (`sql-write-tx.ts`, `sql-service-queries.ts`) with `?`
 * placeholders and built from this; each backend's adapter runs them (PostgreSQL's numbers the
 * placeholders).
 */
export interface SqlDialect {
  /**
   * A `?` of this type, cast where PostgreSQL cannot infer it from the context (a SELECT list,
   * `? IS NULL`, arithmetic it would otherwise take as text). SQLite needs no cast.
   */
  typed(type: 'text' | 'bigint' | 'int'): string;
  /** A condition true when the bound flag is set. */
  readonly flag: string;
  /** The smaller of two values: SQLite's scalar `min`, PostgreSQL's `LEAST`. */
  readonly least: string;
  /**
   * Whether other transactions write at the same time. PostgreSQL: yes, so a read that decides a
   * write locks its rows (FOR UPDATE), and an insert another transaction beat is skipped (ON
   * CONFLICT DO NOTHING, which aborts nothing) and reported as a conflict the store re-runs.
   * SQLite: no, BEGIN IMMEDIATE holds the database's only write lock, so no row needs a lock and
   * a duplicate is a bug that fails as the constraint error it raises.
   */
  readonly concurrentWriters: boolean;
  /** An expression ordered and compared byte-wise, as SQLite does by default (ids, cursors). */
  byteOrder(expr: string): string;
  /** The UTC calendar day (YYYY-MM-DD) of a column of milliseconds since the epoch. */
  utcDay(column: string): string;
  /**
   * `column` as an expression no index on that column serves. PostgreSQL's planner, with
   * statistics from many small accounts, may pick the account's own index and walk all of a hot
   * account's entries; SQLite's finds the right index by itself.
   */
  notIndexed(column: string): string;
  /** What an INSERT giving an identity column its value (an id reserved up front) says before VALUES. */
  readonly explicitId: string;
  /** Ends a SELECT of rows to claim: PostgreSQL skips rows another process is claiming. */
  readonly skipLocked: string;
  /**
   * A condition on `events` that holds once no transaction that could still commit an event of
   * a smaller position is open (see m008-events.ts); SQLite commits in position order anyway.
   */
  readonly settledEvent: string;
  /** A statement that tells other processes, at commit, that events were written; null: they poll. */
  readonly notifyEvents: string | null;
  /**
   * A table from one bound JSON array of arrays, its columns named and typed in order: many rows
   * written by one statement (`UPDATE ... FROM`), whatever their number.
   */
  jsonRows(columns: readonly [name: string, type: 'text' | 'bigint'][]): string;
  /**
   * `column` is one of the texts of one bound JSON array, matched as a list of keys (an index
   * lookup each), never as a join against the array's rows (which PostgreSQL may plan as a scan).
   */
  inJsonArray(column: string): string;
}

export const SQLITE_DIALECT: SqlDialect = {
  typed: () => '?',
  flag: '? = 1',
  least: 'min',
  concurrentWriters: false,
  byteOrder: (expr) => expr,
  utcDay: (column) => `date(${column} / 1000, 'unixepoch')`,
  notIndexed: (column) => column,
  explicitId: '',
  skipLocked: '',
  settledEvent: 'TRUE',
  notifyEvents: null,
  jsonRows: (columns) =>
    `(SELECT ${columns.map(([name], i) => `value ->> ${i} AS ${name}`).join(', ')} FROM json_each(?))`,
  inJsonArray: (column) => `${column} IN (SELECT value FROM json_each(?))`,
};

export const PG_DIALECT: SqlDialect = {
  typed: (type) => `?::${type}`,
  flag: '?::boolean',
  least: 'LEAST',
  concurrentWriters: true,
  byteOrder: (expr) => `${expr} COLLATE "C"`,
  utcDay: (column) => `to_char(to_timestamp(${column} / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  notIndexed: (column) => `${column} || ''`,
  explicitId: 'OVERRIDING SYSTEM VALUE',
  skipLocked: 'FOR UPDATE SKIP LOCKED',
  settledEvent: 'txid < pg_snapshot_xmin(pg_current_snapshot())',
  // Sent at COMMIT, and not at all on a rollback (the channel is pg-events.ts's EVENTS_CHANNEL).
  notifyEvents: "SELECT pg_notify('tokenmeter_events', '')",
  jsonRows: (columns) =>
    `(SELECT ${columns.map(([name, type], i) => `(value ->> ${i})::${type} AS ${name}`).join(', ')}
      FROM json_array_elements(?::json))`,
  inJsonArray: (column) => `${column} = ANY(ARRAY(SELECT json_array_elements_text(?::json)))`,
};

/** `?` placeholders numbered `$1, $2…` for PostgreSQL (tokenmeter's statements have no `?` inside literals). */
export function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** Parameters for node:sqlite, which binds no booleans: a flag becomes 1 or 0 (see `SQLITE_DIALECT.flag`). */
export function sqliteParams(params: readonly SqlValue[]): (string | number | null)[] {
  return params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
}
