import { type AccountRow, adminApi, adminKey } from '../admin-api.ts';
import { el, replace, when } from '../dom.ts';
import { card, load, plural, shell, table, td, th } from './shell.ts';

/** What the list shows: kept while the console is open, so coming back from an account keeps it. */
const state = {
  query: '',
  sort: 'account',
  order: 'asc',
  featuresDisabled: false,
  negativeBalance: false,
  autoTopup: false,
  onPool: false,
  /** Cursors of the pages before this one (null: the first page). */
  cursors: [null] as (string | null)[],
};

const SORTS: [string, string][] = [
  ['account', 'Account id'],
  ['balance', 'Balance'],
  ['available', 'Available'],
  ['last_activity', 'Last activity'],
];

function params(extra: Record<string, string> = {}): URLSearchParams {
  const p = new URLSearchParams({ sort: state.sort, order: state.order, ...extra });
  if (state.query) p.set('query', state.query);
  if (state.featuresDisabled) p.set('features_disabled', 'true');
  if (state.negativeBalance) p.set('negative_balance', 'true');
  if (state.autoTopup) p.set('auto_topup', 'true');
  if (state.onPool) p.set('pool', 'true');
  return p;
}

export async function accountsPage(): Promise<void> {
  const search = el('input', { type: 'search', id: 'account-search', value: state.query });
  const sort = el('select', { id: 'account-sort' }, ...SORTS.map(([v, t]) => el('option', { value: v }, t)));
  sort.value = state.sort;
  const order = el(
    'select',
    { id: 'account-order' },
    el('option', { value: 'asc' }, 'Ascending'),
    el('option', { value: 'desc' }, 'Descending'),
  );
  order.value = state.order;
  const check = (id: string, label: string, on: boolean) =>
    el('label', { class: 'inline' }, el('input', { type: 'checkbox', id, ...(on ? { checked: true } : {}) }), label);
  const disabled = check('filter-disabled', 'Features disabled', state.featuresDisabled);
  const negative = check('filter-negative', 'Negative balance', state.negativeBalance);
  const topup = check('filter-auto-topup', 'With auto top-up', state.autoTopup);
  const onPool = check('filter-pool', 'On a pool', state.onPool);
  const form = el(
    'form',
    { class: 'row', role: 'search', 'aria-label': 'Find accounts' },
    el('label', {}, 'Search accounts', search),
    el('label', {}, 'Sort by', sort),
    el('label', {}, 'Order', order),
    el('fieldset', { class: 'filters' }, el('legend', {}, 'Show only'), disabled, negative, topup, onPool),
    el('button', { type: 'submit' }, 'Search'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    state.query = search.value.trim();
    state.sort = sort.value;
    state.order = order.value;
    state.featuresDisabled = (disabled.querySelector('input') as HTMLInputElement).checked;
    state.negativeBalance = (negative.querySelector('input') as HTMLInputElement).checked;
    state.autoTopup = (topup.querySelector('input') as HTMLInputElement).checked;
    state.onPool = (onPool.querySelector('input') as HTMLInputElement).checked;
    state.cursors = [null];
    void accountsPage();
  });
  const list = el('div', { id: 'accounts-list', 'aria-live': 'polite' }, el('p', { class: 'muted' }, 'Loading…'));
  const pager = el('div', { class: 'row' });
  const exportStatus = el('span', { role: 'status', class: 'muted' });
  const reconcileOut = el('p', { id: 'reconcile-status', role: 'status' }, 'Not checked yet.');
  shell(
    'Accounts',
    card(
      'Find accounts',
      'accounts',
      form,
      list,
      el(
        'div',
        { class: 'row spread' },
        pager,
        el(
          'div',
          { class: 'row' },
          el(
            'button',
            { type: 'button', class: 'secondary', onclick: () => void exportCsv(exportStatus) },
            'Export CSV',
          ),
          exportStatus,
        ),
      ),
    ),
    card(
      'Reconcile',
      'reconcile',
      el('p', { class: 'muted' }, 'Checks every balance, bucket and counter against the sum of its ledger entries.'),
      el('button', { type: 'button', class: 'secondary', onclick: () => void reconcile(reconcileOut) }, 'Check ledger'),
      reconcileOut,
    ),
  );
  const cursor = state.cursors[state.cursors.length - 1] ?? null;
  const body = await load<{ accounts?: AccountRow[]; next_cursor?: string | null }>(
    `/api/admin/accounts?${params({ limit: '20', ...(cursor ? { cursor } : {}) })}`,
  );
  if (!body) return;
  if (!body.accounts) {
    replace(list, el('p', { class: 'error' }, body.error ?? 'Accounts could not be loaded.'));
    return;
  }
  replace(
    list,
    table(
      'Accounts',
      [th('Account'), th('Plan'), th('Balance', true), th('Available', true), th('Held', true), th('Last activity')],
      body.accounts.map((a) =>
        el(
          'tr',
          {},
          el(
            'td',
            {},
            el('a', { href: `#/account/${encodeURIComponent(a.account)}` }, a.account),
            a.pool === null ? null : el('span', { class: 'tag' }, `pool ${a.pool}`),
          ),
          td(a.plan),
          td(a.balance, true),
          el(
            'td',
            { class: 'num' },
            String(a.available),
            a.features_disabled ? el('span', { class: 'tag' }, 'disabled') : null,
          ),
          td(a.held, true),
          td(when(a.updated_at)),
        ),
      ),
      state.cursors.length > 1 ||
        state.query ||
        state.featuresDisabled ||
        state.negativeBalance ||
        state.autoTopup ||
        state.onPool
        ? 'No accounts match.'
        : 'No accounts yet: an account appears with its first charge, credit or adjustment.',
    ),
  );
  if (state.cursors.length > 1)
    pager.append(
      el(
        'button',
        {
          type: 'button',
          class: 'secondary',
          onclick: () => {
            state.cursors = state.cursors.slice(0, -1);
            void accountsPage();
          },
        },
        'Previous page',
      ),
    );
  const next = body.next_cursor;
  if (next)
    pager.append(
      el(
        'button',
        {
          type: 'button',
          class: 'secondary',
          onclick: () => {
            state.cursors = [...state.cursors, next];
            void accountsPage();
          },
        },
        'Next page',
      ),
    );
}

