import { apiError, isObject } from './answer-error.ts';
import { TokenMeterApiError } from './errors.ts';
import type { ApiAnswer, ApiRequest, HttpTransport } from './http-transport.ts';
import { newIdempotencyKey } from './idempotency-key.ts';
import type { DeductItemError, DeductManyResult, DeductRequest } from './types.ts';

/** Most items the service takes in one `POST /api/tokens/deduct/batch`. */
export const MAX_BATCH_ITEMS = 1000;

/** The batch route's body limit (`BATCH_BODY_LIMIT`, src/http/routes/deduct-batch.ts), in bytes. */
export const MAX_BATCH_BYTES = 512 * 1024;

const BATCH_PATH = '/api/tokens/deduct/batch';

/** An item with the key every attempt sends it with. */
export type KeyedDeduction = DeductRequest & { idempotency_key: string };

/** Gives every item a key before anything is sent, so a retry can never charge an item twice. */
export function withKeys(items: readonly DeductRequest[]): KeyedDeduction[] {
  return items.map((item) => ({ ...item, idempotency_key: item.idempotency_key ?? newIdempotencyKey() }));
}

/** How `sendDeductions` ends when its first request fails whole. */
export interface SendOptions {
  /**
   * `deductMany` (false): throw only when that request surely charged nothing (every attempt
   * was refused, or never sent); when it may have (an answer was lost, a 503), answer
   * `unavailable` results with the keys instead. The coalescer (true): throw its failure, as
   * `deduct` would have.
   */
  throwUncertain: boolean;
}

/**
 * Sends keyed items through the batch route, in requests of at most 1,000 items and 512 KiB,
 * one after another, and answers one result per item in order.
 *
 * Within a request: a lost answer or a 503 resends it with the same keys; items answered
 * `unavailable` are sent again, alone, with their keys (each round counts against the client's
 * retries), and those still unanswered after the retries keep their `unavailable` result. A
 * request refused whole for one item it names (an unknown feature: 404 naming
 * `deductions[i].feature`; a malformed item: 400) charged nothing, whichever attempt was
 * refused (the check is the same for each): that item gets the refusal as its result (an
 * unknown feature: every item of the request with that feature), and the rest are sent again.
 *
 * A request that fails whole otherwise (no answer or 503 after the retries, 401, 403, 413, 429,
 * 500) throws only while nothing may have been charged: no earlier request was answered item by
 * item, and no attempt of this one may have reached the service unanswered (see SendOptions).
 * Otherwise nothing known is dropped: the failed request's items and every later item (not
 * sent) get a result for the failure, `unavailable` when the outcome is unknown (or tokenmeter
 * gave no answer of its own), else the service's code and message. Each may be retried with its
 * key, which replays what was charged and charges the rest.
 */
export async function sendDeductions(
  transport: HttpTransport,
  items: readonly KeyedDeduction[],
  options: SendOptions,
): Promise<DeductManyResult[]> {
  const results: (DeductManyResult | undefined)[] = new Array(items.length);
  const call = { answered: false };
  for (const indices of requests(items)) {
    const failed = await sendRequest(transport, items, indices, results, call);
    if (failed === null) continue;
    if (!call.answered && (options.throwUncertain || !failed.uncertain)) throw failed.failure;
    const result = failed.uncertain ? unknownOutcome(failed.failure) : failureResult(failed.failure);
    return items.map((item, i) => results[i] ?? { ...result, ok: false, idempotency_key: item.idempotency_key });
  }
  // Every item has a result by now; the fallback only keeps the type honest.
  const lost = unknownOutcome(new Error('tokenmeter answered no result for the item'));
  return items.map((item, i) => results[i] ?? { ...lost, ok: false, idempotency_key: item.idempotency_key });
}

/** The items' indices, cut into requests the batch route takes: 1,000 items, its body limit. */
function* requests(items: readonly KeyedDeduction[]): Generator<number[]> {
  const empty = utf8Length(JSON.stringify({ deductions: [] }));
  let start = 0;
  while (start < items.length) {
    const indices: number[] = [];
    let bytes = empty;
    for (let i = start; i < items.length && indices.length < MAX_BATCH_ITEMS; i++) {
      const size = utf8Length(JSON.stringify(items[i])) + (indices.length > 0 ? 1 : 0);
      if (indices.length > 0 && bytes + size > MAX_BATCH_BYTES) break;
      bytes += size;
      indices.push(i);
    }
    yield indices;
    start += indices.length;
  }
}

