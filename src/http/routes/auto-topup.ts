import type { FastifyInstance } from 'fastify';
import { MONTHLY_LIMIT_MAX, MONTHLY_LIMIT_MIN } from '../../core/auto-topup.ts';
import { autoTopupAnswer, autoTopupJson } from '../auto-topup-json.ts';
import type { AppContext } from '../options.ts';
import { actingAccount } from '../principal.ts';
import * as s from '../schemas.ts';

const ANY = ['user', 'app', 'admin'] as const;

interface AutoTopupBody {
  account?: string;
  enabled: boolean;
  threshold: number;
  package: string;
  monthly_limit: number;
}

const settings = {
  enabled: { type: 'boolean' },
  threshold: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
  package: s.packageId,
  monthly_limit: { type: 'integer', minimum: MONTHLY_LIMIT_MIN, maximum: MONTHLY_LIMIT_MAX },
} as const;
const REQUIRED = ['enabled', 'threshold', 'package', 'monthly_limit'];
const body = s.closed({ account: s.accountId, ...settings }, REQUIRED);
const adminBody = s.closed(settings, REQUIRED);
const idParams = { type: 'object', properties: { id: s.accountId }, required: ['id'] } as const;

/**
 * Automatic top-up settings. Like every payment route, outside the token gate and free: an
 * account at zero or below must be able to turn on what refills it.
 */
export async function autoTopupRoutes(app: FastifyInstance, deps: AppContext): Promise<void> {
  const { ledger } = deps;

  app.get<{ Querystring: { account?: string } }>(
    '/api/payment/auto-topup',
    {
      config: { access: ANY },
      schema: {
        tags: ['payments'],
        summary: 'An account’s automatic top-up: settings, status, saved card, last error',
        querystring: s.closed({ account: s.accountId }),
        response: { 200: autoTopupAnswer },
      },
    },
    async (request) => {
      const account = actingAccount(request, request.query.account);
      return { success: true, auto_topup: autoTopupJson(await ledger.autoTopup.get(account)) };
    },
  );

  app.put<{ Body: AutoTopupBody }>(
    '/api/payment/auto-topup',
    {
      config: { access: ANY },
      schema: {
        tags: ['payments'],
        summary: 'Save automatic top-up settings (409 payment_method_required: enabling needs a saved card)',
        body,
        response: { 200: autoTopupAnswer },
      },
    },
    async (request) => {
      const account = actingAccount(request, request.body.account);
      return { success: true, auto_topup: autoTopupJson(await save(account, request.body)) };
    },
  );

  // The same for the operator's console, under /api/admin (an admin key or the operator session).
  app.get<{ Params: { id: string } }>(
    '/api/admin/accounts/:id/auto-topup',
    {
      config: { access: ['admin'] },
      schema: {
        tags: ['admin'],
        summary: 'An account’s automatic top-up (as GET /api/payment/auto-topup)',
        params: idParams,
        response: { 200: autoTopupAnswer },
      },
    },
    async (request) => ({ success: true, auto_topup: autoTopupJson(await ledger.autoTopup.get(request.params.id)) }),
  );

  app.put<{ Params: { id: string }; Body: Omit<AutoTopupBody, 'account'> }>(
    '/api/admin/accounts/:id/auto-topup',
    {
      config: { access: ['admin'] },
      schema: {
        tags: ['admin'],
        summary: 'Save an account’s automatic top-up (as PUT /api/payment/auto-topup)',
        params: idParams,
        body: adminBody,
        response: { 200: autoTopupAnswer },
      },
    },
    async (request) => ({
      success: true,
      auto_topup: autoTopupJson(await save(request.params.id, request.body)),
    }),
  );

  function save(account: string, b: Omit<AutoTopupBody, 'account'>) {
    return ledger.autoTopup.put({
      account,
      enabled: b.enabled,
      threshold: b.threshold,
      packageId: b.package,
      monthlyLimit: b.monthly_limit,
    });
  }
}
