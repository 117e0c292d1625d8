/**
 * Serves examples/widget.html as another app would, on its own origin, with the one backend
 * route the widget needs: a user token for the signed-in user, from tokenmeter's
 * `POST /api/sessions` with the app's key.
 *
 *   TOKENMETER_CORS_ORIGINS=http://127.0.0.1:4001 TOKENMETER_API_KEY=<app key> npx tokenmeter serve
 *   TOKENMETER_URL=http://127.0.0.1:3000 TOKENMETER_API_KEY=<app key> node examples/widget-app.ts
 *
 * Then open http://127.0.0.1:4001/?user=alice
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';

export interface WidgetAppOptions {
  /** tokenmeter's base URL (a function when it is known only after this app listens). */
  tokenmeterUrl: string | (() => string);
  apiKey: string;
}

const PAGE = readFileSync(new URL('./widget.html', import.meta.url), 'utf8');

export function widgetApp(options: WidgetAppOptions): Server {
  const base = () => (typeof options.tokenmeterUrl === 'string' ? options.tokenmeterUrl : options.tokenmeterUrl());
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // Stands in for the app's own sign-in.
    const user = url.searchParams.get('user') ?? 'alice';
    if (url.pathname === '/') {
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'set-cookie': `user=${encodeURIComponent(user)}`,
      });
      res.end(PAGE.replaceAll('http://127.0.0.1:3000', base()));
    } else if (url.pathname === '/tokenmeter-token') {
      const cookieUser = /(?:^|;\s*)user=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
      fetch(`${base()}/api/sessions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ account: decodeURIComponent(cookieUser ?? 'alice') }),
      })
        .then(async (r) => {
          res.writeHead(r.status, { 'content-type': 'application/json' });
          res.end(await r.text());
        })
        .catch(() => {
          res.writeHead(502, { 'content-type': 'application/json' });
          res.end('{"success":false,"error":"tokenmeter cannot be reached"}');
        });
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
}

if (import.meta.main) {
  const apiKey = process.env.TOKENMETER_API_KEY;
  if (!apiKey)
    throw new Error('Set TOKENMETER_API_KEY to an app key (npx tokenmeter keys create --name widget-example)');
  const port = Number(process.env.PORT ?? 4001);
  widgetApp({ tokenmeterUrl: process.env.TOKENMETER_URL ?? 'http://127.0.0.1:3000', apiKey }).listen(
    port,
    '127.0.0.1',
    () => console.log(`widget example on http://127.0.0.1:${port}/?user=alice`),
  );
}
