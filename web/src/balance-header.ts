import { api, type BalanceJson } from './api.ts';
import { byId, el, replace } from './dom.ts';
import { expiryNote, poolNote } from './token-notes.ts';

export type BalanceState =
  | { kind: 'loading' }
  | { kind: 'signed-out' }
  | { kind: 'unavailable'; message: string }
  | { kind: 'ready'; balance: BalanceJson };

/**
 * The live balance in the page header. It never shows a made-up figure: "Loading…" until the
 * first answer, and a plain "unavailable" when the balance cannot be read (the server still
 * enforces). Refreshes on demand, when the tab regains focus, and at an interval.
 */
export class BalanceHeader {
  state: BalanceState = { kind: 'loading' };
  /** False while nobody is signed in: focus and the interval then ask for nothing. */
  active = true;
  private readonly listeners: ((s: BalanceState) => void)[] = [];

  constructor(intervalMs = 15_000) {
    const refresh = () => {
      if (this.active) void this.refresh();
    };
    window.addEventListener('focus', refresh);
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') refresh();
    });
    window.setInterval(refresh, intervalMs);
    this.render();
  }

  onChange(listener: (s: BalanceState) => void): void {
    this.listeners.push(listener);
  }

  async refresh(): Promise<BalanceState> {
    try {
      const r = await api<BalanceJson>('/api/tokens/balance');
      if (r.status === 401) this.state = { kind: 'signed-out' };
      else if (!r.ok) this.state = { kind: 'unavailable', message: r.body.error ?? `status ${r.status}` };
      else this.state = { kind: 'ready', balance: r.body };
    } catch {
      this.state = { kind: 'unavailable', message: 'the service cannot be reached' };
    }
    this.render();
    for (const l of this.listeners) l(this.state);
    return this.state;
  }

  /** Shows the current state again (after the page set it without a request). */
  rerender(): void {
    this.render();
  }

  private render(): void {
    const s = this.state;
    const balance = byId('token-balance');
    balance.setAttribute('aria-busy', String(s.kind === 'loading'));
    const text =
      s.kind === 'ready'
        ? String(s.balance.available)
        : s.kind === 'loading'
          ? 'Loading…'
          : s.kind === 'signed-out'
            ? 'Not signed in'
            : 'Unavailable';
    replace(balance, text);
    balance.title = s.kind === 'unavailable' ? `Balance unavailable: ${s.message}` : '';
    replace(byId('plan'), s.kind === 'ready' ? s.balance.package : '—');
    replace(byId('used'), s.kind === 'ready' ? String(s.balance.usedThisMonth) : '—');
    replace(byId('account-name'), s.kind === 'ready' ? s.balance.account : '—');
    // What leaves the balance next, so nobody is surprised when bonus or plan tokens end. The
    // billing page says it in its own card, with the figures, so its header has no such line.
    const expiring = document.getElementById('expiring');
    if (expiring) {
      const note = s.kind === 'ready' ? expiryNote(s.balance) : null;
      expiring.hidden = note === null;
      replace(expiring, note);
    }
    // A pool's member: what the pool has left and its own limit, beside the combined figure above.
    const poolLine = document.getElementById('pool-note');
    if (poolLine) {
      const pool = s.kind === 'ready' ? poolNote(s.balance) : null;
      poolLine.hidden = pool === null;
      replace(
        poolLine,
        ...(pool
          ? [el('span', { id: 'pool-left' }, pool.pool), ' · ', el('span', { id: 'pool-limit' }, pool.limit)]
          : []),
      );
    }
  }
}

/** The header markup shared by the copilot and billing pages. */
export function headerMarkup(current: 'copilot' | 'billing', demo: boolean): HTMLElement {
  const fig = (label: string, id: string, extra: Record<string, string> = {}) =>
    el('div', { class: 'figure' }, el('small', { id: `${id}-label` }, label), el('strong', { id, ...extra }));
  return el(
    'header',
    { class: 'top' },
    el('a', { class: 'brand', href: demo ? '/' : '/billing' }, 'tokenmeter'),
    fig('Account', 'account-name'),
    fig('Tokens', 'token-balance', { 'data-testid': 'token-balance', 'aria-live': 'polite' }),
    fig('Plan', 'plan'),
    fig('Used this month', 'used'),
    current === 'copilot' ? el('a', { href: '/billing' }, 'Billing') : demo ? el('a', { href: '/' }, 'Copilot') : null,
    current === 'copilot'
      ? el('p', { id: 'expiring', class: 'expiring', 'data-testid': 'expiring', hidden: true })
      : null,
    // Styled as the expiry line: a full-width note under the figures.
    current === 'copilot'
      ? el('p', { id: 'pool-note', class: 'expiring', 'data-testid': 'pool-note', hidden: true })
      : null,
  );
}
