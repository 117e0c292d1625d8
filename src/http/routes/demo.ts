import type { FastifyInstance } from 'fastify';
import { prepareDemoAccount } from '../demo-accounts.ts';
import type { AppContext } from '../options.ts';
import { actingAccount } from '../principal.ts';
import * as s from '../schemas.ts';
import { setSessionCookie } from './sessions.ts';

/**
 * Demo mode only: sign the browser in as any account, and the demo app's own per-account
 * prerequisite ("CRM connected", as the seed's copilot required). The page itself is the web
 * front end's copilot, served at `/` by the web routes. Never registered outside --demo.
 */
export async function demoRoutes(app: FastifyInstance, deps: AppContext): Promise<void> {
  // Demo state, not billing state: kept in memory, so a restart connects every CRM again.
  const crmConnected = new Map<string, boolean>();
  const settingsOf = (account: string) => ({
    success: true,
    account,
    crm_connected: crmConnected.get(account) ?? true,
  });

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
      await prepareDemoAccount(deps.ledger, request.query.account);
      const issued = await deps.sessions.issue(request.query.account);
      setSessionCookie(reply, issued.token, issued.expiresAt, deps.clock.now());
      return reply.redirect('/', 303);
    },
  );

  app.get(
    '/demo/settings',
    {
      config: { access: ['user'] },
      schema: { tags: ['demo'], summary: 'Demo mode: the demo app’s own settings for the signed-in account' },
    },
    async (request) => settingsOf(actingAccount(request, undefined)),
  );

  app.put<{ Body: { crm_connected: boolean } }>(
    '/demo/settings',
    {
      config: { access: ['user'] },
      schema: {
        tags: ['demo'],
        summary: 'Demo mode: turn the demo app’s own prerequisite (CRM connected) on or off',
        body: s.closed({ crm_connected: { type: 'boolean' } }, ['crm_connected']),
      },
    },
    async (request) => {
      const account = actingAccount(request, undefined);
      crmConnected.set(account, request.body.crm_connected);
      return settingsOf(account);
    },
  );
}
