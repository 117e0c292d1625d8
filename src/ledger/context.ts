import type { Catalog } from '../core/catalog.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../log/logger.ts';
import type { Store } from '../store/store.ts';

/** What every ledger operation works with. */
export interface LedgerContext {
  store: Store;
  catalog: Catalog;
  clock: Clock;
  logger: Logger;
}
