import type { AutoTopupJson, PackageJson } from '../../src/sdk/payment-types.ts';
import type { ApiAnswer, ApiOptions } from './api.ts';

/** `auto_topup` in the answers of `GET` and `PUT /api/payment/auto-topup`: the SDK's wire type, one definition. */
export type { AutoTopupJson };

/** A card saved for automatic top-ups: its network and last four digits, never the card itself. */
export type SavedCardJson = NonNullable<AutoTopupJson['payment_method']>;

/** What `PUT /api/payment/auto-topup` sets (the account, where one is named, is the client's). */
export interface AutoTopupChange {
  enabled: boolean;
  /** Null: left empty in the form; the service refuses it, naming the field. */
  threshold: number | null;
  package: string;
  monthly_limit: number | null;
}

/** A package as `GET /api/payment/packages` lists it: the SDK's wire type. */
export type SalePackageJson = PackageJson;

/** `api` for a signed-in user (the session cookie), `adminApi` for the console (its admin key). */
export type ApiCall = <T>(path: string, options?: Omit<ApiOptions, 'bearer'>) => Promise<ApiAnswer<T>>;

export type AutoTopupAnswer = ApiAnswer<{ auto_topup?: AutoTopupJson }>;

/** Reads and changes one account's automatic top-up, and lists the packages it may buy. */
export interface AutoTopupClient {
  read(): Promise<AutoTopupAnswer>;
  save(change: AutoTopupChange): Promise<AutoTopupAnswer>;
  packages(): Promise<ApiAnswer<{ packages?: SalePackageJson[] }>>;
}

const PATH = '/api/payment/auto-topup';

/**
 * The client for one account. `account` null: a user session, which acts on its own account;
 * an account id: an app or admin key naming it (`?account=` to read, `account` in the body to change).
 *
 * @example autoTopupClient(adminApi, 'acct-1').read()
 */
export function autoTopupClient(call: ApiCall, account: string | null): AutoTopupClient {
  return {
    read: () => call(account === null ? PATH : `${PATH}?${new URLSearchParams({ account })}`),
    save: (change) => call(PATH, { method: 'PUT', body: account === null ? change : { account, ...change } }),
    packages: () => call('/api/payment/packages'),
  };
}

/**
 * The console's client for one account, on the operator API (`/api/admin/accounts/:id/auto-topup`,
 * `/api/admin/packages`): it works with an admin key and with the demo operator's session alike.
 *
 * @example adminAutoTopupClient(adminApi, 'acct-1').read()
 */
export function adminAutoTopupClient(call: ApiCall, account: string): AutoTopupClient {
  const path = `/api/admin/accounts/${encodeURIComponent(account)}/auto-topup`;
  return {
    read: () => call(path),
    save: (change) => call(path, { method: 'PUT', body: change }),
    packages: () => call('/api/admin/packages'),
  };
}
