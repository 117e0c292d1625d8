import type { IncomingHttpHeaders } from 'node:http';
import { RequestGate, type RequireTokensOptions } from './request-gate.ts';

/** What the middleware needs of Express's `req` (any Express version; no dependency on its types). */
export interface ExpressLikeRequest {
  headers: IncomingHttpHeaders;
}

/** What the middleware needs of Express's `res`: a Node ServerResponse with Express's helpers. */
export interface ExpressLikeResponse {
  statusCode: number;
  writableEnded: boolean;
  status(code: number): unknown;
  json(body: unknown): unknown;
  end(...args: unknown[]): unknown;
}

export type ExpressLikeNext = (err?: unknown) => void;

export type ExpressRequireTokensMiddleware<Req> = (req: Req, res: ExpressLikeResponse, next: ExpressLikeNext) => void;

/**
 * Express middleware that makes a route cost a feature's tokens: it reserves the cost before
 * the route runs; when the route ends its answer (it sent it, or passed an error on and Express
 * answered it), the hold is committed (2xx) or released (any other status) before the answer's
 * last bytes go out, so a client that got a 2xx was charged and a balance read right after it
 * shows the charge. The route's work settles the hold, not the client: a client that hangs up
 * while the route runs changes nothing, and work that then completes with 2xx is charged, even
 * past the hold's expiry (as far as the balance goes). A refused account gets 402 with the
 * service's body (`{success: false, code: 'insufficient_tokens', error, account, balance,
 * available, cost}`) and the route does not run; no account gets 401; an account id the
 * service refuses (too long, malformed) gets 400 in JSON; tokenmeter unreachable gets 503. A
 * route that never answers (or a process that dies mid-route) settles nothing: the hold
 * expires after `ttlSeconds` and nothing is charged.
 *
 * @example
 * app.post('/api/calls', expressRequireTokens('outbound_call_single', { client, account: (req) => req.session.userId }), handler);
 */
export function expressRequireTokens<Req extends object = ExpressLikeRequest>(
  feature: string,
  options: RequireTokensOptions<Req> = {},
): ExpressRequireTokensMiddleware<Req> {
  const gate = new RequestGate<Req>(feature, options);
  return (req, res, next) => {
    gate.admit(req).then(
      (admission) => {
        if (!admission.ok) {
          res.status(admission.status);
          res.json(admission.body);
          return;
        }
        const settle = gate.settler(admission.hold);
        // Express has no hook between "the route answered" and "the bytes left", so the
        // final end() waits for the settlement (the pattern compression middleware uses).
        const end = res.end;
        res.end = (...args: unknown[]) => {
          void settle(res.statusCode).then(() => Reflect.apply(end, res, args));
          return res;
        };
        next();
      },
      (err: unknown) => next(err),
    );
  };
}
