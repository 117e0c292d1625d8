import type { GrantCategory } from '../../src/core/grant.ts';
import type { PoolStandingJson } from './pool-json.ts';

/** JSON over fetch, the service's way: every answer has `success`; failures carry `code` and `error`. */
export type Json = Record<string, unknown>;

export interface ApiAnswer<T = Json> {
  status: number;
  ok: boolean;
  body: T & { success?: boolean; code?: string; error?: string };
}

export interface ApiOptions {
  method?: string;
  body?: unknown;
  /** A bearer credential; without one the same-origin session cookie is used. */
  bearer?: string | null;
  base?: string;
}

export async function api<T = Json>(path: string, options: ApiOptions = {}): Promise<ApiAnswer<T>> {
  const headers: Record<string, string> = {};
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.bearer) headers.authorization = `Bearer ${options.bearer}`;
  const res = await fetch(`${options.base ?? ''}${path}`, {
    method: options.method ?? 'GET',
    headers,
    credentials: options.bearer ? 'omit' : 'same-origin',
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  let body: ApiAnswer<T>['body'];
  try {
    body = (await res.json()) as ApiAnswer<T>['body'];
  } catch {
    body = {
      success: false,
      code: 'bad_answer',
      error: `The server answered ${res.status} without JSON`,
    } as ApiAnswer<T>['body'];
  }
  return { status: res.status, ok: res.ok, body };
}

/** One active grant as the balance lists it, in the order tokens are spent. */
export interface GrantSummaryJson {
  id: number;
  category: GrantCategory;
  remaining: number;
  priority: number;
  /** Null: never (an included grant whose cycle a subscription drives has no known end). */
  expires_at: string | null;
}

/** The fields of `GET /api/tokens/balance` the pages use (the seed's names plus tokenmeter's). */
export interface BalanceJson {
  account: string;
  /** A pool member's standing in its pool; null for an account in none. */
  pool: PoolStandingJson | null;
  balance: number;
  available: number;
  held: number;
  usedThisMonth: number;
  package: string;
  features_disabled: boolean;
  features: Record<string, { name: string; cost: number; allowed: boolean }>;
  allocation: number;
  purchased: number;
  promotional: number;
  /** Taken beyond the grants (refunds, disputes, corrections); a purchase pays it first. */
  debt: number;
  grants: GrantSummaryJson[];
  /** The soonest expiry of tokens and how many, or null when nothing expires. */
  expiring_next: { at: string; tokens: number } | null;
}
