import { TokenMeterClient } from './client.ts';
import { TokenMeterApiError, TokenMeterConnectionError } from './errors.ts';
import type { ErrorBody, HoldResponse, InsufficientTokensBody } from './types.ts';

/**
 * The shared core of the Express and Fastify `requireTokens`: the same reserve -> run the route
 * -> commit or release as the service's token gate, done over HTTP with a TokenMeterClient.
 */

export interface RequireTokensOptions<Req> {
  /** A client with an app key. Default: one built from TOKENMETER_URL and TOKENMETER_API_KEY. */
  client?: TokenMeterClient;
  /**
   * The account a request is charged to. Default: `req.user.id` (Passport, @fastify/jwt).
   * Returning undefined answers 401: a route that costs tokens needs a signed-in account.
   */
  account?: (req: Req) => string | undefined | Promise<string | undefined>;
  /** Units of the feature one request uses (the cost is the feature's cost times this). Default 1. */
  quantity?: number | ((req: Req) => number | Promise<number>);
  /**
   * How long the hold reserves the cost while the route runs; default the service's 300 s. A
   * route that never answers (a crash) charges nothing; one that answers 2xx later is still charged.
   */
  ttlSeconds?: number;
  /** Told how each hold was settled; settlement failures go to console.error when this is absent. */
  onSettled?: (event: SettleEvent) => void;
}

/** The hold a request runs under; the route can read it with `holdOf(req)`. */
export interface GateHold {
  account: string;
  feature: string;
  hold_id: number;
  amount: number;
  expires_at: string;
}

/**
 * How a hold ended once the route's answer was final: committed (the route answered 2xx, even
 * if its client had gone), released (any other status), or failed (tokenmeter did not settle
 * it; the hold then expires by itself and nothing is charged).
 */
export type SettleEvent =
  | { outcome: 'committed' | 'released'; hold: GateHold; status: number; response: HoldResponse }
  | { outcome: 'failed'; hold: GateHold; status: number; error: unknown };

/** Either the request may go on under a hold, or it gets this answer (400, 401, 402, 503). */
export type Admission =
  | { ok: true; hold: GateHold }
  | { ok: false; status: number; body: ErrorBody | InsufficientTokensBody };

const holds = new WeakMap<object, GateHold>();

/** The hold the current request runs under, inside a route protected by requireTokens. */
export function holdOf(req: object): GateHold | undefined {
  return holds.get(req);
}

/** `req.user.id` as a string, when there is one. */
export function userIdOf(req: object): string | undefined {
  const user = 'user' in req ? req.user : undefined;
  if (typeof user !== 'object' || user === null || !('id' in user)) return undefined;
  const id = user.id;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

function clientFromEnv(): TokenMeterClient {
  const baseUrl = process.env.TOKENMETER_URL;
  const apiKey = process.env.TOKENMETER_API_KEY;
  if (!baseUrl || !apiKey) {
    throw new TypeError('requireTokens: pass options.client, or set TOKENMETER_URL and TOKENMETER_API_KEY');
  }
  return new TokenMeterClient({ baseUrl, apiKey });
}

function unavailable(err: unknown): boolean {
  return err instanceof TokenMeterConnectionError || (err instanceof TokenMeterApiError && err.status === 503);
}

export class RequestGate<Req extends object> {
  readonly #feature: string;
  readonly #options: RequireTokensOptions<Req>;
  readonly #client: TokenMeterClient;

  constructor(feature: string, options: RequireTokensOptions<Req>) {
    this.#feature = feature;
    this.#options = options;
    // Built now, so a missing configuration fails at startup rather than on the first request.
    this.#client = options.client ?? clientFromEnv();
  }

  /** Reserves the feature's cost for this request, or says what to answer instead. */
  async admit(req: Req): Promise<Admission> {
    const account = await (this.#options.account ?? userIdOf)(req);
    if (account === undefined || account === '') {
      return {
        ok: false,
        status: 401,
        body: { success: false, code: 'unauthorized', error: 'Sign in to use this feature' },
      };
    }
    const q = this.#options.quantity;
    const quantity = typeof q === 'function' ? await q(req) : q;
    const ttl = this.#options.ttlSeconds;
    let reserved: Awaited<ReturnType<TokenMeterClient['reserve']>>;
    try {
      reserved = await this.#client.reserve({
        account,
        feature: this.#feature,
        ...(quantity === undefined ? {} : { quantity }),
        ...(ttl === undefined ? {} : { ttl_seconds: ttl }),
      });
    } catch (err) {
      // An account id the service refuses is the request's fault: answered like any bad request,
      // in JSON, rather than as an error the framework turns into its own (HTML) page.
      if (err instanceof TokenMeterApiError && err.code === 'invalid_request') {
        return { ok: false, status: 400, body: { success: false, code: 'invalid_request', error: err.message } };
      }
      // Fail closed: without a hold the route does not run, so nothing is given away.
      if (!unavailable(err)) throw err;
      const error = 'The token service cannot be reached; nothing was charged. Try again shortly.';
      return { ok: false, status: 503, body: { success: false, code: 'unavailable', error } };
    }
    if (!reserved.ok) {
      const { code, error, balance, available, cost } = reserved;
      return {
        ok: false,
        status: 402,
        body: { success: false, code, error, account: reserved.account, balance, available, cost },
      };
    }
    const hold = {
      account,
      feature: this.#feature,
      hold_id: reserved.hold_id,
      amount: reserved.amount,
      expires_at: reserved.expires_at,
    };
    holds.set(req, hold);
    return { ok: true, hold };
  }

  /**
   * The one settlement of a request's hold, by the status of the route's final answer: commit
   * for 2xx, release for any other. Whether the client is still there does not matter: the work
   * was done or not either way. Calling it again returns the first settlement. It never
   * rejects: a failure is reported to `onSettled` (or logged) and the hold then expires by
   * itself, charging nothing.
   */
  settler(hold: GateHold): (status: number) => Promise<void> {
    let settling: Promise<void> | undefined;
    return (status) => {
      settling ??= this.#settle(hold, status);
      return settling;
    };
  }

  async #settle(hold: GateHold, status: number): Promise<void> {
    const commit = status >= 200 && status < 300;
    try {
      const response = commit
        ? await this.#client.commitHold(hold.hold_id, hold.amount)
        : await this.#client.releaseHold(hold.hold_id);
      this.#report({ outcome: commit ? 'committed' : 'released', hold, status, response });
    } catch (error) {
      this.#report({ outcome: 'failed', hold, status, error });
    }
  }

  #report(event: SettleEvent): void {
    const listener = this.#options.onSettled;
    if (listener) {
      try {
        listener(event);
      } catch (err) {
        console.error('tokenmeter requireTokens: onSettled threw', err);
      }
    } else if (event.outcome === 'failed') {
      console.error(
        `tokenmeter requireTokens: hold ${event.hold.hold_id} was not settled; it will expire`,
        event.error,
      );
    }
  }
}
