import type { FastifyInstance, FastifyRequest } from 'fastify';
import { requireQuantity } from '../../core/amounts.ts';
import { type Catalog, findFeature } from '../../core/catalog.ts';
import { isTokenmeterError, TokenmeterError } from '../../core/errors.ts';
import { namedItemError, optionalKey } from '../../ledger/inputs.ts';
import type { DeductInput } from '../../ledger/types.ts';
import { errorJson, type JsonObject } from '../../ledger/wire.ts';
import { deductAnswer } from '../deduct-answer.ts';
import type { AppContext } from '../options.ts';
import { actingAccount } from '../principal.ts';
import * as s from '../schemas.ts';

/** Room for 1,000 items with 255-character keys and 128-character account ids, with margin. */
export const BATCH_BODY_LIMIT = 512 * 1024;

interface BatchItem {
  account: string;
  feature: string;
  quantity?: number;
  idempotency_key?: string;
}

/**
 * `POST /api/tokens/deduct/batch`: many deductions in one request, for apps that meter many
 * uses at once. The request is validated whole before anything is queued (one malformed item:
 * 400 naming it, nothing charged); then every item is handed to the ledger in order, in the
 * same turn, so they join group commit like concurrent single deductions (a repeated key
 * replays the first), and each gets exactly the answer the single route would have sent
 * (`ledger.deductMany`: where the writer has a thread of its own, one message there and back;
 * should that thread die mid-request, no item's outcome is known and the request is 503 as a
 * whole: a retry with the same keys replays what was charged and charges the rest).
 */
export async function deductBatchRoutes(app: FastifyInstance, deps: AppContext): Promise<void> {
  const { ledger } = deps;

  app.post<{ Body: { deductions: BatchItem[] } }>(
    '/api/tokens/deduct/batch',
    {
      config: { access: ['app', 'admin'] },
      // Authentication runs before the body is read, so only a backend key can make the
      // service hold a body this large (see slow-clients.ts).
      bodyLimit: BATCH_BODY_LIMIT,
      attachValidation: true,
      schema: {
        tags: ['tokens'],
        summary: 'Charge 1 to 1,000 feature uses; one result per item, in order, each as /api/tokens/deduct answers it',
        body: s.deductBatch,
      },
    },
    async (request) => {
      if (request.validationError) throw itemValidationError(request.validationError);
      if (request.headers['idempotency-key'] !== undefined) {
        throw new TokenmeterError(
          'invalid_request',
          'idempotency-key: the batch route takes no Idempotency-Key header; give each item its idempotency_key',
          'idempotency-key',
        );
      }
      const inputs = request.body.deductions.map((item, i) => validItem(request, ledger.catalog, item, i));
      const settled = await ledger.deductMany(inputs);
      let answered = 0;
      let firstFailure: unknown = null;
      const results: JsonObject[] = settled.map((s, i) => {
        if (s.status === 'fulfilled') {
          answered++;
          return deductAnswer(deps.metrics, (inputs[i] as DeductInput).feature, s.value).body;
        }
        firstFailure ??= s.reason;
        return itemError(request, s.reason);
      });
      // Nothing was carried out (the queue was full, the store is down): the request as a whole
      // is unavailable, and a client retries it whole with the same keys.
      if (answered === 0) throw firstFailure;
      return { success: true, results };
    },
  );
}

/** The engine's own checks, run on every item before any is queued; the error names the item. */
function validItem(request: FastifyRequest, catalog: Catalog, item: BatchItem, index: number): DeductInput {
  try {
    const key = optionalKey(item.idempotency_key, 'idempotency_key');
    return {
      account: actingAccount(request, item.account),
      feature: findFeature(catalog, item.feature).id,
      quantity: requireQuantity(item.quantity),
      ...(key === null ? {} : { idempotencyKey: key }),
    };
  } catch (err) {
    throw namedItemError(err, index);
  }
}

/** An item the service could not carry out (unavailable: not queued, or the store failed). */
function itemError(request: FastifyRequest, err: unknown): JsonObject {
  if (!isTokenmeterError(err)) request.log.error({ err }, 'a batch item failed');
  return errorJson(err);
}

/** A schema failure as the single route names it, with the item's index: `deductions[3].quantity`. */
function itemValidationError(err: { validation?: unknown }): TokenmeterError {
  const first = Array.isArray(err.validation) ? (err.validation[0] as AjvLikeError | undefined) : undefined;
  const path = (first?.instancePath ?? '')
    .split('/')
    .filter(Boolean)
    .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
    .join('')
    .replace(/^\./, '');
  const extra =
    first?.params && typeof first.params === 'object' && 'additionalProperty' in first.params
      ? String(first.params.additionalProperty)
      : '';
  const field = [path, extra].filter(Boolean).join('.') || 'body';
  const message = extra ? 'is not a known field' : (first?.message ?? 'is invalid');
  return new TokenmeterError('invalid_request', `${field}: ${message}`, field);
}

interface AjvLikeError {
  instancePath?: string;
  message?: string;
  params?: unknown;
}
