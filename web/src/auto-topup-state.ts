import type { AutoTopupJson } from './auto-topup-api.ts';
import { cardLabel, lastErrorText, STATUS_LABEL, SUSPENDED_NOTE } from './auto-topup-text.ts';
import { el, replace } from './dom.ts';

/** What the service says of an account's automatic top-up: the saved card, the status, this month's count, the last error. */
export interface AutoTopupState {
  element: HTMLElement;
  show(s: AutoTopupJson): void;
}

export function autoTopupState(): AutoTopupState {
  const figures = el('dl', { class: 'figures', id: 'auto-topup-state' });
  const suspended = el('p', { class: 'error', id: 'auto-topup-suspended', hidden: true }, SUSPENDED_NOTE);
  const fig = (label: string, testid: string, value: string) =>
    el('div', {}, el('dt', {}, label), el('dd', { 'data-testid': testid }, value));
  return {
    element: el('div', {}, figures, suspended),
    show(s) {
      replace(
        figures,
        fig('Saved card', 'auto-topup-card', cardLabel(s.payment_method)),
        fig('Status', 'auto-topup-status', STATUS_LABEL[s.status]),
        fig('Automatic top-ups this month', 'auto-topup-used', `${s.used_this_month} of ${s.monthly_limit}`),
        s.last_error === null
          ? null
          : el(
              'div',
              { class: 'span-all' },
              el('dt', {}, 'Last error'),
              el('dd', { 'data-testid': 'auto-topup-error', class: 'error' }, lastErrorText(s.last_error)),
            ),
      );
      suspended.hidden = s.status !== 'suspended';
    },
  };
}
