import type { DisputeRowJson, EventRowJson, PaymentRowJson } from '../admin-api.ts';
import { el, money, replace, when } from '../dom.ts';
import { card, load, plural, shell, table, td, th } from './shell.ts';

interface PaymentsAnswer {
  needs_decision?: {
    unmatched_events: EventRowJson[];
    pending_events: EventRowJson[];
    open_disputes: DisputeRowJson[];
  };
  payments?: PaymentRowJson[];
  refunds?: PaymentRowJson[];
  disputes?: DisputeRowJson[];
}

const accountLink = (account: string | null) =>
  account ? el('td', {}, el('a', { href: `#/account/${encodeURIComponent(account)}` }, account)) : td('—');

export function paymentRows(payments: PaymentRowJson[], withAccount: boolean): HTMLTableRowElement[] {
  return payments.map((p) =>
    el(
      'tr',
      {},
      td(when(p.created_at)),
      withAccount ? accountLink(p.account) : null,
      td(p.package),
      td(p.tokens, true),
      td(money(p.amount, p.currency), true),
      td(p.amount_refunded > 0 ? money(p.amount_refunded, p.currency) : '—', true),
      td(p.status),
      el('td', {}, el('code', {}, p.checkout_id)),
    ),
  );
}

export function paymentHead(withAccount: boolean): HTMLTableCellElement[] {
  return [
    th('Date'),
    ...(withAccount ? [th('Account')] : []),
    th('Package'),
    th('Tokens', true),
    th('Amount', true),
    th('Refunded', true),
    th('Status'),
    th('Checkout'),
  ];
}

function disputeTable(label: string, disputes: DisputeRowJson[], empty: string): HTMLElement {
  return table(
    label,
    [th('Updated'), th('Account'), th('Dispute'), th('Status'), th('Amount', true)],
    disputes.map((d) =>
      el(
        'tr',
        {},
        td(when(d.updated_at)),
        accountLink(d.account),
        el('td', {}, el('code', {}, d.dispute_id)),
        td(d.status),
        td(d.currency ? money(d.amount, d.currency) : String(d.amount), true),
      ),
    ),
    empty,
  );
}

/** Money that needs a decision first, then recent payments, refunds and disputes. */
export async function paymentsPage(): Promise<void> {
  const decide = el('div', {}, el('p', { class: 'muted' }, 'Loading…'));
  const recent = el('div', {}, el('p', { class: 'muted' }, 'Loading…'));
  const refunds = el('div', {});
  const disputes = el('div', {});
  shell(
    'Payments',
    card('Needs a decision', 'decide', decide),
    card('Recent payments', 'recent', recent),
    card('Refunds', 'refunds', refunds),
    card('Disputes', 'disputes', disputes),
  );
  const body = await load<PaymentsAnswer>('/api/admin/payments');
  if (!body) return;
  if (!body.needs_decision || !body.payments || !body.refunds || !body.disputes) {
    replace(decide, el('p', { class: 'error' }, body.error ?? 'Payments could not be loaded.'));
    replace(recent);
    return;
  }
  const n = body.needs_decision;
  const events = [...n.unmatched_events, ...n.pending_events];
  replace(
    decide,
    el(
      'p',
      { class: events.length + n.open_disputes.length > 0 ? 'error' : 'ok' },
      events.length + n.open_disputes.length === 0
        ? 'Nothing needs a decision: every provider event matched a payment and no dispute is open.'
        : `${plural(n.unmatched_events.length, 'unmatched event')}, ${plural(n.pending_events.length, 'pending event')}, ${plural(n.open_disputes.length, 'open dispute')}.`,
    ),
    events.length > 0
      ? table(
          'Provider events needing a decision',
          [th('Received'), th('Status'), th('Event'), th('Type'), th('Reason')],
          events.map((e) =>
            el(
              'tr',
              {},
              td(when(e.received_at)),
              td(e.status),
              el('td', {}, el('code', {}, `${e.provider}:${e.event_id}`)),
              td(e.type),
              td(
                e.status === 'pending' && e.waiting_for
                  ? `${e.reason ?? ''} (waits for ${e.waiting_for})`
                  : (e.reason ?? '—'),
              ),
            ),
          ),
          '',
        )
      : null,
    n.open_disputes.length > 0 ? disputeTable('Open disputes', n.open_disputes, '') : null,
  );
  replace(recent, table('Recent payments', paymentHead(true), paymentRows(body.payments, true), 'No payments yet.'));
  replace(refunds, table('Refunds', paymentHead(true), paymentRows(body.refunds, true), 'No refunds.'));
  replace(disputes, disputeTable('Disputes', body.disputes, 'No disputes.'));
}
