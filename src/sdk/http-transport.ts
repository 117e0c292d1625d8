import { TokenMeterConnectionError } from './errors.ts';
import { fitsHeader } from './idempotency-key.ts';

/**
 * When a request may be sent again after a failure:
 * - `safe`: on network errors, timeouts and 503. Reads, writes carrying an idempotency key,
 *   and writes whose repetition cannot move tokens twice (settling a hold, issuing a token).
 * - `unsent-only`: on 503 and on failures that prove the request never left (connection
 *   refused, unknown host). For writes without an idempotency key (admin adjust, plan change),
 *   where a lost answer must not turn into a second adjustment.
 */
export type RetryPolicy = 'safe' | 'unsent-only';

export type QueryValue = string | number | undefined;

export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: Record<string, QueryValue>;
  /** Sent as JSON; a request without one sends no body and no content type. */
  body?: object;
  /**
   * The same on every attempt: sent as the `Idempotency-Key` header when a header carries it
   * exactly (printable ASCII, see `fitsHeader`), else as the body's `idempotency_key` (the
   * keyed routes read both alike; fetch would refuse a header beyond Latin-1).
   */
  idempotencyKey?: string;
  retry: RetryPolicy;
  /**
   * Called with each answer that is not a retried 503: a request to send as the next retry
   * (it counts against `retries`, with the same backoff), or null when the answer is final.
   * The batch route uses it to send again only the items answered `unavailable`.
   */
  retryPart?: (answer: ApiAnswer) => ApiRequest | null;
  /**
   * Called for each attempt that may have reached the service without a definite answer: a
   * failure other than one proving nothing was sent (a lost answer, a timeout), or a 503.
   */
  onUncertain?: () => void;
}

/** An HTTP answer: any status. The body is the parsed JSON, or the raw text when it was not JSON. */
export interface ApiAnswer {
  status: number;
  body: unknown;
  json: boolean;
}

export interface TransportOptions {
  baseUrl: string;
  /** API key or user token, sent as `Authorization: Bearer`. */
  credential: string | undefined;
  fetch: typeof fetch;
  retries: number;
  timeoutMs: number;
  retryDelayMs: number;
}

// Failures where the connection never opened, so the request cannot have been processed.
const UNSENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string'
    ? err.code
    : undefined;
}

/** True when undici's "fetch failed" was caused by a connection that never opened. */
export function neverSent(err: unknown): boolean {
  const cause = typeof err === 'object' && err !== null && 'cause' in err ? err.cause : undefined;
  const code = errorCode(cause);
  if (code !== undefined) return UNSENT_CODES.has(code);
  // Happy eyeballs: one failure per address tried.
  if (cause instanceof AggregateError && cause.errors.length > 0) {
    return cause.errors.every((e: unknown) => UNSENT_CODES.has(errorCode(e) ?? ''));
  }
  return false;
}

/** A request as every attempt sends it. */
interface Prepared {
  url: string;
  init: RequestInit;
}

function delay(ms: number): Promise<void> {
  return ms <= 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sends one API request with the global `fetch`, retrying as its policy allows. */
export class HttpTransport {
  readonly #options: TransportOptions;
  readonly #base: string;

  constructor(options: TransportOptions) {
    this.#options = options;
    this.#base = options.baseUrl.replace(/\/+$/, '');
  }

  /**
   * Answers with the final response (any status); throws TokenMeterConnectionError when none
   * came. A request fetch would refuse before sending anything (a header value beyond Latin-1, a
   * body JSON cannot encode) throws a TypeError at once: nothing was sent, so it is neither
   * retried nor a connection error.
   */
  async send(request: ApiRequest): Promise<ApiAnswer> {
    const { retries, retryDelayMs } = this.#options;
    let lastError: unknown;
    let current = request;
    let prepared = this.#prepare(current);
    for (let attempt = 1; ; attempt++) {
      if (attempt > 1) await delay(retryDelayMs * 2 ** (attempt - 2) * (1 + Math.random()));
      let answer: ApiAnswer;
      try {
        answer = await this.#attempt(prepared);
      } catch (err) {
        lastError = err;
        if (!neverSent(err)) current.onUncertain?.();
        const retryable = current.retry === 'safe' || neverSent(err);
        if (retryable && attempt <= retries) continue;
        const reason = err instanceof Error ? err.message : String(err);
        throw new TokenMeterConnectionError(
          `tokenmeter did not answer ${request.method} ${request.path} after ${attempt} attempt(s): ${reason}`,
          attempt,
          lastError,
        );
      }
      if (answer.status === 503) current.onUncertain?.();
      if (answer.status === 503 && attempt <= retries) continue;
      const next = current.retryPart?.(answer) ?? null;
      if (next === null || attempt > retries) return answer;
      current = next;
      prepared = this.#prepare(current);
    }
  }

  /** What every attempt of `request` sends, built once, outside the retries. */
  #prepare(request: ApiRequest): Prepared {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#options.credential !== undefined) headers.authorization = `Bearer ${this.#options.credential}`;
    let body = request.body;
    const key = request.idempotencyKey;
    if (key !== undefined) {
      if (fitsHeader(key)) headers['idempotency-key'] = key;
      else body = { ...body, idempotency_key: key };
    }
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      // fetch's own checks, made here where a failure cannot pass for a lost connection.
      new Headers(headers);
      return {
        url: this.#url(request),
        init: { method: request.method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) },
      };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new TypeError(`tokenmeter: ${request.method} ${request.path} cannot be sent: ${reason}`, { cause: err });
    }
  }

  async #attempt(prepared: Prepared): Promise<ApiAnswer> {
    const response = await this.#options.fetch(prepared.url, {
      ...prepared.init,
      signal: AbortSignal.timeout(this.#options.timeoutMs),
    });
    // Reading the body is part of the attempt: a connection cut mid-body is a lost answer.
    const text = await response.text();
    try {
      return { status: response.status, body: text === '' ? null : JSON.parse(text), json: true };
    } catch {
      return { status: response.status, body: text, json: false };
    }
  }

  #url(request: ApiRequest): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(request.query ?? {})) {
      if (value !== undefined) params.set(name, String(value));
    }
    const search = params.size > 0 ? `?${params.toString()}` : '';
    return `${this.#base}${request.path}${search}`;
  }
}
