import type { Row } from '../rows.ts';

/** A value bound to a `$n` placeholder. Numbers travel as text, so PostgreSQL parses them strictly. */
export type PgParam = string | number | bigint | boolean | null;

/** Statements on one connection. */
export interface PgQueryable {
  /**
   * One statement with `$n` parameters; resolves to its rows (use RETURNING to see what a write
   * touched). `prepared` names a server-side prepared statement, parsed and planned once per
   * connection: only for fixed SQL on hot paths (the names must be unique per SQL text).
   */
  query(sql: string, params?: readonly PgParam[], prepared?: string): Promise<Row[]>;
  /** Several statements without parameters (schema scripts). */
  exec(sql: string): Promise<void>;
}

/**
 * The small SQL surface the PostgreSQL store needs, so it runs the same on a node-postgres
 * pool and on PGlite. `query` and `exec` outside a transaction run in autocommit.
 */
export interface PgClient extends PgQueryable {
  /**
   * Runs `fn` on one connection between `begin` (e.g. `BEGIN ISOLATION LEVEL ...`) and COMMIT;
   * rolls back and rethrows when `fn` or the commit fails.
   */
  transaction<T>(begin: string, fn: (q: PgQueryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /**
   * Calls `onNotify` for each NOTIFY on `channel` (sent at its transaction's commit), over a
   * connection of its own that is reopened if the server drops it; resolves to what stops it.
   * Absent where there is no other process to hear from (PGlite).
   */
  listen?(channel: string, onNotify: () => void): Promise<() => Promise<void>>;
}
