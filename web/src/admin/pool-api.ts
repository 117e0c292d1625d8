import { adminApi } from '../admin-api.ts';
import type { MembershipJson } from '../pool-json.ts';

const fmt = (n: number) => n.toLocaleString('en-US');
const path = (account: string) => `/api/admin/accounts/${encodeURIComponent(account)}`;

export function limitText(limit: number | null): string {
  return limit === null ? 'no limit' : `${fmt(limit)} per cycle`;
}

export function remainingText(remaining: number | null): string {
  return remaining === null ? 'no limit' : fmt(remaining);
}

/**
 * A limit typed in a form: empty is no limit, else a whole number of tokens from 0. Undefined
 * when it is neither (a number field reads typed text that is not a number as "").
 */
export function parseLimit(input: HTMLInputElement): number | null | undefined {
  if (input.validity.badInput) return undefined;
  const text = input.value.trim();
  if (text === '') return null;
  const n = Number(text);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Makes `member` a member of `pool`, or changes its limit there; the error in words when refused. */
export async function putMembership(
  member: string,
  pool: string,
  limit: number | null,
): Promise<{ membership: MembershipJson } | { error: string }> {
  const r = await adminApi<{ membership?: MembershipJson }>(`${path(member)}/pool`, {
    method: 'PUT',
    body: { pool, limit_per_cycle: limit },
  });
  const m = r.body.membership;
  if (r.ok && m) return { membership: m };
  return { error: r.body.error ?? `The membership was not saved (status ${r.status}).` };
}

/** Takes `member` out of its pool; the error in words when refused. */
export async function deleteMembership(member: string): Promise<{ pool: string } | { error: string }> {
  const r = await adminApi<{ membership?: { pool: string; member: string } }>(`${path(member)}/pool`, {
    method: 'DELETE',
  });
  const m = r.body.membership;
  if (r.ok && m) return { pool: m.pool };
  return { error: r.body.error ?? `The member was not removed (status ${r.status}).` };
}
