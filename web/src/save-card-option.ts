import { SAVE_CARD_LABEL } from './auto-topup-text.ts';
import { el } from './dom.ts';

/** The billing page's "Save this card for automatic top-ups" box, beside the buy buttons. */
export interface SaveCardOption {
  element: HTMLElement;
  /** What a checkout of a package of this kind adds to its body: only a top-up saves its card. */
  checkoutField(kind: string): { save_card?: true };
  /** Ticks the box and moves focus to it: the way to a saved card when automatic top-up asks for one. */
  offer(): void;
}

export function saveCardOption(): SaveCardOption {
  const box = el('input', { type: 'checkbox', id: 'save-card', 'aria-describedby': 'save-card-hint' });
  return {
    element: el(
      'div',
      { class: 'save-card' },
      el('label', { class: 'inline' }, box, SAVE_CARD_LABEL),
      el(
        'p',
        { class: 'muted', id: 'save-card-hint' },
        'Top-up packages only. The card is kept by the payment provider; this site remembers its brand and last four digits.',
      ),
    ),
    checkoutField: (kind) => (kind === 'topup' && box.checked ? { save_card: true } : {}),
    offer() {
      box.checked = true;
      box.focus();
    },
  };
}
