import { el, replace } from '../dom.ts';

/**
 * A signing secret, shown once: after adding an endpoint or rotating its secret. The service
 * answers with it that one time only, so the box says so plainly and offers a copy button; it
 * stays until the operator dismisses it or leaves the page.
 */
export function secretNotice(title: string, secret: string, dismiss: () => void): HTMLElement {
  const value = el('code', { id: 'webhook-secret-value', 'data-testid': 'webhook-secret' }, secret);
  const copied = el('span', { role: 'status', id: 'webhook-secret-copied' });
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      replace(copied, 'Copied.');
    } catch {
      // No clipboard permission (an insecure origin, a policy): select it for a manual copy instead.
      const range = document.createRange();
      range.selectNodeContents(value);
      window.getSelection()?.removeAllRanges();
      window.getSelection()?.addRange(range);
      replace(copied, 'The browser refused the clipboard: the secret is selected, copy it by hand.');
    }
  };
  return el(
    'section',
    { class: 'secret-once', id: 'webhook-secret-box', tabindex: -1, 'aria-labelledby': 'webhook-secret-title' },
    el('h2', { id: 'webhook-secret-title' }, title),
    el(
      'p',
      { class: 'secret-warning' },
      el('strong', {}, 'Copy it now: it is not shown again.'),
      ' Your receiver verifies each delivery with it (Standard Webhooks signatures).',
    ),
    el('p', {}, value),
    el(
      'div',
      { class: 'row' },
      el('button', { type: 'button', onclick: () => void copy() }, 'Copy secret'),
      el('button', { type: 'button', class: 'secondary', onclick: dismiss }, 'I have copied it'),
      copied,
    ),
  );
}
