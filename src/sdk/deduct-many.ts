import { apiError, isObject } from './answer-error.ts';
import { TokenMeterConnectionError } from './errors.ts';
import type { ApiAnswer, ApiRequest, HttpTransport } from './http-transport.ts';
import { newIdempotencyKey } from './idempotency-key.ts';
import type { DeductManyResult, DeductRequest } from './types.ts';

/** Most items the service takes in one `POST /api/tokens/deduct/batch`. */
export const MAX_BATCH_ITEMS = 1000;

/** An item with the key every attempt sends it with. */
export type KeyedDeduction = DeductRequest & { idempotency_key: string };

/** Gives every item a key before anything is sent, so a retry can never charge an item twice. */
export function withKeys(items: readonly DeductRequest[]): KeyedDeduction[] {
  return items.map((item) => ({ ...item, idempotency_key: item.idempotency_key ?? newIdempotencyKey() }));
}

/**
 * Sends keyed items through the batch route, 1,000 per request, and answers one result per
 * item in order. A lost answer or a 503 resends the request with the same keys; items answered
 * `unavailable` are sent again, alone, with their keys (each round counts against the client's
 * retries). Throws only when no item of a request got an answer: a refused request (400, 401,
 * 403, 413) or a service that never answered; once some did, items still unanswered after the
 * retries are `unavailable` results, safe to retry later with their keys.
 */
export async function sendDeductions(
  transport: HttpTransport,
  items: readonly KeyedDeduction[],
): Promise<DeductManyResult[]> {
  const results: DeductManyResult[] = [];
  for (let start = 0; start < items.length; start += MAX_BATCH_ITEMS) {
    results.push(...(await sendChunk(transport, items.slice(start, start + MAX_BATCH_ITEMS))));
  }
  return results;
}

async function sendChunk(transport: HttpTransport, items: readonly KeyedDeduction[]): Promise<DeductManyResult[]> {
  const results: (DeductManyResult | undefined)[] = new Array(items.length);
  let answered = false;

  const requestFor = (indices: readonly number[]): ApiRequest => ({
    method: 'POST',
    path: '/api/tokens/deduct/batch',
    body: { deductions: indices.map((i) => items[i]) },
    retry: 'safe',
    retryPart: (answer) => {
      const got = resultsOf(answer, indices.length);
      if (got === null) return null;
      answered = true;
      const again: number[] = [];
      got.forEach((result, n) => {
        const index = indices[n];
        const item = index === undefined ? undefined : items[index];
        if (index === undefined || item === undefined) return;
        results[index] = toResult(result, item.idempotency_key);
        if (result.code === 'unavailable') again.push(index);
      });
      return again.length > 0 ? requestFor(again) : null;
    },
  });

  let final: ApiAnswer;
  try {
    final = await transport.send(requestFor(items.map((_, i) => i)));
  } catch (err) {
    if (!answered) throw err;
    const message = err instanceof TokenMeterConnectionError ? err.message : String(err);
    return fill(results, items, { success: false, code: 'unavailable', error: message });
  }
  if (!answered) throw apiError(final);
  // Items of a later round that got no answer keep no result of their own yet.
  const why = final.status === 200 ? 'tokenmeter could not take the item' : apiError(final).message;
  return fill(results, items, { success: false, code: 'unavailable', error: why });
}

/** Items with no result yet (the last round failed) get `unavailable`: they may be retried with their keys. */
function fill(
  results: (DeductManyResult | undefined)[],
  items: readonly KeyedDeduction[],
  failure: { success: false; code: 'unavailable'; error: string },
): DeductManyResult[] {
  return items.map((item, i) => results[i] ?? { ...failure, ok: false, idempotency_key: item.idempotency_key });
}

function resultsOf(answer: ApiAnswer, expected: number): Record<string, unknown>[] | null {
  const body = answer.body;
  if (answer.status !== 200 || !answer.json || !isObject(body) || body.success !== true) return null;
  const list = body.results;
  if (!Array.isArray(list) || list.length !== expected || !list.every(isObject)) return null;
  return list as Record<string, unknown>[];
}

function toResult(result: Record<string, unknown>, key: string): DeductManyResult {
  return { ...result, ok: result.success === true, idempotency_key: key } as DeductManyResult;
}
