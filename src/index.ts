/**
 * tokenmeter: a prepaid token ledger an app can embed.
 *
 * @example
 * import { openLedger } from 'tokenmeter';
 * const ledger = await openLedger();
 * const result = await ledger.deduct({ account: 'user-7', feature: 'outbound_call_single' });
 */

export { loadConfig, parseConfig } from './config/index.ts';
export type { AccountState } from './core/account-state.ts';
export type { BalanceView, FeatureAvailability, PoolStanding } from './core/balance-view.ts';
export type { Catalog, Feature, Plan, TokenPackage } from './core/catalog.ts';
export { type Clock, ManualClock, systemClock } from './core/clock.ts';
export type { EntryDraft, EntryKind, LedgerEntry } from './core/entry.ts';
export { ENTRY_KINDS } from './core/entry.ts';
export { ERROR_CODES, ERROR_STATUS, type ErrorCode, isTokenmeterError, TokenmeterError } from './core/errors.ts';
export type { Hold, HoldStatus } from './core/hold.ts';
export type { Membership } from './core/pool.ts';
export * from './ledger/index.ts';
export { createLogger } from './log/logger.ts';
export { DEFAULT_DATABASE_URL, openStore } from './store/open-store.ts';
export type { Store } from './store/store.ts';