/**
 * Sends one request's items until each has a result; answers null, or the failure of a request
 * that got no answer item by item (its items have no result then) and whether an attempt of it
 * may have reached the service unanswered.
 */
async function sendRequest(
  transport: HttpTransport,
  items: readonly KeyedDeduction[],
  indices: readonly number[],
  results: (DeductManyResult | undefined)[],
  call: { answered: boolean },
): Promise<{ failure: unknown; uncertain: boolean } | null> {
  let pending = indices;
  while (pending.length > 0) {
    let answered = false;
    let uncertain = false;
    const requestFor = (sent: readonly number[]): ApiRequest => ({
      method: 'POST',
      path: BATCH_PATH,
      body: { deductions: sent.map((i) => items[i]) },
      retry: 'safe',
      onUncertain: () => {
        uncertain = true;
      },
      retryPart: (answer) => {
        const got = resultsOf(answer, sent.length);
        if (got === null) return null;
        answered = true;
        call.answered = true;
        const again: number[] = [];
        got.forEach((result, n) => {
          const index = sent[n];
          const item = index === undefined ? undefined : items[index];
          if (index === undefined || item === undefined) return;
          results[index] = toResult(result, item.idempotency_key);
          if (result.code === 'unavailable') again.push(index);
        });
        return again.length > 0 ? requestFor(again) : null;
      },
    });

    let failure: unknown;
    try {
      const final = await transport.send(requestFor(pending));
      // Items a later round did not get an answer for keep their `unavailable` result.
      if (answered) return null;
      failure = apiError(final);
    } catch (err) {
      if (answered) return null;
      failure = err;
    }
    const refused = namedItems(failure, items, pending);
    if (refused === null) return { failure, uncertain };
    for (const index of refused.indices) {
      const item = items[index];
      if (item !== undefined) results[index] = { ...refused.result, ok: false, idempotency_key: item.idempotency_key };
    }
    pending = pending.filter((index) => !refused.indices.has(index));
  }
  return null;
}

/**
 * The items a whole-request refusal is about, and the result each gets: the item it names
 * (`deductions[3].quantity: ...`, as `deduct` refuses it alone: `quantity: ...`), and for an
 * unknown feature every item sent with that feature. Null for any other failure.
 */
function namedItems(
  failure: unknown,
  items: readonly KeyedDeduction[],
  sent: readonly number[],
): { indices: Set<number>; result: DeductItemError } | null {
  if (!(failure instanceof TokenMeterApiError) || (failure.status !== 400 && failure.status !== 404)) return null;
  if (failure.code === 'invalid_response') return null;
  const match = /^deductions\[(\d+)\]\.?/.exec(failure.message);
  const culprit = sent[Number(match?.[1])];
  const item = culprit === undefined ? undefined : items[culprit];
  if (match === null || culprit === undefined || item === undefined) return null;
  const rest = failure.message.slice(match[0].length);
  const error = rest.startsWith(':') ? `body${rest}` : rest;
  const indices =
    failure.code === 'unknown_feature'
      ? new Set(sent.filter((i) => items[i]?.feature === item.feature))
      : new Set([culprit]);
  const body = isObject(failure.body) ? failure.body : {};
  return { indices, result: { ...body, success: false, code: failure.code, error } };
}

/** What an item gets when its request was refused whole: the service's code, or `unavailable` without one. */
function failureResult(failure: unknown): DeductItemError {
  if (failure instanceof TokenMeterApiError && failure.code !== 'invalid_response') {
    return { success: false, code: failure.code, error: failure.message };
  }
  return unknownOutcome(failure);
}

/** What an item gets when whether it was charged is not known: retried with its key, it settles. */
function unknownOutcome(failure: unknown): DeductItemError {
  return { success: false, code: 'unavailable', error: failure instanceof Error ? failure.message : String(failure) };
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

const UTF8 = new TextEncoder();

/** Bytes of `text` in UTF-8, as the request's body will carry it. */
function utf8Length(text: string): number {
  return UTF8.encode(text).length;
}
