import { adminApi, type WebhookJson } from '../admin-api.ts';
import { el, replace, when } from '../dom.ts';
import { card, load, shell, table, td, th } from './shell.ts';
import { webhookForm } from './webhook-form.ts';
import { secretNotice } from './webhook-secret.ts';

const deliveriesHref = (w: WebhookJson) => `#/webhooks/${encodeURIComponent(w.id)}`;

/**
 * The webhook endpoints: the list (each links to its deliveries), a form to add one, and per
 * endpoint a secret rotation and a removal, each confirmed first because neither can be undone.
 * A new secret is shown once, at the top, until dismissed.
 */
export async function webhooksPage(): Promise<void> {
  const secretBox = el('div', {});
  const status = el('p', { role: 'status', id: 'webhooks-status' });
  const list = el('div', { id: 'webhooks-list' }, el('p', { class: 'muted' }, 'Loading…'));
  const confirmBox = el('div', { class: 'confirm', id: 'webhook-confirm', hidden: true });
  const showSecret = (title: string, secret: string) => {
    const box = secretNotice(title, secret, () => replace(secretBox));
    replace(secretBox, box);
    box.focus();
  };
  const ask = (text: string, label: string, action: () => Promise<void>) => {
    const go = el('button', { type: 'button', id: 'webhook-confirm-button' }, label);
    go.addEventListener('click', async () => {
      go.disabled = true;
      await action();
      confirmBox.hidden = true;
    });
    const cancel = () => {
      confirmBox.hidden = true;
    };
    replace(
      confirmBox,
      el('p', { id: 'webhook-confirm-text' }, text),
      el('div', { class: 'row' }, go, el('button', { type: 'button', class: 'secondary', onclick: cancel }, 'Cancel')),
    );
    confirmBox.hidden = false;
    go.focus();
  };
  const fail = (what: string, r: { status: number; body: { error?: string } }) =>
    replace(status, el('span', { class: 'error' }, r.body.error ?? `${what} failed (status ${r.status}).`));
  const remove = (w: WebhookJson) =>
    ask(
      `Remove the endpoint ${w.url}? It gets no more events, and its pending deliveries fail.`,
      'Remove endpoint',
      async () => {
        const r = await adminApi(`/api/admin/webhooks/${encodeURIComponent(w.id)}`, { method: 'DELETE' });
        if (!r.ok) return fail('The removal', r);
        replace(status, el('span', { class: 'ok' }, `Removed ${w.url}.`));
        await show();
      },
    );
  const rotate = (w: WebhookJson) =>
    ask(
      `Rotate the secret of ${w.url}? The current secret stops working at once: the receiver must switch to the new one.`,
      'Rotate secret',
      async () => {
        const r = await adminApi<{ secret?: string }>(`/api/admin/webhooks/${encodeURIComponent(w.id)}/rotate-secret`, {
          method: 'POST',
        });
        if (!r.ok || !r.body.secret) return fail('The rotation', r);
        replace(status);
        showSecret(`New secret for ${w.url}`, r.body.secret);
      },
    );
  const button = (label: string, name: string, onclick: () => void) =>
    el('button', { type: 'button', class: 'secondary', 'aria-label': name, onclick }, label);
  const show = async () => {
    const body = await load<{ webhooks?: WebhookJson[] }>('/api/admin/webhooks');
    if (!body) return;
    if (!body.webhooks)
      return replace(list, el('p', { class: 'error' }, body.error ?? 'The endpoints could not be loaded.'));
    replace(
      list,
      table(
        'Webhook endpoints',
        [th('URL'), th('Event types'), th('Description'), th('Created'), th('Actions')],
        body.webhooks.map((w) =>
          el(
            'tr',
            { 'data-webhook': w.id },
            el('td', {}, el('a', { href: deliveriesHref(w), title: 'Recent deliveries' }, w.url)),
            td(w.events === null ? 'all' : w.events.join(', ')),
            td(w.description ?? '—'),
            td(when(w.created_at)),
            el(
              'td',
              {},
              el(
                'div',
                { class: 'row' },
                button('Rotate secret', `Rotate secret of ${w.url}`, () => rotate(w)),
                button('Remove', `Remove ${w.url}`, () => remove(w)),
              ),
            ),
          ),
        ),
        'No endpoints yet: events are kept in the feed (GET /api/events) and sent nowhere.',
      ),
    );
  };
  shell(
    'Webhooks',
    el(
      'p',
      { class: 'muted' },
      'Each event is sent to every endpoint that takes its type, signed per Standard Webhooks with the ',
      "endpoint's secret; a failed delivery is retried with backoff. Open an endpoint to see its deliveries.",
    ),
    secretBox,
    card('Endpoints', 'endpoints', status, list, confirmBox),
    card(
      'Add an endpoint',
      'add-webhook',
      webhookForm((created) => {
        showSecret(`Secret for ${created.url}`, created.secret);
        replace(status, el('span', { class: 'ok' }, `Added ${created.url}.`));
        void show();
      }),
    ),
  );
  await show();
}
