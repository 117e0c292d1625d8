import { resolve } from 'node:path';
import { TokenmeterError } from '../core/errors.ts';
import { SqliteStore } from './sqlite/sqlite-store.ts';
import type { Store } from './store.ts';

export const DEFAULT_DATABASE_URL = 'sqlite:./data/tokenmeter.db';

/** Opens (without migrating) the store a DATABASE_URL names: `sqlite:<path>` or `sqlite::memory:`. */
export function openStore(url: string = DEFAULT_DATABASE_URL): Store {
  if (url.startsWith('sqlite:')) {
    const rest = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (rest === '') throw new TokenmeterError('invalid_request', `DATABASE_URL "${url}" names no file`);
    return new SqliteStore({ path: rest === ':memory:' ? rest : resolve(rest) });
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    throw new TokenmeterError(
      'invalid_request',
      'DATABASE_URL names PostgreSQL, which this build does not support yet; use sqlite:<path>',
    );
  }
  throw new TokenmeterError('invalid_request', `DATABASE_URL must start with sqlite: (got "${url.slice(0, 40)}")`);
}
