import {
  CALLER_GRANT_CATEGORIES,
  type CallerGrantCategory,
  DEFAULT_PRIORITY,
  MAX_PRIORITY,
  MIN_PRIORITY,
} from '../../../src/core/grant.ts';
import { adminApi, type GrantRowJson } from '../admin-api.ts';
import { el, replace, when } from '../dom.ts';

const CATEGORY_LABEL: Record<CallerGrantCategory, string> = {
  promotional: 'Promotional (bonus, compensation, trial)',
  paid: 'Paid (counts as purchased)',
};

/**
 * Gives the account promotional or paid tokens. The expiry is a day: the grant lasts to the end
 * of it in UTC, the zone the ledger filters use, so "31 Dec" means all of 31 Dec. `done` is
 * told what happened, to draw the page again with fresh figures.
 */
export function grantForm(account: string, done: (notice: string) => void): HTMLElement {
  const tokens = el('input', { type: 'number', id: 'grant-tokens', required: true, min: 1, step: 1 });
  const category = el(
    'select',
    { id: 'grant-category' },
    ...CALLER_GRANT_CATEGORIES.map((c) => el('option', { value: c }, CATEGORY_LABEL[c])),
  );
  const expires = el('input', { type: 'date', id: 'grant-expires' });
  const priority = el('input', {
    type: 'number',
    id: 'grant-priority',
    required: true,
    min: MIN_PRIORITY,
    max: MAX_PRIORITY,
    step: 1,
    value: DEFAULT_PRIORITY,
  });
  const reason = el('input', { type: 'text', id: 'grant-reason', required: true, maxlength: 500 });
  const out = el('p', { role: 'status', id: 'grant-status' });
  const form = el(
    'form',
    { class: 'row', 'aria-label': 'Grant tokens' },
    el('label', {}, 'Tokens', tokens),
    el('label', {}, 'Category', category),
    el('label', {}, 'Expires (end of day, UTC; empty: never)', expires),
    el('label', {}, `Priority (${MIN_PRIORITY}–${MAX_PRIORITY}, lower is spent first)`, priority),
    el('label', {}, 'Reason (required)', reason),
    el('button', { type: 'submit' }, 'Grant tokens'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const n = Number(tokens.value);
    const p = Number(priority.value);
    if (!Number.isSafeInteger(n) || n < 1 || reason.value.trim() === '') {
      replace(out, el('span', { class: 'error' }, 'Give a whole number of tokens (at least 1) and a reason.'));
      return;
    }
    if (!Number.isInteger(p) || p < MIN_PRIORITY || p > MAX_PRIORITY) {
      replace(out, el('span', { class: 'error' }, `Give a priority from ${MIN_PRIORITY} to ${MAX_PRIORITY}.`));
      return;
    }
    replace(out, 'Granting…');
    const r = await adminApi<{ grant?: GrantRowJson }>(`/api/admin/accounts/${encodeURIComponent(account)}/grants`, {
      method: 'POST',
      body: {
        tokens: n,
        category: category.value,
        priority: p,
        reason: reason.value.trim(),
        ...(expires.value ? { expires_at: `${expires.value}T23:59:59Z` } : {}),
      },
    });
    const g = r.body.grant;
    if (!r.ok || !g) {
      replace(out, el('span', { class: 'error' }, r.body.error ?? `The grant failed (status ${r.status}).`));
      return;
    }
    done(
      `Granted ${n.toLocaleString('en-US')} ${g.category} tokens as grant #${g.id}, ${
        g.expires_at ? `expiring ${when(g.expires_at)}` : 'never expiring'
      }.`,
    );
  });
  return el('div', {}, el('h3', {}, 'Grant tokens'), form, out);
}
