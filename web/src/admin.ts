import './style.css';
import { accountPage } from './admin/account-page.ts';
import { accountsPage } from './admin/accounts-page.ts';
import { paymentsPage } from './admin/payments-page.ts';
import { session } from './admin/shell.ts';
import { signInPage } from './admin/sign-in.ts';
import { usagePage } from './admin/usage-page.ts';
import { webhookDeliveriesPage } from './admin/webhook-deliveries.ts';
import { webhooksPage } from './admin/webhooks-page.ts';
import { adminKey, type ConsoleSession } from './admin-api.ts';
import { api } from './api.ts';

/**
 * The operator console: accounts, an account (figures, plan, cycle, holds, grants, adjust,
 * alerts, usage, balance, ledger, events, payments), usage, payments, webhooks. Hash routes;
 * signed in with an admin key or, in demo mode, as the demo operator.
 */
const NOT_SIGNED_IN: ConsoleSession = { signed_in: false, demo_sign_in: false, how_to_sign_in: '', expires_at: null };

async function consoleSession(): Promise<ConsoleSession> {
  const r = await api<ConsoleSession>('/admin/session');
  return r.ok ? r.body : NOT_SIGNED_IN;
}

let message = '';

async function route(): Promise<void> {
  if (adminKey.get()) session.mode = 'key';
  if (session.mode === 'none') {
    const info = await consoleSession();
    if (info.signed_in) session.mode = 'operator';
    else {
      signInPage(info, message, () => {
        message = '';
        void route();
      });
      return;
    }
  }
  const hash = window.location.hash;
  const account = /^#\/account\/(.+)$/.exec(hash);
  const webhook = /^#\/webhooks\/(.+)$/.exec(hash);
  if (account?.[1]) await accountPage(decodeURIComponent(account[1]));
  else if (webhook?.[1]) await webhookDeliveriesPage(decodeURIComponent(webhook[1]));
  else if (hash.startsWith('#/webhooks')) await webhooksPage();
  else if (hash.startsWith('#/usage')) usagePage();
  else if (hash.startsWith('#/payments')) await paymentsPage();
  else await accountsPage();
  // Keyboard and screen-reader users land on the new page's heading.
  if (!document.getElementById('account-notice')) document.getElementById('page-title')?.focus();
}

session.onSignOut = (expired) => {
  message = expired ? 'Your admin key or session is no longer valid: sign in again.' : '';
  void route();
};
window.addEventListener('hashchange', () => void route());
void route();
