import { ERROR_STATUS, type ErrorCode } from '../core/errors.ts';
import type { KeyedDeduction } from './deduct-many.ts';
import { MAX_BATCH_ITEMS } from './deduct-many.ts';
import { TokenMeterApiError } from './errors.ts';
import type { DeductManyResult, DeductOutcome } from './types.ts';

/** Opt-in coalescing of concurrent `deduct` calls into batch requests. */
export interface BatchingOptions {
  /** How long the first waiting call waits for company before its batch is sent (ms). */
  maxWaitMs: number;
  /** A batch is sent at once when it holds this many calls (1 to 1,000). */
  maxItems: number;
}

interface Waiting {
  item: KeyedDeduction;
  resolve: (outcome: DeductOutcome) => void;
  reject: (err: unknown) => void;
}

export function checkBatching(options: BatchingOptions): BatchingOptions {
  const { maxWaitMs, maxItems } = options;
  if (typeof maxWaitMs !== 'number' || !Number.isFinite(maxWaitMs) || maxWaitMs < 0 || maxWaitMs > 60_000) {
    throw new TypeError('TokenMeterClient: batching.maxWaitMs must be a number of ms from 0 to 60000');
  }
  if (!Number.isInteger(maxItems) || maxItems < 1 || maxItems > MAX_BATCH_ITEMS) {
    throw new TypeError(`TokenMeterClient: batching.maxItems must be an integer from 1 to ${MAX_BATCH_ITEMS}`);
  }
  return { maxWaitMs, maxItems };
}

/**
 * Collects `deduct` calls made within `maxWaitMs` of the first (or until `maxItems`) and sends
 * them as one batch request. Each call already has its key, so the batch's retries resend it
 * with that key. Each caller gets what `deduct` would have given it: the charge or the 402
 * refusal as a value, any other answer for its item thrown as a TokenMeterApiError.
 */
export class DeductCoalescer {
  readonly #send: (items: KeyedDeduction[]) => Promise<DeductManyResult[]>;
  readonly #options: BatchingOptions;
  #waiting: Waiting[] = [];
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(send: (items: KeyedDeduction[]) => Promise<DeductManyResult[]>, options: BatchingOptions) {
    this.#send = send;
    this.#options = options;
  }

  deduct(item: KeyedDeduction): Promise<DeductOutcome> {
    return new Promise<DeductOutcome>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      if (this.#waiting.length >= this.#options.maxItems) this.#flush();
      else this.#timer ??= setTimeout(() => this.#flush(), this.#options.maxWaitMs);
    });
  }

  #flush(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    const batch = this.#waiting.splice(0);
    if (batch.length > 0) void this.#run(batch);
  }

  /**
   * Sends a batch; each caller gets its item's result. An item the service refuses by name (400
   * or 404 naming `deductions[i]`) is that item's result (`sendDeductions` sends the rest again),
   * so its caller gets the refusal `deduct` would have given it. A failure of the whole batch
   * reaches every caller of the batch.
   */
  async #run(batch: Waiting[]): Promise<void> {
    let results: DeductManyResult[];
    try {
      results = await this.#send(batch.map((w) => w.item));
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => {
      settle(w, results[i]);
    });
  }
}

function settle(w: Waiting, result: DeductManyResult | undefined): void {
  if (result === undefined) {
    w.reject(new TokenMeterApiError(502, 'invalid_response', 'tokenmeter answered no result for the item', null));
    return;
  }
  const { idempotency_key: _key, ...outcome } = result;
  if (outcome.ok || outcome.code === 'insufficient_tokens') {
    w.resolve(outcome as DeductOutcome);
    return;
  }
  const { ok: _ok, ...body } = outcome;
  const status = ERROR_STATUS[outcome.code as ErrorCode] ?? 500;
  w.reject(new TokenMeterApiError(status, outcome.code, outcome.error, body));
}
