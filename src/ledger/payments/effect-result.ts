import type { UnmatchedReason } from '../../core/unmatched-reason.ts';
import type { PaymentEventStatus } from '../../store/payment-tx.ts';

/** What applying one command did: its event status, the key a pending one waits for, the account touched. */
export interface EffectResult {
  status: PaymentEventStatus;
  matchKey: string | null;
  account: string | null;
  /** Why an `unmatched` event matched nothing. */
  reason: UnmatchedReason | null;
  /** Keys (payment intents) this effect made known: events kept pending for them are applied next. */
  releases: readonly string[];
}

export const applied = (account: string | null, releases: readonly string[] = []): EffectResult => ({
  status: 'applied',
  matchKey: null,
  account,
  reason: null,
  releases,
});
export const waitingFor = (matchKey: string): EffectResult => ({
  status: 'pending',
  matchKey,
  account: null,
  reason: null,
  releases: [],
});
export const unmatchedBecause = (reason: UnmatchedReason, account: string | null = null): EffectResult => ({
  status: 'unmatched',
  matchKey: null,
  account,
  reason,
  releases: [],
});
/** An event about a payment tokenmeter has no record of. */
export const unmatched: EffectResult = unmatchedBecause('unknown_payment');
export const ignored: EffectResult = { status: 'ignored', matchKey: null, account: null, reason: null, releases: [] };
