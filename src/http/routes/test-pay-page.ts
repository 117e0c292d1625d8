import type { PaymentRow } from '../../ledger/payments/payment-ledger.ts';

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem}
.banner{background:#fff3cd;border:1px solid #e0b400;padding:.75rem 1rem;border-radius:6px;font-weight:600}
button{font-size:1rem;padding:.5rem 1.25rem;margin-right:.5rem}</style></head>
<body><p class="banner">TEST PAYMENT — this is tokenmeter's offline test provider. No card is charged and no real money moves.</p>
${body}</body></html>`;
}

const money = (p: PaymentRow) => `${(p.amount / 100).toFixed(2)} ${escapeHtml(p.currency.toUpperCase())}`;

/** The test checkout: what is being bought, and Complete / Cancel. */
export function testCheckoutPage(p: PaymentRow, packageName: string): string {
  const id = encodeURIComponent(p.reference);
  const actions =
    p.status === 'pending'
      ? `<form method="post" action="/pay/test/${id}/complete" style="display:inline"><button type="submit">Complete test payment</button></form>
<form method="post" action="/pay/test/${id}/cancel" style="display:inline"><button type="submit">Cancel</button></form>`
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
