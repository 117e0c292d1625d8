import { EVENT_TYPES } from '../../../src/core/event.ts';
import { adminApi, type CreatedWebhookJson } from '../admin-api.ts';
import { el, replace } from '../dom.ts';

/**
 * Adds a webhook endpoint: its URL, the event types it takes (none checked: every type, now
 * and later) and a description. The service judges the values (a private address, a bad
 * scheme): its 400 names the field, which is shown under the form and marked invalid.
 * `done` receives the new endpoint with its secret, which this answer alone carries.
 */
export function webhookForm(done: (created: CreatedWebhookJson) => void): HTMLElement {
  const url = el('input', {
    type: 'url',
    id: 'webhook-url',
    class: 'wide',
    required: true,
    maxlength: 2048,
    placeholder: 'https://app.example.com/hooks/tokenmeter',
    'aria-describedby': 'webhook-form-status',
  });
  const boxes = EVENT_TYPES.map((t) => el('input', { type: 'checkbox', name: 'webhook-event', value: t }));
  const types = el(
    'fieldset',
    { class: 'filters', id: 'webhook-events', 'aria-describedby': 'webhook-form-status' },
    el('legend', {}, 'Event types (none checked: all)'),
    ...boxes.map((b) => el('label', { class: 'inline' }, b, b.value)),
  );
  const description = el('input', {
    type: 'text',
    id: 'webhook-description',
    maxlength: 500,
    'aria-describedby': 'webhook-form-status',
  });
  // aria-invalid belongs on the inputs; an error about `events` is told in words only.
  const fields: Record<string, HTMLInputElement> = { url, description };
  const out = el('p', { role: 'status', id: 'webhook-form-status' });
  const form = el(
    'form',
    { class: 'row', 'aria-label': 'Add a webhook endpoint' },
    el('label', {}, 'Endpoint URL', url),
    types,
    el('label', {}, 'Description (optional)', description),
    el('button', { type: 'submit' }, 'Add endpoint'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    for (const f of Object.values(fields)) f.removeAttribute('aria-invalid');
    const events = boxes.filter((b) => b.checked).map((b) => b.value);
    replace(out, 'Adding…');
    const r = await adminApi<{ webhook?: CreatedWebhookJson }>('/api/admin/webhooks', {
      method: 'POST',
      body: {
        url: url.value.trim(),
        ...(events.length > 0 ? { events } : {}),
        ...(description.value.trim() ? { description: description.value.trim() } : {}),
      },
    });
    const created = r.body.webhook;
    if (!r.ok || !created) {
      const message = r.body.error ?? `The endpoint was not added (status ${r.status}).`;
      // The service's messages start with the field they are about ("url: address 10.0.0.1 is private").
      fields[message.split(':', 1)[0] ?? '']?.setAttribute('aria-invalid', 'true');
      replace(out, el('span', { class: 'error' }, message));
      return;
    }
    form.reset();
    replace(out);
    done(created);
  });
  return el('div', {}, form, out);
}
