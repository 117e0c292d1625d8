// One throwaway PostgreSQL database per benchmark run, on the server named by
// TOKENMETER_TEST_PG_URL (else the development default), created at the start and dropped at
// the end; every measured run in it starts from emptied tables.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPgStore } from '../src/store/postgres/open-pg-store.ts';

export const PG_SERVER_URL = process.env.TOKENMETER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface BenchDatabase {
  name: string;
  url: string;
  /** Server version and the settings that decide durability. */
  settings: { version: string; synchronousCommit: string; fsync: string };
  drop(): Promise<void>;
}

export async function createBenchDatabase(): Promise<BenchDatabase> {
  const server = new pg.Client({ connectionString: PG_SERVER_URL });
  await server.connect();
  const name = `tm_bench_${randomBytes(4).toString('hex')}`;
  try {
    await server.query(`CREATE DATABASE ${name}`);
    // Durable commits whatever the server's default: the figures are for synchronous_commit=on.
    await server.query(`ALTER DATABASE ${name} SET synchronous_commit = on`);
  } catch (err) {
    await server.end();
    throw err;
  }
  const url = new URL(PG_SERVER_URL);
  url.pathname = `/${name}`;
  const db = new pg.Client({ connectionString: url.toString() });
  await db.connect();
  const { rows } = await db.query<{ v: string; s: string; f: string }>(
    `SELECT current_setting('server_version') AS v, current_setting('synchronous_commit') AS s, current_setting('fsync') AS f`,
  );
  await db.end();
  const store = openPgStore({ url: url.toString(), poolSize: 1, allowExitOnIdle: true });
  await store.migrate();
  await store.close();
  return {
    name,
    url: url.toString(),
    settings: { version: rows[0]?.v ?? '?', synchronousCommit: rows[0]?.s ?? '?', fsync: rows[0]?.f ?? '?' },
    async drop() {
      try {
        await server.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await server.end();
      }
    },
  };
}

/** Empties the ledger tables (the append-only trigger is a user trigger: replica role skips it). */
export async function resetLedgerTables(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SET session_replication_role = replica');
    await client.query(
      'TRUNCATE webhook_deliveries, webhook_endpoints, events, topup_intents, auto_topups, payment_methods, ledger_entries, holds, idempotency_keys, pool_members, grants, accounts, recovered_lines',
    );
  } finally {
    await client.end();
  }
}

/** WAL the server has generated so far, in bytes (pg_stat_wal, PostgreSQL 14 and later); null where it cannot tell. */
export async function walBytes(url: string): Promise<number | null> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const { rows } = await client.query<{ bytes: string }>('SELECT wal_bytes::text AS bytes FROM pg_stat_wal');
    return rows[0] === undefined ? null : Number(rows[0].bytes);
  } catch {
    return null;
  } finally {
    await client.end().catch(() => {});
  }
}

/** After seeding: fresh statistics, and a checkpoint so none falls in the measured part by chance. */
export async function settle(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('ANALYZE');
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
}
