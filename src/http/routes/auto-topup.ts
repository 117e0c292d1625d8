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

const body = s.closed(
  {
    account: s.accountId,
    enabled: { type: 'boolean' },
    threshold: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
    package: s.packageId,
    monthly_limit: { type: 'integer', minimum: MONTHLY_LIMIT_MIN, maximum: MONTHLY_LIMIT_MAX },
  },
  ['enabled', 'threshold', 'package', 'monthly_limit'],
);

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
      const b = request.body;
      const account = actingAccount(request, b.account);
      const view = await ledger.autoTopup.put({
        account,
        enabled: b.enabled,
        threshold: b.threshold,
        packageId: b.package,
        monthlyLimit: b.monthly_limit,
      });
      return { success: true, auto_topup: autoTopupJson(view) };
    },
  );
}
