import { PgPoolClient } from './pg-pool-client.ts';
import { PgStore } from './pg-store.ts';
import { redactPgUrl } from './pg-url.ts';

export interface OpenPgStoreOptions {
  /** `postgres://user:password@host:port/database`. */
  url: string;
  /** Connections in this process's pool. Default 10. */
  poolSize?: number;
  /** Server-side limit per statement (ms); 0 disables it. Default 30,000. */
  statementTimeoutMs?: number;
  /** How long an operation waits for a free pooled connection before `unavailable` (ms). Default 15,000. */
  connectTimeoutMs?: number;
  /** Let the process exit while idle connections remain (tests, one-shot CLIs). */
  allowExitOnIdle?: boolean;
}

/** A PostgreSQL store over a node-postgres pool (not yet migrated). */
export function openPgStore(options: OpenPgStoreOptions): PgStore {
  const client = new PgPoolClient({
    url: options.url,
    poolSize: options.poolSize,
    statementTimeoutMs: options.statementTimeoutMs,
    allowExitOnIdle: options.allowExitOnIdle,
    connectTimeoutMs: options.connectTimeoutMs,
  });
  return new PgStore({ client, location: redactPgUrl(options.url) });
}
