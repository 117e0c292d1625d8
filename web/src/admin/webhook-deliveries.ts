import { adminApi, type WebhookDeliveryJson, type WebhookJson } from '../admin-api.ts';
import { el, replace, when } from '../dom.ts';
import { card, load, shell, table, td, th } from './shell.ts';

/** When a delivery arrived, or when it is tried next; a failed one is past its retry window. */
function timing(d: WebhookDeliveryJson): string {
  if (d.status === 'delivered') return `delivered ${when(d.delivered_at)}`;
  if (d.status === 'failed') return 'no more attempts';
  return d.next_attempt_at ? `next attempt ${when(d.next_attempt_at)}` : '—';
}

/**
 * One endpoint's recent deliveries, newest first, each with a Retry button: it sends the
 * delivery again now, whatever its status (a receiver that lost a delivered event asks for it
 * too). Refresh reads the list again, as the dispatcher works in the background.
 */
export async function webhookDeliveriesPage(id: string): Promise<void> {
  const endpoints = await load<{ webhooks?: WebhookJson[] }>('/api/admin/webhooks');
  if (!endpoints) return;
  const w = endpoints.webhooks?.find((x) => x.id === id);
  const back = el('p', {}, el('a', { href: '#/webhooks' }, '← Webhooks'));
  if (!w) {
    const why = endpoints.error ?? `There is no webhook ${id}: it may have been removed.`;
    shell('Webhook deliveries', back, el('p', { class: 'error' }, why));
    return;
  }
  const status = el('p', { role: 'status', id: 'deliveries-status' });
  const list = el('div', { id: 'deliveries-list' }, el('p', { class: 'muted' }, 'Loading…'));
  const path = `/api/admin/webhooks/${encodeURIComponent(id)}/deliveries`;
  const retry = async (d: WebhookDeliveryJson) => {
    const r = await adminApi(`${path}/${d.id}/retry`, { method: 'POST' });
    replace(
      status,
      r.ok
        ? el('span', { class: 'ok' }, `Delivery #${d.id} is due again now.`)
        : el('span', { class: 'error' }, r.body.error ?? `The retry failed (status ${r.status}).`),
    );
    await show();
  };
  const show = async () => {
    const body = await load<{ deliveries?: WebhookDeliveryJson[] }>(`${path}?limit=50`);
    if (!body) return;
    if (!body.deliveries)
      return replace(list, el('p', { class: 'error' }, body.error ?? 'The deliveries could not be loaded.'));
    replace(
      list,
      table(
        'Deliveries',
        [
          th('Delivery'),
          th('Type'),
          th('Event'),
          th('Status'),
          th('Attempts', true),
          th('Last response', true),
          th('When'),
          th('Error'),
          th('Action'),
        ],
        body.deliveries.map((d) =>
          el(
            'tr',
            { 'data-delivery': d.id },
            td(`#${d.id}`),
            td(d.type),
            el('td', {}, el('code', {}, d.event_id)),
            td(d.status),
            td(d.attempts, true),
            td(d.response_status ?? '—', true),
            td(timing(d)),
            td(d.error ?? '—'),
            el(
              'td',
              {},
              el(
                'button',
                {
                  type: 'button',
                  class: 'secondary',
                  'aria-label': `Retry delivery #${d.id}`,
                  onclick: () => void retry(d),
                },
                'Retry',
              ),
            ),
          ),
        ),
        'No deliveries yet: one appears here when an event of a type this endpoint takes happens.',
      ),
    );
  };
  shell(
    'Webhook deliveries',
    back,
    card(
      'Endpoint',
      'endpoint',
      el(
        'dl',
        { class: 'figures' },
        el('div', { class: 'span-all' }, el('dt', {}, 'URL'), el('dd', { id: 'webhook-url-shown' }, w.url)),
        el(
          'div',
          { class: 'span-all' },
          el('dt', {}, 'Event types'),
          el('dd', {}, w.events === null ? 'all' : w.events.join(', ')),
        ),
        el('div', {}, el('dt', {}, 'Description'), el('dd', {}, w.description ?? '—')),
      ),
    ),
    card(
      'Recent deliveries',
      'deliveries',
      el(
        'div',
        { class: 'row' },
        el('button', { type: 'button', class: 'secondary', onclick: () => void show() }, 'Refresh'),
      ),
      status,
      list,
    ),
  );
  await show();
}
