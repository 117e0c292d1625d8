import './style.css';
import { api, type BalanceJson, type Json } from './api.ts';
import { BalanceHeader, type BalanceState, headerMarkup } from './balance-header.ts';
import { byId, el, replace } from './dom.ts';

/**
 * The seed's copilot, demo mode: a button per feature, enabled only when the feature is
 * affordable, features are not disabled, and the app's own prerequisite (CRM connected) holds.
 */
/** The demo's named accounts (src/http/demo-accounts.ts), each in the state its name says. */
const DEMO_ACCOUNTS: [string, string][] = [
  ['7', 'the seed’s user, 100 tokens'],
  ['alice', 'a new account, 100 tokens'],
  ['bob', 'a new account, 100 tokens'],
  ['zero-balance', '0 tokens, features disabled'],
  ['agency', 'a shared pool, 100 tokens its members spend'],
  ['agency-client', 'a member of agency, at most 50 of its tokens a cycle'],
];
const root = byId('app');
root.append(
  headerMarkup('copilot', true),
  el(
    'main',
    {},
    el('h1', {}, 'Copilot'),
    el(
      'section',
      { class: 'card', 'aria-labelledby': 'signin-title' },
      el('h2', { id: 'signin-title' }, 'Demo sign-in'),
      el(
        'form',
        { class: 'row', action: '/demo/login', method: 'get' },
        el(
          'label',
          {},
          'Account',
          el('input', { name: 'account', id: 'account-input', required: true, maxlength: 128, list: 'accounts' }),
        ),
        el(
          'datalist',
          { id: 'accounts' },
          ...DEMO_ACCOUNTS.map(([id, about]) => el('option', { value: id, label: `${id}: ${about}` })),
        ),
        el('button', { type: 'submit' }, 'Sign in'),
      ),
    ),
    // Built once: render updates only the reason's text, so the link keeps keyboard focus
    // through the balance's refreshes (every 15 s, and when the tab regains focus).
    el(
      'p',
      { id: 'banner', class: 'banner', role: 'status', hidden: true },
      el('strong', {}, 'Features are disabled: '),
      el('span', { id: 'banner-reason' }),
      'Billing still works: ',
      el('a', { href: '/billing' }, 'buy tokens'),
      '.',
    ),
    el(
      'section',
      { class: 'card', 'aria-labelledby': 'features-title' },
      el('h2', { id: 'features-title' }, 'Features'),
      el(
        'p',
        {},
        el(
          'label',
          { class: 'inline' },
          el('input', { type: 'checkbox', id: 'crm-connected', disabled: true }),
          'CRM connected',
        ),
        ' ',
        el('span', { id: 'crm-note', class: 'muted' }),
      ),
      el('div', { id: 'features', class: 'features', role: 'group', 'aria-label': 'Features' }),
    ),
    el(
      'section',
      { class: 'card', 'aria-labelledby': 'result-title' },
      el('h2', { id: 'result-title' }, 'Result'),
      el('p', { id: 'result', 'aria-live': 'polite', class: 'muted' }, 'Run a feature to see its result.'),
    ),
    el(
      'section',
      { class: 'card', 'aria-labelledby': 'operator-title' },
      el('h2', { id: 'operator-title' }, 'The operator’s side'),
      el(
        'p',
        {},
        'The ',
        el('a', { href: '/admin' }, 'admin console'),
        ' shows every account, its ledger, usage and payments, and corrects balances with a reason. In demo mode, sign in there as the demo operator: no key needed. The ',
        el('a', { href: '/docs' }, 'API reference'),
        ' documents every route.',
      ),
    ),
  ),
  el(
    'dialog',
    { id: 'refused', role: 'alertdialog', 'aria-labelledby': 'refused-title', 'aria-describedby': 'refused-text' },
    el('h2', { id: 'refused-title' }, 'Insufficient tokens'),
    el('p', { id: 'refused-text' }),
    el(
      'div',
      { class: 'row' },
      el('a', { class: 'button', href: '/billing' }, 'Buy tokens'),
      el('button', { type: 'button', class: 'secondary', id: 'refused-close' }, 'Close'),
    ),
  ),
);

const header = new BalanceHeader();
const crm = byId<HTMLInputElement>('crm-connected');
const dialog = byId<HTMLDialogElement>('refused');
let crmConnected = true;
let running = false;

