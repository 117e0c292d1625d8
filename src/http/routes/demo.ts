import type { FastifyInstance } from 'fastify';
import type { AppContext } from '../options.ts';
import * as s from '../schemas.ts';
import { demoPage } from './demo-page.ts';
import { setSessionCookie } from './sessions.ts';

/** Demo mode only: sign the browser in as any account. Never registered outside --demo. */
export async function demoRoutes(app: FastifyInstance, deps: AppContext): Promise<void> {
  const page = demoPage([...deps.ledger.catalog.features.values()]);
  app.get('/', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(page),
  );

  app.get<{ Querystring: { account: string } }>(
    '/demo/login',
    {
      schema: {
        tags: ['demo'],
        summary: 'Demo mode: sign in as an account (session cookie) and go to /',
        querystring: s.closed({ account: s.accountId }, ['account']),
      },
    },
    async (request, reply) => {
      const issued = await deps.sessions.issue(request.query.account);
      setSessionCookie(reply, issued.token, issued.expiresAt, deps.clock.now());
      return reply.redirect('/', 303);
    },
  );
}
