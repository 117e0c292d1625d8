import './style.css';
import { type AccountDetail, type AccountRow, adminApi, adminKey, type EntryRow } from './admin-api.ts';
import { lineChart } from './charts.ts';
import { byId, el, replace, when } from './dom.ts';

/** The operator console: accounts, an account's figures and ledger, adjustments, plans, reconcile, charts. */
const app = byId('app');
const th = (text: string, num = false) => el('th', { scope: 'col', class: num ? 'num' : undefined }, text);
const td = (text: string | number, num = false) => el('td', { class: num ? 'num' : undefined }, text);

function shell(...children: (HTMLElement | null)[]): void {
  replace(
    app,
    el(
      'header',
      { class: 'top' },
      el('a', { class: 'brand', href: '#/' }, 'tokenmeter admin'),
      adminKey.get()
        ? el(
            'button',
            {
              type: 'button',
              class: 'secondary',
              onclick: () => {
                adminKey.clear();
                route();
              },
            },
            'Sign out',
          )
        : null,
    ),
    el('main', {}, ...children),
  );
}

function signIn(message = ''): void {
  const input = el('input', { type: 'password', id: 'admin-key', required: true, autocomplete: 'off' });
  const error = el('p', { class: 'error', role: 'alert' }, message);
  const form = el(
    'form',
    { class: 'row' },
    el('label', {}, 'Admin key', input),
    el('button', { type: 'submit' }, 'Sign in'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    adminKey.set(input.value.trim());
    const r = await adminApi('/api/admin/accounts?limit=1');
    if (r.ok) route();
    else {
      adminKey.clear();
      replace(
        error,
        r.status === 401 || r.status === 403 ? 'That key is not an admin key.' : (r.body.error ?? 'failed'),
      );
    }
  });
  shell(el('h1', {}, 'Admin sign-in'), el('section', { class: 'card' }, form, error));
  input.focus();
}

async function accounts(query: string, cursors: (string | null)[]): Promise<void> {
  const cursor = cursors[cursors.length - 1] ?? null;
  const params = new URLSearchParams({ limit: '20' });
  if (query) params.set('query', query);
  if (cursor) params.set('cursor', cursor);
  const search = el('input', { type: 'search', id: 'account-search', value: query });
  const form = el('form', { class: 'row', role: 'search' }, el('label', {}, 'Search accounts', search));
  form.append(el('button', { type: 'submit' }, 'Search'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void accounts(search.value.trim(), [null]);
  });
  const list = el('div', { class: 'table-wrap' }, el('p', { class: 'muted' }, 'Loading…'));
  const pager = el('div', { class: 'row' });
  const reconcileOut = el('p', { id: 'reconcile-status', role: 'status' }, 'Not checked yet.');
  const usage = el('div', {
    id: 'usage-chart',
    class: 'chart',
    role: 'img',
    'aria-label': 'Tokens used per feature per day',
  });
  shell(
    el('h1', {}, 'Accounts'),
    el('section', { class: 'card', 'aria-label': 'Accounts' }, form, list, pager),
    el(
      'section',
      { class: 'card', 'aria-labelledby': 'reconcile-title' },
      el('h2', { id: 'reconcile-title' }, 'Reconcile'),
      el('button', { type: 'button', class: 'secondary', onclick: () => void reconcile(reconcileOut) }, 'Check ledger'),
      reconcileOut,
    ),
    el(
      'section',
      { class: 'card', 'aria-labelledby': 'usage-title' },
      el('h2', { id: 'usage-title' }, 'Tokens used per feature per day'),
      usage,
    ),
  );
  const r = await adminApi<{ accounts?: AccountRow[]; next_cursor?: string | null }>(`/api/admin/accounts?${params}`);
  if (r.status === 401) return signIn('Your admin key is no longer valid.');
  if (!r.ok || !r.body.accounts) {
    replace(list, el('p', { class: 'error' }, r.body.error ?? 'Accounts could not be loaded.'));
    return;
  }
  replace(
    list,
    r.body.accounts.length === 0
      ? el('p', { class: 'muted' }, 'No accounts match.')
      : el(
          'table',
          {},
          el(
            'thead',
            {},
            el('tr', {}, th('Account'), th('Plan'), th('Balance', true), th('Available', true), th('Updated')),
          ),
          el(
            'tbody',
            {},
            ...r.body.accounts.map((a) =>
              el(
                'tr',
                {},
                el('td', {}, el('a', { href: `#/account/${encodeURIComponent(a.account)}` }, a.account)),
                td(a.plan),
                td(a.balance, true),
                td(a.available, true),
                td(when(a.updated_at)),
              ),
            ),
          ),
        ),
  );
  if (cursors.length > 1)
    pager.append(
      el(
        'button',
        { type: 'button', class: 'secondary', onclick: () => void accounts(query, cursors.slice(0, -1)) },
        'Previous',
      ),
    );
  const next = r.body.next_cursor;
  if (next)
    pager.append(
      el(
        'button',
        { type: 'button', class: 'secondary', onclick: () => void accounts(query, [...cursors, next]) },
        'Next',
      ),
    );
  void usageChart(usage);
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
      ? `${r.body.accounts_checked ?? 0} accounts checked: every balance matches its ledger.`
      : `${drift.length} drift(s): ${drift.map((d) => `${d.account} (${d.check})`).join(', ')}`,
  );
}

