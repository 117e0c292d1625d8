import { adminApi, adminKey } from '../admin-api.ts';
import { api } from '../api.ts';
import { byId, type Child, el, replace } from '../dom.ts';

/**
 * The console's pages, in the order of the navigation. A capability another issue adds
 * (grants, pools, webhooks, ...) lands as one more entry here and one more route in admin.ts.
 */
export const NAV: readonly { hash: string; label: string; match: (hash: string) => boolean }[] = [
  { hash: '#/', label: 'Accounts', match: (h) => h === '' || h === '#/' || h.startsWith('#/account/') },
  { hash: '#/usage', label: 'Usage', match: (h) => h.startsWith('#/usage') },
  { hash: '#/payments', label: 'Payments', match: (h) => h.startsWith('#/payments') },
  { hash: '#/webhooks', label: 'Webhooks', match: (h) => h.startsWith('#/webhooks') },
];

/** Set by the router: what signing out does, and what runs after it. */
export const session = {
  mode: 'none' as 'key' | 'operator' | 'none',
  /** `expired`: the server refused the key or session (401), as opposed to signing out. */
  onSignOut: (_expired: boolean) => {},
};

export async function signOut(): Promise<void> {
  if (session.mode === 'operator') await api('/admin/session', { method: 'DELETE' });
  adminKey.clear();
  session.mode = 'none';
  session.onSignOut(false);
}

/** The page frame: header with the navigation, then the page's own content; focus goes to its heading. */
export function shell(title: string, ...children: Child[]): void {
  const hash = window.location.hash;
  const signedIn = session.mode !== 'none';
  replace(
    byId('app'),
    el(
      'header',
      { class: 'top' },
      el('a', { class: 'brand', href: '#/' }, 'tokenmeter admin'),
      signedIn
        ? el(
            'nav',
            { 'aria-label': 'Console', class: 'console-nav' },
            ...NAV.map((n) => el('a', { href: n.hash, ...(n.match(hash) ? { 'aria-current': 'page' } : {}) }, n.label)),
          )
        : null,
      signedIn ? el('span', { class: 'muted who' }, session.mode === 'operator' ? 'Demo operator' : 'Admin key') : null,
      signedIn ? el('button', { type: 'button', class: 'secondary', onclick: () => void signOut() }, 'Sign out') : null,
    ),
    el('main', {}, el('h1', { tabindex: -1, id: 'page-title' }, title), ...children),
  );
  document.title = `${title} — tokenmeter admin`;
}

export const th = (text: string, num = false) => el('th', { scope: 'col', class: num ? 'num' : undefined }, text);
export const td = (text: string | number, num = false) => el('td', { class: num ? 'num' : undefined }, text);

/** A table, or the empty state when there are no rows. */
export function table(
  label: string,
  head: HTMLTableCellElement[],
  rows: HTMLTableRowElement[],
  empty: string,
): HTMLElement {
  if (rows.length === 0) return el('p', { class: 'muted' }, empty);
  return el(
    'div',
    { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': label },
    el('table', { 'aria-label': label }, el('thead', {}, el('tr', {}, ...head)), el('tbody', {}, ...rows)),
  );
}

export function card(title: string, id: string, ...children: Child[]): HTMLElement {
  return el(
    'section',
    { class: 'card', 'aria-labelledby': `${id}-title`, id },
    el('h2', { id: `${id}-title` }, title),
    ...children,
  );
}

/** "1 account", "3 accounts". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** Loads JSON for a page; a 401 means the key or session is gone, which sends the console to sign-in. */
export async function load<T>(path: string): Promise<(T & { error?: string }) | null> {
  const r = await adminApi<T>(path);
  if (r.status === 401) {
    adminKey.clear();
    session.mode = 'none';
    session.onSignOut(true);
    return null;
  }
  if (!r.ok) return { error: r.body.error ?? `status ${r.status}` } as T & { error?: string };
  return r.body;
}