byId('refused-close').addEventListener('click', () => dialog.close());

function render(s: BalanceState): void {
  const box = byId('features');
  const banner = byId('banner');
  if (s.kind !== 'ready') {
    if (s.kind === 'signed-out')
      replace(box, el('p', { class: 'muted' }, 'Sign in as an account to use the features.'));
    if (s.kind === 'unavailable')
      replace(box, el('p', { class: 'error' }, `The balance cannot be read (${s.message}).`));
    for (const b of box.querySelectorAll('button')) b.disabled = true;
    banner.hidden = true;
    crm.disabled = true;
    return;
  }
  const b = s.balance;
  crm.disabled = false;
  ensureButtons(b);
  const disabled = b.features_disabled || b.available <= 0;
  banner.hidden = !disabled;
  const reason = `your available balance is ${b.available}. ${limitUsedUp(b) ? 'Your limit in the shared pool is used up for this cycle. ' : ''}`;
  const shown = byId('banner-reason');
  if (shown.textContent !== reason) shown.textContent = reason;
  for (const button of box.querySelectorAll<HTMLButtonElement>('button[data-feature]')) {
    const f = b.features[button.dataset.feature ?? ''];
    button.disabled = running || disabled || !crmConnected || !f || !f.allowed;
  }
  replace(byId('crm-note'), crmConnected ? '' : 'Connect the CRM to use the features.');
}

/** A pool's member whose limit this cycle stops it, whatever the pool still has. */
function limitUsedUp(b: BalanceJson): boolean {
  const p = b.pool;
  return p !== null && p.remaining_this_cycle === 0;
}

function ensureButtons(b: BalanceJson): void {
  const box = byId('features');
  if (box.querySelector('button[data-feature]')) return;
  replace(
    box,
    ...Object.entries(b.features).map(([id, f]) =>
      el(
        'button',
        { type: 'button', 'data-feature': id, onclick: () => void run(id, f.name) },
        f.name,
        el('span', { class: 'cost' }, `${f.cost} ${f.cost === 1 ? 'token' : 'tokens'}`),
      ),
    ),
  );
}

async function run(feature: string, name: string): Promise<void> {
  running = true;
  render(header.state);
  const result = byId('result');
  try {
    const r = await api<Json & { result?: { message?: string }; cost?: number }>(
      `/api/features/${encodeURIComponent(feature)}/run`,
      { method: 'POST', body: {} },
    );
    if (r.ok) {
      result.className = 'ok';
      replace(result, `${name}: ${r.body.result?.message ?? 'done'} (${r.body.cost ?? 0} charged)`);
    } else if (r.status === 402) {
      result.className = 'error';
      replace(result, `${name} was refused.`);
      replace(byId('refused-text'), r.body.error ?? 'Insufficient tokens. Please purchase more tokens.');
      dialog.showModal();
    } else {
      result.className = 'error';
      replace(result, `${name} failed: ${r.body.error ?? `status ${r.status}`}`);
    }
  } catch {
    result.className = 'error';
    replace(result, `${name} failed: the service cannot be reached.`);
  } finally {
    running = false;
    await header.refresh();
  }
}

crm.addEventListener('change', async () => {
  const wanted = crm.checked;
  const r = await api<{ crm_connected?: boolean }>('/demo/settings', {
    method: 'PUT',
    body: { crm_connected: wanted },
  });
  if (r.ok && typeof r.body.crm_connected === 'boolean') crmConnected = r.body.crm_connected;
  crm.checked = crmConnected;
  render(header.state);
});

async function loadSettings(): Promise<void> {
  const r = await api<{ crm_connected?: boolean }>('/demo/settings');
  if (r.ok && typeof r.body.crm_connected === 'boolean') crmConnected = r.body.crm_connected;
  crm.checked = crmConnected;
}

header.onChange(render);
const session = await api<{ signed_in?: boolean }>('/api/session');
if (session.body.signed_in) {
  const s = await header.refresh();
  if (s.kind === 'ready') {
    await loadSettings();
    byId<HTMLInputElement>('account-input').value = s.balance.account;
    render(header.state);
  }
} else {
  header.active = false;
  header.state = { kind: 'signed-out' };
  header.rerender();
  render(header.state);
  byId<HTMLInputElement>('account-input').focus();
}