async function usageChart(target: HTMLElement): Promise<void> {
  const r = await adminApi<{ usage?: { day: string; feature: string; tokens: number }[] }>('/api/admin/stats');
  const usage = r.body.usage ?? [];
  if (usage.length === 0) return replace(target, el('p', { class: 'muted' }, 'No feature use in this period.'));
  const days = [...new Set(usage.map((u) => u.day))].sort();
  const features = [...new Set(usage.map((u) => u.feature))].sort();
  const times = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
  lineChart(
    target,
    'Tokens per day',
    times,
    features.map((f) => ({
      label: f,
      values: days.map((d) => usage.find((u) => u.day === d && u.feature === f)?.tokens ?? 0),
    })),
    false,
    86_400,
  );
}

async function account(id: string): Promise<void> {
  const r = await adminApi<AccountDetail>(`/api/admin/accounts/${encodeURIComponent(id)}`);
  if (r.status === 401) return signIn('Your admin key is no longer valid.');
  if (!r.ok) {
    shell(el('h1', {}, id), el('p', { class: 'error' }, r.body.error ?? 'The account could not be loaded.'));
    return;
  }
  const a = r.body;
  const fig = (label: string, value: string | number, testid?: string) =>
    el('div', {}, el('dt', {}, label), el('dd', { 'data-testid': testid }, value));
  const ledger = el('div', { class: 'table-wrap' }, 'Loading…');
  const chart = el('div', { id: 'balance-chart', class: 'chart', role: 'img', 'aria-label': 'Balance over time' });
  shell(
    el('p', {}, el('a', { href: '#/' }, '← Accounts')),
    el('h1', {}, `Account ${a.account}`),
    a.exists ? null : el('p', { class: 'notice' }, 'This account has no ledger yet: it shows the default plan.'),
    el(
      'section',
      { class: 'card', 'aria-label': 'Figures' },
      el(
        'dl',
        { class: 'figures' },
        fig('Balance', a.balance, 'admin-balance'),
        fig('Available', a.available),
        fig('Held', a.held),
        fig('Allocation bucket', a.allocation),
        fig('Purchased bucket', a.purchased),
        fig('Plan', a.package, 'admin-plan'),
        fig('Used this cycle', a.usedThisMonth),
        fig('Cycle start', when(a.billing_cycle_start)),
        fig('Next reset', when(a.next_token_reset)),
      ),
      a.holds.length > 0
        ? el(
            'table',
            { 'aria-label': 'Active holds' },
            el('thead', {}, el('tr', {}, th('Hold'), th('Amount', true), th('Feature'), th('Expires'))),
            el(
              'tbody',
              {},
              ...a.holds.map((h) =>
                el('tr', {}, td(h.hold_id), td(h.amount, true), td(h.feature ?? '—'), td(when(h.expires_at))),
              ),
            ),
          )
        : el('p', { class: 'muted' }, 'No active holds.'),
    ),
    adjustForm(a),
    planForm(a),
    el(
      'section',
      { class: 'card', 'aria-labelledby': 'chart-title' },
      el('h2', { id: 'chart-title' }, 'Balance over time'),
      chart,
    ),
    el(
      'section',
      { class: 'card', 'aria-labelledby': 'ledger-title' },
      el('h2', { id: 'ledger-title' }, 'Ledger'),
      ledger,
    ),
  );
  const l = await adminApi<{ entries?: EntryRow[] }>(`/api/admin/ledger?account=${encodeURIComponent(id)}&limit=50`);
  replace(
    ledger,
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          th('Time'),
          th('Kind'),
          th('Amount', true),
          th('Balance after', true),
          th('Feature'),
          th('Reason'),
          th('Actor'),
        ),
      ),
      el(
        'tbody',
        {},
        ...(l.body.entries ?? []).map((e) =>
          el(
            'tr',
            {},
            td(when(e.at)),
            td(e.kind),
            td(e.amount > 0 ? `+${e.amount}` : e.amount, true),
            td(e.balance_after, true),
            td(e.feature ?? '—'),
            td(e.reason ?? '—'),
            td(e.actor ?? '—'),
          ),
        ),
      ),
    ),
  );
  const s = await adminApi<{ points?: { at: string; balance: number }[] }>(
    `/api/admin/accounts/${encodeURIComponent(id)}/balance-series`,
  );
  const points = s.body.points ?? [];
  if (points.length === 0) replace(chart, el('p', { class: 'muted' }, 'No entries yet.'));
  else
    lineChart(
      chart,
      'Balance',
      points.map((p) => Date.parse(p.at) / 1000),
      [{ label: 'balance', values: points.map((p) => p.balance) }],
      true,
    );
}

