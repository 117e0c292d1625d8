import type { PaymentEventStatus } from '../../store/payment-tx.ts';

/** What applying one command did: its event status, the key a pending one waits for, the account touched. */
export interface EffectResult {
  status: PaymentEventStatus;
  matchKey: string | null;
  account: string | null;
}

export const applied = (account: string | null): EffectResult => ({ status: 'applied', matchKey: null, account });
export const waitingFor = (matchKey: string): EffectResult => ({ status: 'pending', matchKey, account: null });
export const unmatched: EffectResult = { status: 'unmatched', matchKey: null, account: null };
export const ignored: EffectResult = { status: 'ignored', matchKey: null, account: null };
