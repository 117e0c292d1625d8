import { type ApiAnswer, type ApiOptions, api, type Json } from './api.ts';

const KEY = 'tokenmeter.adminKey';

/** The admin key lives in session storage only and travels as a bearer header, never in a URL. */
export const adminKey = {
  get: (): string | null => sessionStorage.getItem(KEY),
  set: (key: string): void => sessionStorage.setItem(KEY, key),
  clear: (): void => sessionStorage.removeItem(KEY),
};

export function adminApi<T = Json>(path: string, options: Omit<ApiOptions, 'bearer'> = {}): Promise<ApiAnswer<T>> {
  return api<T>(path, { ...options, bearer: adminKey.get() });
}

export interface AccountRow {
  account: string;
  plan: string;
  balance: number;
  available: number;
  held: number;
  updated_at: string;
}

export interface EntryRow {
  id: number;
  kind: string;
  amount: number;
  balance_after: number;
  feature: string | null;
  reason: string | null;
  actor: string | null;
  source: string | null;
  at: string;
}

export interface AccountDetail {
  account: string;
  exists: boolean;
  balance: number;
  available: number;
  held: number;
  allocation: number;
  purchased: number;
  package: string;
  usedThisMonth: number;
  monthlyAllocation: number;
  billing_cycle_start: string;
  next_token_reset: string | null;
  features_disabled: boolean;
  holds: { hold_id: number; amount: number; feature: string | null; created_at: string; expires_at: string }[];
}
