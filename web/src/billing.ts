import './style.css';
import type { PackageJson } from '../../src/sdk/payment-types.ts';
import { api, type BalanceJson } from './api.ts';
import { autoTopupClient } from './auto-topup-api.ts';
import { autoTopupSection } from './auto-topup-form.ts';
import { SAVE_CARD_LABEL } from './auto-topup-text.ts';
import { BalanceHeader, type BalanceState, headerMarkup } from './balance-header.ts';
import { byId, el, money, replace, when } from './dom.ts';
import { saveCardOption } from './save-card-option.ts';
import { debtNote, expiryNote } from './token-notes.ts';

/**
 * Billing: packages, checkout, automatic top-up, purchase history and the payment-methods link. It only calls
 * `/api/payment/*` and the balance, so it works at zero and negative balances.
 */

interface PaymentJson {
  id: string | number;
  package: string;
  package_name?: string;
  tokens: number;
  amount: number;
  currency: string;
  status: string;
  provider: string;
  created: string;
  receipt_url?: string | null;
}

const saveCard = saveCardOption();
saveCard.element.hidden = true;
const autoTopup = autoTopupSection({
  client: autoTopupClient(api, null),
  intro:
    'When your available tokens fall below the threshold, your saved card is charged for the package you choose, at most the monthly limit times a calendar month (UTC). Packages you buy yourself never count toward it.',
  cardRequired: () =>
    el(
      'span',
      {},
      `No card is saved yet: buy a top-up package above with “${SAVE_CARD_LABEL}” ticked, then turn automatic top-up on. `,
      el('button', { type: 'button', class: 'secondary', onclick: () => saveCard.offer() }, 'Tick the box'),
    ),
});

