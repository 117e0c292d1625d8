import { type AccountDetail, adminApi } from '../admin-api.ts';
import { el, replace } from '../dom.ts';
import { card } from './shell.ts';

/**
 * The account's low-balance threshold: below it (while still above zero) the account gets a
 * `balance.low` event. Empty goes back to the plan's. The service is the one judge of a value
 * (the form does not validate), so what it refuses is shown with its own message.
 */
export function alertsForm(account: string, alerts: AccountDetail['alerts']): HTMLElement {
  const threshold = el('input', {
    type: 'number',
    id: 'alert-threshold',
    step: 1,
    inputmode: 'numeric',
    'aria-describedby': 'alerts-status',
    placeholder: `plan's: ${alerts.effective_low_balance_threshold}`,
    ...(alerts.low_balance_threshold === null ? {} : { value: String(alerts.low_balance_threshold) }),
  });
  const out = el('p', { role: 'status', id: 'alerts-status' });
  const form = el(
    'form',
    { class: 'row', novalidate: true, 'aria-label': 'Low-balance alert' },
    el('label', {}, "Low-balance threshold (tokens; empty: the plan's)", threshold),
    el('button', { type: 'submit' }, 'Save'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    threshold.removeAttribute('aria-invalid');
    // Typed text that is not a number reads as "" from a number field: not a wish for the plan's.
    if (threshold.validity.badInput) {
      threshold.setAttribute('aria-invalid', 'true');
      replace(out, el('span', { class: 'error' }, "Give a whole number of tokens, or leave it empty for the plan's."));
      return;
    }
    const value = threshold.value.trim() === '' ? null : Number(threshold.value);
    const r = await adminApi<{ alerts?: { low_balance_threshold: number | null } }>(
      `/api/admin/accounts/${encodeURIComponent(account)}/alerts`,
      { method: 'PUT', body: { low_balance_threshold: value } },
    );
    const saved = r.body.alerts;
    if (!r.ok || !saved) {
      threshold.setAttribute('aria-invalid', 'true');
      replace(out, el('span', { class: 'error' }, r.body.error ?? `The threshold was not saved (status ${r.status}).`));
      return;
    }
    const t = saved.low_balance_threshold;
    replace(
      out,
      el(
        'span',
        { class: 'ok' },
        t === null
          ? "Saved: the plan's low-balance threshold applies."
          : `Saved: balance.low fires when available falls below ${t.toLocaleString('en-US')} tokens.`,
      ),
    );
  });
  return card(
    'Alerts',
    'alerts',
    el(
      'p',
      { class: 'muted' },
      "balance.low is sent when the available balance falls below the threshold while staying above zero. The plan's threshold is its configured one, else 10% of its monthly allocation.",
    ),
    form,
    out,
  );
}
