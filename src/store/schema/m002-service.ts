import type { SchemaMigration } from './schema-migration.ts';

/** API keys (hashes only) and the nonces of used one-time tokens. */
export const m002Service: SchemaMigration = {
  version: 2,
  name: 'service',
  sql: (d) => `
CREATE TABLE api_keys (
  id ${d.serialId},
  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  scope TEXT NOT NULL CHECK (scope IN ('app', 'admin')),
  hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),
  prefix TEXT NOT NULL,
  created_at ${d.int} NOT NULL,
  revoked_at ${d.int}
)${d.tableOptions};
CREATE INDEX api_keys_prefix ON api_keys (prefix);

CREATE TABLE used_nonces (
  nonce TEXT PRIMARY KEY NOT NULL,
  expires_at ${d.int} NOT NULL
)${d.tableOptions};
CREATE INDEX used_nonces_expiry ON used_nonces (expires_at);
`,
};
