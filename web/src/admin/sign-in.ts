import { adminApi, adminKey, type ConsoleSession } from '../admin-api.ts';
import { api } from '../api.ts';
import { byId, el, replace } from '../dom.ts';
import { card, session, shell } from './shell.ts';

/**
 * Sign-in: in demo mode one button ("Sign in as the demo operator", no key); everywhere an
 * admin key, with the command that creates one.
 */
export function signInPage(info: ConsoleSession, message: string, done: () => void): void {
  const input = el('input', { type: 'password', id: 'admin-key', required: true, autocomplete: 'off' });
  const error = el('p', { class: 'error', role: 'alert', id: 'sign-in-error' }, message);
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
    if (r.ok) {
      session.mode = 'key';
      done();
    } else {
      adminKey.clear();
      replace(
        error,
        r.status === 401 || r.status === 403 ? 'That key is not an admin key.' : (r.body.error ?? 'failed'),
      );
    }
  });
  const demo = info.demo_sign_in
    ? card(
        'Demo mode',
        'demo-sign-in',
        el(
          'p',
          {},
          'This server runs in demo mode on this machine: sign in as the demo operator without a key. ',
          'The session lasts 30 minutes and works from this browser only.',
        ),
        el(
          'button',
          {
            type: 'button',
            id: 'demo-operator',
            onclick: async () => {
              const r = await api('/admin/session', { method: 'POST' });
              if (r.ok) {
                session.mode = 'operator';
                done();
              } else replace(error, r.body.error ?? 'The demo sign-in failed.');
            },
          },
          'Sign in as the demo operator',
        ),
      )
    : null;
  shell(
    'Admin sign-in',
    error,
    demo,
    card(
      'Sign in with a key',
      'key-sign-in',
      form,
      el(
        'p',
        { class: 'muted' },
        'No key yet? ',
        el('code', {}, 'npx tokenmeter keys create --name ops --scope admin'),
        ' prints one (or set TOKENMETER_ADMIN_KEY when starting the server). The key stays in this tab only.',
      ),
    ),
  );
  if (info.demo_sign_in) byId('demo-operator').focus();
  else input.focus();
}
