import type pg from 'pg';
import type { Row } from '../rows.ts';
import type { PgClient, PgParam, PgQueryable } from './pg-client.ts';
import { listenOn } from './pg-listener.ts';
import { pgModule } from './pg-module.ts';

export interface PgPoolClientOptions {
  /** A `postgres://` connection string. */
  url: string;
  /** Connections per process. Default 10. */
  poolSize?: number;
  /** Server-side limit per statement (ms); 0 means none. Default 30,000. */
  statementTimeoutMs?: number;
  /**
   * How long an operation waits for a connection (ms), whether the pool is opening one or all
   * are busy. Default 15,000, the embedded store's busy timeout; past it the store is unavailable.
   */
  connectTimeoutMs?: number;
  /** Let the process exit while idle connections remain open (tests, CLIs). */
  allowExitOnIdle?: boolean;
}

/** A node-postgres pool: each transaction gets its own connection. */
export class PgPoolClient implements PgClient {
  private readonly pool: pg.Pool;
  private readonly url: string;

  constructor(options: PgPoolClientOptions) {
    this.url = options.url;
    this.pool = new (pgModule().Pool)({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      statement_timeout: options.statementTimeoutMs ?? 30_000,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 15_000,
      allowExitOnIdle: options.allowExitOnIdle ?? false,
    });
    // An idle connection the server closed (restart, failover) must not crash the process:
    // the pool drops it and the next checkout opens a new one.
    this.pool.on('error', () => {});
  }

  listen(channel: string, onNotify: () => void): Promise<() => Promise<void>> {
    return listenOn(this.url, channel, onNotify);
  }

  async query(sql: string, params: readonly PgParam[] = []): Promise<Row[]> {
    const result = await this.pool.query<Row>(sql, [...params]);
    return result.rows;
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async transaction<T>(begin: string, fn: (q: PgQueryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    // A connection that failed (the server went away) or whose rollback failed is in an unknown
    // state: released with an error, the pool destroys it rather than handing it out again.
    let broken: Error | undefined;
    // While a client is checked out the pool stops listening for its errors, and node-postgres
    // emits 'error' on a connection the server drops (shutdown, crash, failover), even when a
    // query is waiting on it: without this listener that event is an uncaught exception that
    // kills the process. The query in flight still rejects, so the caller sees the failure.
    const onError = (err: Error) => {
      broken ??= err;
    };
    client.on('error', onError);
    try {
      await client.query(begin);
      const result = await fn({
        async query(sql, params = [], prepared) {
          const values = [...params];
          return (await client.query<Row>(prepared ? { name: prepared, text: sql, values } : { text: sql, values }))
            .rows;
        },
        async exec(sql) {
          await client.query(sql);
        },
      });
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      }
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (!this.pool.ended && !this.pool.ending) await this.pool.end();
  }
}
