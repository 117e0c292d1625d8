export type { AutoTopupRequest, AutoTopupSettings, TopupStatus } from '../core/auto-topup.ts';
export type { LedgerContext } from './context.ts';
export { type OpenLedgerOptions, openLedger } from './open-ledger.ts';
export { TokenLedger, type TokenLedgerOptions } from './token-ledger.ts';
export type { AutoTopupView } from './topup/auto-topup-ledger.ts';
export type * from './types.ts';
