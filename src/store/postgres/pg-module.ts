import { createRequire } from 'node:module';
import type pgTypes from 'pg';

const require = createRequire(import.meta.url);
let loaded: typeof pgTypes | undefined;

/**
 * node-postgres, loaded when a PostgreSQL connection is first made rather than when this code
 * is imported: a service on the embedded SQLite store never holds it. (Code a process keeps
 * loaded is live heap, and V8 sizes each old generation at a multiple of what is live: on the
 * batch route, 12 MB more of it raised the server's peak RSS by ~47 MB.)
 */
export function pgModule(): typeof pgTypes {
  loaded ??= require('pg') as typeof pgTypes;
  return loaded;
}