function adjustForm(a: AccountDetail): HTMLElement {
  const mode = el(
    'select',
    { id: 'adjust-mode' },
    el('option', { value: 'amount' }, 'Change by amount'),
    el('option', { value: 'balance' }, 'Set balance to'),
  );
  const value = el('input', { type: 'number', id: 'adjust-value', required: true, step: 1 });
  const reason = el('input', { type: 'text', id: 'adjust-reason', required: true, maxlength: 500 });
  const confirm = el('div', {
    class: 'confirm',
    id: 'adjust-confirm',
    hidden: true,
    role: 'group',
    'aria-label': 'Confirm adjustment',
  });
  const out = el('p', { role: 'status', id: 'adjust-status' });
  const form = el(
    'form',
    { class: 'row' },
    el('label', {}, 'Kind', mode),
    el('label', {}, 'Tokens', value),
    el('label', {}, 'Reason (required)', reason),
    el('button', { type: 'submit' }, 'Review'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const n = Number(value.value);
    if (!Number.isInteger(n) || reason.value.trim() === '') {
      replace(out, el('span', { class: 'error' }, 'Give a whole number of tokens and a reason.'));
      return;
    }
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
              const r = await adminApi(`/api/admin/accounts/${encodeURIComponent(a.account)}/adjust`, {
                method: 'POST',
                body,
              });
              if (r.ok) return void account(a.account);
              confirm.hidden = true;
              replace(
                out,
                el(
                  'span',
                  { class: 'error' },
                  r.body.code === 'balance_changed'
                    ? 'The balance changed meanwhile; nothing was written. Reload the account and review again.'
                    : (r.body.error ?? 'The adjustment failed.'),
                ),
              );
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
    { class: 'card', 'aria-labelledby': 'adjust-title' },
    el('h2', { id: 'adjust-title' }, 'Adjust balance'),
    form,
    confirm,
    out,
  );
}

function planForm(a: AccountDetail): HTMLElement {
  const plan = el('input', { type: 'text', id: 'plan-id', required: true, value: a.package, list: 'plan-ids' });
  const reason = el('input', { type: 'text', id: 'plan-reason', required: true, maxlength: 500 });
  const out = el('p', { role: 'status' });
  const form = el(
    'form',
    { class: 'row' },
    el('label', {}, 'Plan', plan),
    el('datalist', { id: 'plan-ids' }, ...['free', 'starter', 'pro'].map((p) => el('option', { value: p }))),
    el('label', {}, 'Reason (required)', reason),
    el('button', { type: 'submit' }, 'Change plan'),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const r = await adminApi(`/api/admin/accounts/${encodeURIComponent(a.account)}/plan`, {
      method: 'PUT',
      body: { plan: plan.value.trim(), reason: reason.value.trim() },
    });
    if (r.ok) void account(a.account);
    else replace(out, el('span', { class: 'error' }, r.body.error ?? 'The plan change failed.'));
  });
  return el(
    'section',
    { class: 'card', 'aria-labelledby': 'plan-title' },
    el('h2', { id: 'plan-title' }, 'Plan'),
    form,
    out,
  );
}

function route(): void {
  if (!adminKey.get()) {
    signIn();
    return;
  }
  const m = /^#\/account\/(.+)$/.exec(window.location.hash);
  if (m?.[1]) void account(decodeURIComponent(m[1]));
  else void accounts('', [null]);
}

window.addEventListener('hashchange', route);
route();
