import type { FeedEventJson } from '../admin-api.ts';
import { money, when } from '../dom.ts';

const n = (x: number) => x.toLocaleString('en-US');

/**
 * One line on what an event says, for a list: "available 9 (threshold 10)". Every type is
 * spelled out, so a new type fails to compile here until it has its line.
 *
 * @example eventSummary({ type: 'plan.changed', data: { account: 'a', from: 'free', to: 'pro' }, ... }) // "free → pro"
 */
export function eventSummary(e: FeedEventJson): string {
  switch (e.type) {
    case 'balance.low':
      return `available ${n(e.data.available)} (threshold ${n(e.data.threshold)})`;
    case 'balance.depleted':
    case 'balance.recovered':
      return `available ${n(e.data.available)}`;
    case 'purchase.completed':
      return `${n(e.data.tokens)} tokens${e.data.package ? ` (${e.data.package})` : ''} for ${money(e.data.amount, e.data.currency)}, payment ${e.data.payment_id}`;
    case 'payment.refunded':
      return `payment ${e.data.payment_id}: ${n(e.data.tokens_taken_back)} tokens taken back`;
    case 'payment.disputed':
      return `payment ${e.data.payment_id}: dispute ${e.data.status}`;
    case 'plan.changed':
      return `${e.data.from} → ${e.data.to}`;
    case 'cycle.renewed':
      return `granted ${n(e.data.granted)}, rolled over ${n(e.data.rolled_over)}, expired ${n(e.data.expired)}`;
    case 'grant.expiring':
      return `grant #${e.data.grant_id}: ${n(e.data.tokens)} tokens expire ${when(e.data.expires_at)}`;
    case 'grant.expired':
      return `grant #${e.data.grant_id}: ${n(e.data.tokens)} tokens expired`;
    case 'topup.succeeded':
      return `+${n(e.data.tokens)} tokens for ${money(e.data.amount, e.data.currency)}, payment ${e.data.payment_id}`;
    case 'topup.failed':
      return `declined: ${e.data.reason} (attempt ${n(e.data.attempt)})`;
    case 'topup.suspended':
      return `suspended after ${n(e.data.failures)} failed charge${e.data.failures === 1 ? '' : 's'}: ${e.data.reason}`;
    case 'topup.limit_reached':
      return `monthly limit of ${n(e.data.monthly_limit)} reached (${e.data.month})`;
    case 'member.limit_reached':
      return `member ${e.data.member} used its limit of ${n(e.data.limit)} tokens this cycle`;
    default:
      return unknownType(e);
  }
}

/** A type newer than this page (a server ahead of its console): its data as it came. */
function unknownType(e: never): string {
  return JSON.stringify((e as { data?: unknown }).data ?? null);
}
