import type { PaymentRow } from '../../ledger/payments/payment-ledger.ts';
import { DEFAULT_TEST_CARD, TEST_CARDS } from '../../payments/test-cards.ts';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}
.banner{background:#fff3cd;border:1px solid #e0b400;padding:.75rem 1rem;border-radius:6px;font-weight:600}
.error{background:#fde8e8;border:1px solid #c81e1e;padding:.75rem 1rem;border-radius:6px}
label{display:block;margin:.75rem 0 .25rem}label.check{display:flex;gap:.5rem;align-items:center}
input[type=text]{font:inherit;padding:.4rem;width:100%;max-width:20rem;box-sizing:border-box}
table{border-collapse:collapse;margin-top:.5rem;font-size:.9rem}th,td{text-align:left;vertical-align:top;padding:.3rem .5rem;border-bottom:1px solid #ddd}
button{font-size:1rem;padding:.5rem 1.25rem;margin:1rem .5rem 0 0}</style></head>
<body><main><p class="banner">TEST PAYMENT — this is tokenmeter's offline test provider. No card is charged and no real money moves.</p>
${body}</main></body></html>`;
}

const money = (p: PaymentRow) => `${(p.amount / 100).toFixed(2)} ${escapeHtml(p.currency.toUpperCase())}`;
const spaced = (n: string) => n.replace(/(\d{4})(?=\d)/g, '$1 ');

/** What the checkout form shows: the save box ticked, and what the buyer typed with its error after a refused attempt. */
export interface CheckoutPageState {
  saveCard: boolean;
  card?: string;
  error?: string;
}

function cardTable(): string {
  const rows = TEST_CARDS.map(
    (c) => `<tr><td><code>${spaced(c.number)}</code></td><td>${escapeHtml(c.description)}</td></tr>`,
  );
  return `<table><caption>Test cards (any other valid number behaves like 4242; off session a saved card is told apart by its last four digits)</caption>
<thead><tr><th scope="col">Card number</th><th scope="col">Behaviour</th></tr></thead>
<tbody>${rows.join('')}</tbody></table>`;
}

/** The test checkout: what is being bought, the card, and Complete / Cancel. */
export function testCheckoutPage(
  p: PaymentRow,
  packageName: string,
  state: CheckoutPageState = { saveCard: false },
): string {
  const id = encodeURIComponent(p.reference);
  // Only a top-up can save its card: automatic top-up charges it for top-up packages.
  const saveBox =
    p.kind === 'topup'
      ? `<label class="check"><input type="checkbox" id="save_card" name="save_card" value="1"${state.saveCard ? ' checked' : ''}> Save this card for automatic top-ups</label>`
      : '';
  // After a refused attempt the focus starts on the field to fix, which reads out its error.
  const error = state.error ? `<p class="error" role="alert" id="card-error">${escapeHtml(state.error)}</p>` : '';
  const actions =
    p.status === 'pending'
      ? `${error}<form method="post" action="/pay/test/${id}/complete">
<label for="card">Card number</label>
<input type="text" id="card" name="card" value="${escapeHtml(state.card ?? DEFAULT_TEST_CARD)}" inputmode="numeric" autocomplete="cc-number" required maxlength="64"${state.error ? ' aria-invalid="true" aria-describedby="card-error" autofocus' : ''}>
${saveBox}<button type="submit">Complete test payment</button></form>
<form method="post" action="/pay/test/${id}/cancel"><button type="submit">Cancel</button></form>
${cardTable()}`
      : `<p>This test payment is <strong>${escapeHtml(p.status)}</strong>. <a href="/billing">Back to billing</a></p>`;
  return page(
    'Test payment',
    `<h1>Test payment</h1>
<p>${escapeHtml(packageName)}: ${p.tokens} tokens for ${money(p)}, account <code>${escapeHtml(p.account)}</code>.</p>
${actions}`,
  );
}

/** The test provider's portal: the one (fake) payment method. */
export function testPortalPage(): string {
  return page(
    'Test billing portal',
    `<h1>Test billing portal</h1><ul><li>Test card •••• 4242 (no real money)</li></ul><p><a href="/billing">Back to billing</a></p>`,
  );
}
