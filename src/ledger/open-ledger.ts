import { checkConfigCovers, loadConfig } from '../config/index.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../log/logger.ts';
import { DEFAULT_DATABASE_URL, openStore } from '../store/open-store.ts';
import { type GroupCommitOptions, groupCommitFromEnv } from './batch/group-commit-options.ts';
import { TokenLedger } from './token-ledger.ts';
import { topupRetryMsFromEnv } from './topup/topup-env.ts';

export interface OpenLedgerOptions {
  /** Default: DATABASE_URL, else sqlite:./data/tokenmeter.db. */
  databaseUrl?: string;
  /** Default: TOKENMETER_CONFIG, else the built-in configuration. */
  configPath?: string;
  env?: Record<string, string | undefined>;
  clock?: Clock;
  logger?: Logger;
  /** Default: from TOKENMETER_GROUP_COMMIT and friends (on unless set to off). */
  groupCommit?: GroupCommitOptions | false;
  /** Default: TOKENMETER_TOPUP_RETRY_S × 1000, else one hour. */
  topupRetryMs?: number;
}

/**
 * Opens the store, applies migrations, loads and validates the config, and refuses a
 * config that dropped a plan or feature the database still uses.
 */
export async function openLedger(options: OpenLedgerOptions = {}): Promise<TokenLedger> {
  const env = options.env ?? process.env;
  const groupCommit = options.groupCommit ?? groupCommitFromEnv(env);
  const { catalog, source } = await loadConfig({ ...(options.configPath ? { path: options.configPath } : {}), env });
  const store = openStore(options.databaseUrl ?? env.DATABASE_URL ?? DEFAULT_DATABASE_URL, env);
  try {
    await store.migrate();
    checkConfigCovers(catalog, await store.inUse(), source);
  } catch (err) {
    await store.close();
    throw err;
  }
  return new TokenLedger({
    store,
    catalog,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    groupCommit,
    topupRetryMs: options.topupRetryMs ?? topupRetryMsFromEnv(env),
  });
}
