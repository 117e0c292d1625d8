import type { FastifyInstance } from 'fastify';
import { errorBody } from '../errors.ts';
import { nextPath } from '../next-path.ts';
import type { AppDeps } from '../options.ts';
import { SESSION_COOKIE } from '../plugins/auth.ts';
import { actingAccount } from '../principal.ts';
import * as s from '../schemas.ts';
import { sessionStartPage, wantsHtml } from './session-start-page.ts';

const HTML = 'text/html; charset=utf-8';

/** User tokens: issued to an app backend for one account, turned into a cookie once. */
export async function sessionRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.post<{ Body: { account: string } }>(
    '/api/sessions',
    {
      config: { access: ['app', 'admin'] },
      schema: {
        tags: ['sessions'],
        summary: 'Issue a short-lived user token scoped to one account',
        body: s.closed({ account: s.accountId }, ['account']),
      },
    },
    async (request) => {
      const account = actingAccount(request, request.body.account);
      const issued = await deps.sessions.issue(account);
      return { success: true, account, token: issued.token, expires_at: new Date(issued.expiresAt).toISOString() };
    },
  );

  // Lets a page know whether to ask for a balance, so a signed-out visit logs no 401.
  app.get(
    '/api/session',
    { schema: { tags: ['sessions'], summary: 'Who the tm_session cookie signs in, if anyone (never 401)' } },
    async (request) => {
      const cookie = request.cookies?.[SESSION_COOKIE];
      const claims = cookie ? await deps.sessions.verify(cookie) : null;
      return { success: true, signed_in: claims !== null, account: claims?.account ?? null };
    },
  );

  app.get<{ Querystring: { token: string; next?: string } }>(
    '/session/start',
    {
      schema: {
        tags: ['sessions'],
        summary: 'Turn a fresh user token into the tm_session cookie (once) and redirect to a local path',
        description:
          'A link that cannot sign in (expired, used, or a next that is not a local path) is answered with a ' +
          'short HTML page when the request accepts text/html and not application/json (a browser), else JSON.',
        querystring: s.closed(
          { token: { type: 'string', maxLength: 1024 }, next: { type: 'string', maxLength: 512 } },
          ['token'],
        ),
      },
    },
    async (request, reply) => {
      // Decided before the token is spent: a bad link must not burn it.
      const next = nextPath(request.query.next);
      const html = wantsHtml(request.headers.accept);
      if (next === null) {
        if (html) return reply.status(400).type(HTML).send(sessionStartPage('bad_next'));
        return reply
          .status(400)
          .send(errorBody('invalid_request', 'next: must be a path on this site, such as /billing'));
      }
      const claims = await deps.sessions.consume(request.query.token);
      if (!claims) {
        if (html) return reply.status(401).type(HTML).send(sessionStartPage('spent'));
        return reply.status(401).send(errorBody('unauthorized', 'This sign-in link is invalid, expired or used'));
      }
      // The link's token is spent; the cookie carries a fresh one with the same expiry.
      const cookie = await deps.sessions.issue(claims.account, claims.expiresAt);
      setSessionCookie(reply, cookie.token, cookie.expiresAt, deps.clock.now());
      return reply.redirect(next, 303);
    },
  );
}

/** Sets the session cookie; `Secure` when the request came over HTTPS (directly or through a trusted proxy). */
export function setSessionCookie(
  reply: {
    setCookie: (name: string, value: string, options: Record<string, unknown>) => unknown;
    request: { protocol: string };
  },
  token: string,
  expiresAt: number,
  now: number,
): void {
  reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: 'lax',
    secure: reply.request.protocol === 'https',
    path: '/',
    maxAge: Math.max(1, Math.floor((expiresAt - now) / 1000)),
  });
}