const demo = await api<{ demo?: boolean }>('/web-config.json').then((r) => r.body.demo === true);
byId('app').append(
  headerMarkup('billing', demo),
  el(
    'main',
    {},
    el('h1', {}, 'Billing'),
    el('p', { id: 'status', role: 'status', class: 'notice', hidden: true }),
    el(
      'section',
      { class: 'card', 'aria-labelledby': 'tokens-title', id: 'tokens', hidden: true },
      el('h2', { id: 'tokens-title' }, 'Your tokens'),
      el('div', { id: 'tokens-body' }),
    ),
    el(
      'section',
      { class: 'card', 'aria-labelledby': 'packages-title' },
      el('h2', { id: 'packages-title' }, 'Buy tokens'),
      el('div', { id: 'packages', class: 'packages' }, el('p', { class: 'muted' }, 'Loading packages…')),
      saveCard.element,
    ),
    autoTopup.element,
    el(
      'section',
      { class: 'card', 'aria-labelledby': 'methods-title' },
      el('h2', { id: 'methods-title' }, 'Payment methods'),
      el('button', { type: 'button', class: 'secondary', id: 'portal' }, 'Manage payment methods and invoices'),
    ),
    el(
      'section',
      { class: 'card', 'aria-labelledby': 'history-title' },
      el('h2', { id: 'history-title' }, 'Purchase history'),
      el(
        'div',
        { id: 'history', class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Purchases' },
        el('p', { class: 'muted' }, 'Loading history…'),
      ),
    ),
  ),
);

const header = new BalanceHeader();
const status = byId('status');

/** Where the balance comes from, what expires next and any debt: what a buyer wants to know first. */
function showTokens(s: BalanceState): void {
  const card = byId('tokens');
  card.hidden = s.kind !== 'ready';
  if (s.kind !== 'ready') return;
  const b: BalanceJson = s.balance;
  const fig = (label: string, value: number, testid: string) =>
    el('div', {}, el('dt', {}, label), el('dd', { 'data-testid': testid }, value.toLocaleString('en-US')));
  const expiry = expiryNote(b);
  const debt = debtNote(b);
  replace(
    byId('tokens-body'),
    el(
      'dl',
      { class: 'figures' },
      fig('Plan tokens', b.allocation, 'tokens-plan'),
      fig('Purchased', b.purchased, 'tokens-purchased'),
      fig('Bonus', b.promotional, 'tokens-bonus'),
      b.debt > 0 ? fig('Owed', b.debt, 'tokens-owed') : null,
    ),
    expiry ? el('p', { id: 'tokens-expiry' }, `${expiry}.`) : null,
    debt ? el('p', { id: 'tokens-debt', class: 'error' }, debt) : null,
  );
}
header.onChange(showTokens);

function say(text: string, error = false): void {
  status.hidden = false;
  status.className = error ? 'notice error' : 'notice';
  replace(status, text);
}

function unavailable(what: string, s: number, error: string | undefined): string {
  if (s === 404) return `Payments are not available on this server yet (${what}).`;
  if (s === 401) return 'Sign in to buy tokens.';
  return `${what} could not be loaded: ${error ?? `status ${s}`}`;
}

async function loadPackages(): Promise<void> {
  const r = await api<{ packages?: PackageJson[] }>('/api/payment/packages');
  const box = byId('packages');
  if (!r.ok || !r.body.packages) {
    replace(box, el('p', { class: 'error' }, unavailable('packages', r.status, r.body.error)));
    return;
  }
  replace(
    box,
    ...r.body.packages.map((p) =>
      el(
        'div',
        { class: 'package', 'data-package': p.id },
        el('strong', {}, p.name),
        el('span', { class: 'price' }, money(p.price_cents, p.currency)),
        el(
          'span',
          { class: 'muted' },
          p.kind === 'plan'
            ? `${p.tokens} tokens every month`
            : p.expires_in_days
              ? `${p.tokens} tokens, expire ${p.expires_in_days} days after purchase`
              : `${p.tokens} tokens, never expire`,
        ),
        el(
          'button',
          {
            type: 'button',
            'aria-label': `Buy ${p.name} for ${money(p.price_cents, p.currency)}`,
            onclick: () => void buy(p),
          },
          'Buy',
        ),
      ),
    ),
  );
  saveCard.element.hidden = !r.body.packages.some((p) => p.kind === 'topup');
}

async function buy(p: PackageJson): Promise<void> {
  say(`Starting checkout for ${p.name}…`);
  const r = await api<{ url?: string; checkout_id?: string }>('/api/payment/checkout', {
    method: 'POST',
    body: { package: p.id, ...saveCard.checkoutField(p.kind) },
  });
  if (!r.ok || !r.body.url) {
    say(`Checkout could not start: ${r.body.error ?? `status ${r.status}`}`, true);
    return;
  }
  // The test provider's page completes in the browser; Stripe's is a redirect to Checkout.
  window.location.assign(r.body.url);
}

async function loadHistory(): Promise<void> {
  const r = await api<{ payments?: PaymentJson[] }>('/api/payment/history');
  const box = byId('history');
  if (!r.ok || !r.body.payments) {
    replace(box, el('p', { class: 'error' }, unavailable('history', r.status, r.body.error)));
    return;
  }
  if (r.body.payments.length === 0) {
    replace(box, el('p', { class: 'muted' }, 'No purchases yet.'));
    return;
  }
  replace(
    box,
    el(
      'table',
      {},
      el(
        'thead',
        {},
        el(
          'tr',
          {},
          el('th', { scope: 'col' }, 'Date'),
          el('th', { scope: 'col' }, 'Package'),
          el('th', { scope: 'col', class: 'num' }, 'Tokens'),
          el('th', { scope: 'col', class: 'num' }, 'Amount'),
          el('th', { scope: 'col' }, 'Status'),
          el('th', { scope: 'col' }, 'Receipt'),
        ),
      ),
      el(
        'tbody',
        {},
        ...r.body.payments.map((p) =>
          el(
            'tr',
            {},
            el('td', {}, when(p.created)),
            el('td', {}, p.package_name ?? p.package),
            el('td', { class: 'num' }, p.tokens),
            el('td', { class: 'num' }, money(p.amount, p.currency)),
            el('td', {}, p.status),
            el('td', {}, p.receipt_url ? el('a', { href: p.receipt_url }, 'Receipt') : '—'),
          ),
        ),
      ),
    ),
  );
}

byId('portal').addEventListener('click', async () => {
  const r = await api<{ url?: string }>('/api/payment/portal', { method: 'POST', body: {} });
  if (r.ok && r.body.url) window.location.assign(r.body.url);
  else say(unavailable('payment methods', r.status, r.body.error), true);
});

const session = await api<{ signed_in?: boolean }>('/api/session');
// Back from a checkout (Stripe's success and cancel URLs, or the test provider): say how it ended.
const returned = new URLSearchParams(window.location.search).get('payment');
if (session.body.signed_in === true) {
  if (returned === 'success')
    say('Payment complete: the tokens are added as soon as the payment provider confirms it, usually within seconds.');
  if (returned === 'canceled') say('Checkout canceled: nothing was charged.');
  await header.refresh();
  await Promise.all([loadPackages(), loadHistory(), autoTopup.load()]);
} else {
  // Nobody is signed in: ask for nothing that would only answer 401.
  header.active = false;
  header.state = { kind: 'signed-out' };
  header.rerender();
  say(demo ? 'Sign in on the demo page first.' : 'Open billing from your app: it signs you in with a one-time link.');
  replace(byId('packages'), el('p', { class: 'muted' }, 'Sign in to buy tokens.'));
  replace(byId('history'), el('p', { class: 'muted' }, 'Sign in to see your purchases.'));
  autoTopup.idle('Sign in to set up automatic top-up.');
  byId<HTMLButtonElement>('portal').disabled = true;
}
