import type { FastifyInstance } from 'fastify';
import { findFeature } from '../../core/catalog.ts';
import { TokenmeterError } from '../../core/errors.ts';
import { errorBody } from '../errors.ts';
import { handlerFor } from '../feature-handlers.ts';
import type { AppContext } from '../options.ts';
import { actingAccount } from '../principal.ts';
import * as s from '../schemas.ts';
import { idempotencyKeyOf, sendRefusal } from './tokens.ts';

/**
 * The token gate: reserve the feature's cost for its `hold_ttl_seconds`, run its handler, then
 * settle by what the handler did once its answer is final: commit when it returned (even past
 * the hold's expiry: completed work is charged as far as the balance goes), release when it
 * threw. Whether the caller is still connected changes nothing. A crash or a handler that never
 * answers leaves a hold that expires, not a charge. A feature with no handler here (none passed
 * in, no `handler_url`, not demo mode) is 404 and reserves nothing.
 */
export async function featureRoutes(app: FastifyInstance, deps: AppContext): Promise<void> {
  const { ledger } = deps;

  app.post<{ Params: { feature: string }; Body: { account?: string; input?: unknown; idempotency_key?: string } }>(
    '/api/features/:feature/run',
    {
      config: { access: ['user', 'app', 'admin'] },
      schema: {
        tags: ['features'],
        summary: 'Run a token-costing feature behind the token gate (402 when refused)',
        params: { type: 'object', properties: { feature: s.featureId }, required: ['feature'] },
        headers: s.idempotencyHeaders,
        body: s.closed({ account: s.accountId, input: {}, idempotency_key: s.idempotencyKey }),
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      const feature = findFeature(ledger.catalog, request.params.feature);
      const account = actingAccount(request, body.account);
      const handler = handlerFor(feature, {
        demo: deps.options.demo,
        ...(deps.features ? { features: deps.features } : {}),
      });
      if (!handler) {
        throw new TokenmeterError('not_found', `${feature.name} has no handler on this service; nothing was charged`);
      }
      const count = (outcome: 'charged' | 'replayed' | 'refused' | 'conflict') =>
        deps.metrics.deductions.inc({ feature: feature.id, outcome });
      const key = idempotencyKeyOf(body.idempotency_key, request.headers['idempotency-key']);
      const scope = key === undefined ? null : { account, operation: 'run', key, fingerprint: feature.id };
      if (scope) {
        const prior = await ledger.recallResponse(scope);
        if (prior.kind === 'replay') {
          count('replayed');
          return { ...(prior.response as Record<string, unknown>), replayed: true };
        }
        if (prior.kind === 'conflict') {
          count('conflict');
          throw new TokenmeterError('idempotency_conflict', 'That idempotency key was used to run another feature');
        }
      }
      const hold = await ledger.reserve({
        account,
        feature: feature.id,
        ttlSeconds: feature.holdTtlSeconds,
        ...(key === undefined ? {} : { idempotencyKey: key, keyScope: 'run_hold' as const }),
      });
      if (!hold.ok) {
        count('refused');
        return sendRefusal(reply, hold);
      }
      if (hold.replayed) {
        // The key's hold exists but no final answer was recorded: the run is still going, or it
        // ended without one (its answer was lost after the commit, or it failed).
        const settled = await ledger.getHold(hold.holdId);
        if (settled?.status === 'committed') {
          count('replayed');
          return {
            success: true,
            replayed: true,
            account,
            feature: feature.id,
            cost: settled.charged,
            hold_id: hold.holdId,
          };
        }
        count('conflict');
        throw new TokenmeterError(
          'idempotency_conflict',
          settled?.status === 'active'
            ? 'A run with this idempotency key is still in progress'
            : 'That idempotency key belongs to a run that did not complete',
        );
      }
      let output: unknown;
      try {
        output = await handler({ account, feature: feature.id, input: body.input ?? null, holdId: hold.holdId });
      } catch (err) {
        await ledger.releaseHold(hold.holdId);
        request.log.warn({ err, account, feature: feature.id }, 'feature handler failed; hold released');
        return reply.status(502).send(errorBody('feature_failed', `${feature.name} failed; no tokens were charged`));
      }
      // The work is done: charge it, even if the hold expired meanwhile (as far as the balance goes).
      const committed = await ledger.commitHold(hold.holdId, hold.amount);
      if (!committed.ok) {
        count('conflict');
        return sendRefusal(reply, committed);
      }
      count('charged');
      deps.metrics.tokensCharged.inc({ feature: feature.id }, committed.charged);
      const response = {
        success: true,
        account,
        feature: feature.id,
        quantity: 1,
        cost: committed.charged,
        // From the commit's own transaction, so concurrent writes cannot make it wrong.
        balance_before: committed.balance + committed.charged,
        balance: committed.balance,
        available: committed.available,
        entry_id: committed.entryId,
        result: output as never,
        replayed: false,
      };
      if (scope) await ledger.rememberResponse(scope, response);
      return response;
    },
  );
}
