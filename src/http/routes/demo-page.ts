/**
 * The demo's landing page until the web front end lands: sign in as an account, see its
 * live balance, and run features through the token gate. Plain HTML and one inline script.
 */
export function demoPage(features: { id: string; name: string; cost: number }[]): string {
  const buttons = features
    .map((f) => `<button type="button" data-feature="${f.id}">${escapeHtml(f.name)} (${f.cost})</button>`)
    .join('\n      ');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>tokenmeter demo</title>
  <link rel="icon" href="data:,">
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
    button { margin: .25rem; padding: .5rem .75rem; }
    #banner { background: #fee; border: 1px solid #c00; padding: .5rem; display: none; }
  </style>
</head>
<body>
  <h1>tokenmeter demo</h1>
  <form action="/demo/login" method="get">
    <label>Sign in as account <input name="account" value="7" required maxlength="128"></label>
    <button type="submit">Sign in</button>
  </form>
  <p>Balance: <strong data-testid="token-balance" id="balance">loading…</strong> <span id="plan"></span></p>
  <p id="banner" role="status">Features are disabled: no tokens available. Billing still works.</p>
  <section aria-label="Features">
      ${buttons}
  </section>
  <p id="result" aria-live="polite"></p>
  <p><a href="/docs">API docs</a></p>
  <script>
    const show = (b) => {
      document.getElementById('balance').textContent = String(b.available);
      document.getElementById('plan').textContent = '(plan ' + b.package + ', used this month ' + b.usedThisMonth + ')';
      document.getElementById('banner').style.display = b.features_disabled ? 'block' : 'none';
      for (const el of document.querySelectorAll('[data-feature]')) {
        const f = b.features[el.dataset.feature];
        el.disabled = b.features_disabled || !f || !f.allowed;
      }
    };
    const refresh = async () => {
      const r = await fetch('/api/tokens/balance', { credentials: 'same-origin' });
      if (r.status === 401) { document.getElementById('balance').textContent = 'not signed in'; return; }
      if (!r.ok) { document.getElementById('balance').textContent = 'unavailable'; return; }
      show(await r.json());
    };
    for (const el of document.querySelectorAll('[data-feature]')) {
      el.addEventListener('click', async () => {
        const r = await fetch('/api/features/' + el.dataset.feature + '/run', {
          method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: '{}',
        });
        const body = await r.json();
        document.getElementById('result').textContent = body.success ? body.result.message : body.error;
        await refresh();
      });
    }
    refresh();
  </script>
</body>
</html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