/** Downloads the list as CSV: fetched with the console's credentials, saved from a same-origin blob. */
async function exportCsv(status: HTMLElement): Promise<void> {
  replace(status, 'Preparing…');
  const key = adminKey.get();
  const res = await fetch(`/api/admin/accounts.csv?${params()}`, {
    headers: key ? { authorization: `Bearer ${key}` } : {},
    credentials: key ? 'omit' : 'same-origin',
  });
  if (!res.ok) return replace(status, el('span', { class: 'error' }, `Export failed (status ${res.status}).`));
  const text = await res.text();
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
  const a = el('a', { href: url, download: 'tokenmeter-accounts.csv', hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
  replace(status, `Exported ${plural(Math.max(0, text.trimEnd().split('\r\n').length - 1), 'account')}.`);
}

async function reconcile(out: HTMLElement): Promise<void> {
  replace(out, 'Checking…');
  const r = await adminApi<{ accounts_checked?: number; drift?: { account: string; check: string }[] }>(
    '/api/admin/reconcile',
  );
  if (!r.ok || !r.body.drift) return replace(out, el('span', { class: 'error' }, r.body.error ?? 'failed'));
  const drift = r.body.drift;
  out.className = drift.length === 0 ? 'ok' : 'error';
  replace(
    out,
    drift.length === 0
      ? `${plural(r.body.accounts_checked ?? 0, 'account')} checked: every balance matches its ledger.`
      : `${plural(drift.length, 'drift')}: ${drift.map((d) => `${d.account} (${d.check})`).join(', ')}`,
  );
}
