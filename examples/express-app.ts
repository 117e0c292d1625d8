/**
 * A tiny Express app whose AI route costs tokens, protected by tokenmeter's requireTokens.
 *
 *   TOKENMETER_URL=http://127.0.0.1:3000 TOKENMETER_API_KEY=<an app key> node examples/express-app.ts
 *
 * Then open http://127.0.0.1:4000/?user=alice (see examples/README.md).
 */
import type { Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
// In your own app: import { ... } from 'tokenmeter/sdk';
import { expressRequireTokens, holdOf, TokenMeterApiError, TokenMeterClient } from '../src/sdk/index.ts';

/**
 * Stands in for your app's own sign-in: the user is named by the `X-User-Id` header or by
 * `?user=`. A real app takes it from its session, never from what the browser says.
 */
function userOf(req: Request): string | undefined {
  const header = req.get('x-user-id');
  if (header) return header;
  return typeof req.query.user === 'string' && req.query.user !== '' ? req.query.user : undefined;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(user: string, balance: number, available: number, disabled: boolean): string {
  const who = escapeHtml(user);
  return `<!doctype html>
<html lang="en"><meta charset="utf-8"><title>tokenmeter example</title>
<body style="font-family: system-ui; max-width: 36rem; margin: 2rem auto">
<h1>Hello, ${who}</h1>
<p id="balance">Balance: <strong>${balance}</strong> tokens (${available} available)</p>
${disabled ? '<p><strong>You are out of tokens.</strong> Buy more to keep using the AI features.</p>' : ''}
<button id="summarize" ${disabled ? 'disabled' : ''}>Summarize my CRM notes (2 tokens)</button>
<pre id="out"></pre>
<script>
document.getElementById('summarize').onclick = async () => {
  const res = await fetch('/api/summarize?user=${encodeURIComponent(user)}', { method: 'POST' });
  document.getElementById('out').textContent = JSON.stringify(await res.json(), null, 2);
  if (res.ok) setTimeout(() => location.reload(), 800);
};
</script>
</body></html>`;
}

/** The example app, given a tokenmeter client with an app key. */
export function createExampleApp(client: TokenMeterClient): express.Express {
  const app = express();
  app.use(express.json());

  app.get('/', async (req, res) => {
    const user = userOf(req);
    if (!user) return void res.type('text').send('Add ?user=<an id> to the address to sign in as that user.');
    const b = await client.getBalance(user);
    res.type('html').send(page(user, b.balance, b.available, b.features_disabled));
  });

  app.get('/api/balance', async (req, res) => {
    const user = userOf(req);
    if (!user) return void res.status(401).json({ success: false, code: 'unauthorized', error: 'Name a user' });
    const b = await client.getBalance(user);
    res.json({
      account: b.account,
      balance: b.balance,
      available: b.available,
      features_disabled: b.features_disabled,
    });
  });

  // Costs crm_ai_agent's price: reserved before the handler runs, charged only when it answers 2xx.
  app.post('/api/summarize', expressRequireTokens('crm_ai_agent', { client, account: userOf }), (req, res) => {
    const hold = holdOf(req);
    res.json({
      summary: 'Three customers asked for a demo this week (a canned summary: no model was called).',
      charged: hold?.amount,
    });
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (err instanceof TokenMeterApiError) return void res.status(err.status).json(err.body);
    console.error(err);
    res.status(500).json({ success: false, code: 'internal', error: 'Internal error' });
  });
  return app;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`Set ${name} (see examples/README.md).`);
    process.exit(1);
  }
  return value;
}

if (import.meta.main) {
  const client = new TokenMeterClient({ baseUrl: required('TOKENMETER_URL'), apiKey: required('TOKENMETER_API_KEY') });
  const host = process.env.HOST ?? '127.0.0.1';
  const server: Server = createExampleApp(client).listen(Number(process.env.PORT ?? 4000), host, () => {
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : process.env.PORT;
    console.log(`example app listening on http://${host}:${port} (tokenmeter at ${client.baseUrl})`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
