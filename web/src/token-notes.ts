import type { GrantCategory } from '../../src/core/grant.ts';
import type { BalanceJson } from './api.ts';

/** How a user calls each kind of token: the engine's categories are operator words. */
const WORD: Record<GrantCategory, string> = { promotional: 'bonus', included: 'plan', paid: 'purchased' };

/** "31 Dec", with the year when it is not this year: a user reads expiries as calendar days. */
export function shortDate(ms: number, now = Date.now()): string {
  const d = new Date(ms);
  const sameYear = d.getFullYear() === new Date(now).getFullYear();
  return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', ...(sameYear ? {} : { year: 'numeric' }) });
}

/**
 * "50 bonus tokens expire on 31 Dec", from the balance's `expiring_next`; null when nothing
 * expires. The category comes from the grants expiring at that instant; when they are of
 * different kinds no one word fits, so none is used.
 */
export function expiryNote(b: Pick<BalanceJson, 'expiring_next' | 'grants'>): string | null {
  const next = b.expiring_next;
  if (!next || next.tokens <= 0) return null;
  const at = Date.parse(next.at);
  if (!Number.isFinite(at)) return null;
  const kinds = new Set(
    b.grants.filter((g) => g.expires_at !== null && Date.parse(g.expires_at) === at).map((g) => g.category),
  );
  const [only] = kinds;
  const word = kinds.size === 1 && only !== undefined ? `${WORD[only]} ` : '';
  const n = next.tokens;
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? 'token expires' : 'tokens expire'} on ${shortDate(at)}`;
}

/** What a debt means for the user, or null without one. */
export function debtNote(b: Pick<BalanceJson, 'debt'>): string | null {
  const debt = b.debt;
  if (debt <= 0) return null;
  return `You owe ${debt.toLocaleString('en-US')} ${debt === 1 ? 'token' : 'tokens'} from a refund or correction; a purchase pays it first.`;
}

/**
 * For a pool's member, what it may still draw: the pool's tokens left and its own limit this
 * cycle ("Shared pool agency: 100 tokens left", "Your limit: 50 of 50 left this cycle"); null
 * outside a pool. The header's balance already counts the member's share of the pool.
 */
export function poolNote(b: BalanceJson): { pool: string; limit: string } | null {
  const p = b.pool;
  if (!p) return null;
  const fmt = (n: number) => n.toLocaleString('en-US');
  return {
    pool: `Shared pool ${p.id}: ${fmt(p.available)} ${p.available === 1 ? 'token' : 'tokens'} left`,
    limit:
      p.limit_per_cycle === null || p.remaining_this_cycle === null
        ? 'Your limit: no limit'
        : `Your limit: ${fmt(p.remaining_this_cycle)} of ${fmt(p.limit_per_cycle)} left this cycle`,
  };
}
