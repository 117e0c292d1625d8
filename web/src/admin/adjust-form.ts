import { type AccountDetail, adminApi } from '../admin-api.ts';
import { byId, el, replace } from '../dom.ts';

/** What the form held when the page was drawn again (after a 409), so nothing typed is lost. */
export interface AdjustDraft {
  mode: string;
  value: string;
  reason: string;
  notice: string;
}

/**
 * Adjust by an amount or to a balance, with a reason and a confirmation showing before and
 * after. It is sent with `expected_balance`; when the balance changed meanwhile (409) the
 * page is drawn again with fresh figures and the draft kept, and offers to review again.
 */
export function adjustForm(
  a: AccountDetail,
  draft: AdjustDraft | null,
  reload: (draft: AdjustDraft | null) => void,
): HTMLElement {
  const mode = el(
    'select',
    { id: 'adjust-mode' },
    el('option', { value: 'amount' }, 'Change by amount'),
    el('option', { value: 'balance' }, 'Set balance to'),
  );
  const value = el('input', { type: 'number', id: 'adjust-value', required: true, step: 1 });
  const reason = el('input', { type: 'text', id: 'adjust-reason', required: true, maxlength: 500 });
  if (draft) {
    mode.value = draft.mode;
    value.value = draft.value;
    reason.value = draft.reason;
  }
  const confirm = el('div', {
    class: 'confirm',
    id: 'adjust-confirm',
    hidden: true,
    role: 'group',
    'aria-label': 'Confirm adjustment',
  });
  const out = el('div', { role: 'status', id: 'adjust-status' });
  const form = el(
    'form',
    { class: 'row' },
    el('label', {}, 'Kind', mode),
    el('label', {}, 'Tokens', value),
    el('label', {}, 'Reason (required)', reason),
    el('button', { type: 'submit' }, 'Review'),
  );
  if (draft) {
    replace(
      out,
      el(
        'p',
        { class: 'error' },
        draft.notice,
        ' ',
        el('button', { type: 'button', class: 'secondary', onclick: () => form.requestSubmit() }, 'Review again'),
      ),
    );
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const n = Number(value.value);
    if (!Number.isInteger(n) || reason.value.trim() === '') {
      replace(out, el('p', { class: 'error' }, 'Give a whole number of tokens and a reason.'));
      return;
    }
    replace(out);
    const after = mode.value === 'amount' ? a.balance + n : n;
    confirm.hidden = false;
    replace(
      confirm,
      el('p', { id: 'adjust-preview' }, `Balance ${a.balance} → ${after}. Reason: “${reason.value.trim()}”.`),
      el(
        'div',
        { class: 'row' },
        el(
          'button',
          {
            type: 'button',
            id: 'adjust-confirm-button',
            onclick: async () => {
              const body = {
                ...(mode.value === 'amount' ? { amount: n } : { balance: n }),
                reason: reason.value.trim(),
                expected_balance: a.balance,
              };
              const r = await adminApi<{ balance?: number }>(
                `/api/admin/accounts/${encodeURIComponent(a.account)}/adjust`,
                { method: 'POST', body },
              );
              if (r.ok) return reload(null);
              confirm.hidden = true;
              if (r.body.code === 'balance_changed') {
                return reload({
                  mode: mode.value,
                  value: value.value,
                  reason: reason.value,
                  notice: `The balance changed meanwhile (it is now ${r.body.balance ?? 'different'}); nothing was written. The figures above are fresh.`,
                });
              }
              replace(out, el('p', { class: 'error' }, r.body.error ?? 'The adjustment failed.'));
            },
          },
          'Confirm adjustment',
        ),
        el(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: () => {
              confirm.hidden = true;
            },
          },
          'Cancel',
        ),
      ),
    );
    byId('adjust-confirm-button').focus();
  });
  return el(
    'section',
    { class: 'card', 'aria-labelledby': 'adjust-title', id: 'adjust' },
    el('h2', { id: 'adjust-title' }, 'Adjust balance'),
    form,
    confirm,
    out,
  );
}
