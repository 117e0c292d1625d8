import { resolve } from 'node:path';
import { invalid, TokenmeterError } from '../core/errors.ts';
import { openPgStore } from './postgres/open-pg-store.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import { SqliteWorkerStore } from './sqlite/worker-store.ts';
import type { Store } from './store.ts';

export const DEFAULT_DATABASE_URL = 'sqlite:./data/tokenmeter.db';

type Env = Record<string, string | undefined>;

/**
 * Opens (without migrating) the store a DATABASE_URL names: `sqlite:<path>`, `sqlite::memory:`,
 * or `postgres://user:password@host:port/database` (also `postgresql://`), whose pool size and
 * statement timeout come from TOKENMETER_PG_POOL_SIZE and TOKENMETER_PG_STATEMENT_TIMEOUT_MS.
 * A SQLite file's writer runs on a worker thread unless TOKENMETER_SQLITE_WORKER is off
 * (`:memory:` cannot be shared between threads: it stays on this one).
 *
 * @example openStore('postgres://tokenmeter@db.internal:5432/tokenmeter')
 */
export function openStore(url: string = DEFAULT_DATABASE_URL, env: Env = process.env): Store {
  if (url.startsWith('sqlite:')) {
    const rest = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (rest === '') throw new TokenmeterError('invalid_request', `DATABASE_URL "${url}" names no file`);
    const worker = sqliteWorkerFromEnv(env);
    if (rest === ':memory:') return new SqliteStore({ path: rest });
    return worker ? new SqliteWorkerStore({ path: resolve(rest) }) : new SqliteStore({ path: resolve(rest) });
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    return openPgStore({
      url,
      poolSize: envInt(env, 'TOKENMETER_PG_POOL_SIZE', 1, 1000),
      statementTimeoutMs: envInt(env, 'TOKENMETER_PG_STATEMENT_TIMEOUT_MS', 0, 86_400_000),
    });
  }
  throw new TokenmeterError(
    'invalid_request',
    // Only the scheme is echoed: the rest of a mistyped URL may hold a password.
    `DATABASE_URL must start with sqlite: or postgres:// (got "${url.split(':')[0] ?? ''}:...")`,
  );
}

/** TOKENMETER_SQLITE_WORKER: on (the default) or off; anything else is refused by name. */
function sqliteWorkerFromEnv(env: Env): boolean {
  const mode = (env.TOKENMETER_SQLITE_WORKER ?? 'on').trim().toLowerCase();
  if (mode === 'on' || mode === '1' || mode === 'true') return true;
  if (mode === 'off' || mode === '0' || mode === 'false') return false;
  throw invalid('TOKENMETER_SQLITE_WORKER', `"${mode}" is not on or off`);
}

function envInt(env: Env, name: string, min: number, max: number): number | undefined {
  const text = env[name];
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new TokenmeterError('config_invalid', `${name} must be an integer from ${min} to ${max} (got "${text}")`);
  }
  return value;
}
