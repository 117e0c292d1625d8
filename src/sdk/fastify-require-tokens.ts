import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequestGate, type RequireTokensOptions } from './request-gate.ts';

/** Route options to spread into (or pass as) a Fastify route's options. */
export interface FastifyRequireTokensHooks {
  preHandler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
  onSend: (request: FastifyRequest, reply: FastifyReply, payload: unknown) => Promise<unknown>;
}

/**
 * Fastify route hooks that make a route cost a feature's tokens: `preHandler` reserves the
 * cost before the handler runs; `onSend` commits the hold when the answer is 2xx and releases
 * it otherwise (a thrown error becomes a 5xx, so it is released), before the answer is sent,
 * so a client that got a 2xx was charged. The handler's work settles the hold, not the client:
 * a client that hangs up while the handler runs changes nothing, and work that then completes
 * with 2xx is charged, even past the hold's expiry (as far as the balance goes). A refused
 * account gets 402 with the service's body and the handler does not run; no account gets 401;
 * an account id the service refuses gets 400; tokenmeter unreachable gets 503. A handler that
 * never answers (or a process that dies mid-route) settles nothing: the hold expires after
 * `ttlSeconds` and nothing is charged. A hijacked reply skips `onSend`, so its hold expires
 * uncharged too.
 *
 * @example
 * app.post('/api/calls', fastifyRequireTokens('outbound_call_single', { client, account: (req) => req.user.id }), handler);
 * // with other options: { schema, ...fastifyRequireTokens('social_post', { client }) }
 */
export function fastifyRequireTokens(
  feature: string,
  options: RequireTokensOptions<FastifyRequest> = {},
): FastifyRequireTokensHooks {
  const gate = new RequestGate<FastifyRequest>(feature, options);
  const settlers = new WeakMap<FastifyRequest, (status: number) => Promise<void>>();
  return {
    async preHandler(request, reply) {
      const admission = await gate.admit(request);
      if (!admission.ok) return reply.code(admission.status).send(admission.body);
      settlers.set(request, gate.settler(admission.hold));
    },
    async onSend(request, reply, payload) {
      await settlers.get(request)?.(reply.statusCode);
      return payload;
    },
  };
}
