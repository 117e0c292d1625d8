import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { KeyService } from '../../auth/key-service.ts';
import type { SessionService } from '../../auth/session-service.ts';
import { errorBody } from '../errors.ts';
import type { Principal } from '../principal.ts';
import { type FailureCounter, LocalFailureCounter } from './failure-counter.ts';

export const SESSION_COOKIE = 'tm_session';
/** The demo operator session (demo mode only), honoured on the operator API alone. */
export const OPERATOR_COOKIE = 'tm_operator';
/** The key name a demo operator session acts as (ledger actor `admin:demo-operator`). */
export const DEMO_OPERATOR = 'demo-operator';
const OPERATOR_ROUTES = '/api/admin/';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface AuthPluginOptions {
  keys: KeyService;
  sessions: SessionService;
  authFailuresPerMinute: number;
  /** Where failures are counted (Redis, shared by all processes); default: this process. */
  failures?: FailureCounter;
  /** Demo mode: the `tm_operator` cookie signs the browser in to `/api/admin/*`. Off otherwise. */
  operatorSessions?: boolean;
}

/**
 * Resolves the caller before anything else runs: `Authorization: Bearer` with a secret key or
 * a user token, else (demo mode, `/api/admin/*` only) the `tm_operator` cookie, else the
 * `tm_session` cookie. Routes declare who may call them in
 * `config.access`; everyone else gets 401 (no valid credentials) or 403 (wrong kind).
 * The credential is decided first: a valid one is never refused for failures from its address.
 * Only invalid attempts are counted per client address, and refused with 429 beyond the limit.
 */
export const authPlugin = fp<AuthPluginOptions>(async (app: FastifyInstance, opts) => {
  const failures = opts.failures ?? new LocalFailureCounter();
  app.decorateRequest('principal', null);

  app.addHook('onRequest', async (request, reply) => {
    const access = request.routeOptions.config.access ?? 'public';
    if (access === 'public') return;
    const { principal, cookie } = await identify(request, opts);
    if (!principal) {
      if ((await failures.hit(request.ip)) > opts.authFailuresPerMinute) {
        return reply.status(429).send(errorBody('rate_limited', 'Too many failed authentications; wait a minute'));
      }
      return reply.status(401).send(errorBody('unauthorized', 'A valid API key or user token is required'));
    }
    if (cookie && UNSAFE.has(request.method) && !sameOrigin(request)) {
      return reply.status(403).send(errorBody('forbidden', 'Cookie-authenticated writes need a matching Origin'));
    }
    request.principal = principal;
    if (!access.includes(principal.kind)) {
      return reply.status(403).send(errorBody('forbidden', `This route is not open to ${principal.kind} credentials`));
    }
  });
});

async function identify(
  request: FastifyRequest,
  opts: AuthPluginOptions,
): Promise<{ principal: Principal | null; cookie: boolean }> {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer ([\x21-\x7e]{1,1024})$/.exec(header);
    if (!match?.[1]) return { principal: null, cookie: false };
    const credential = match[1];
    if (credential.startsWith('v1.')) {
      const claims = await opts.sessions.verify(credential);
      return { principal: claims ? { kind: 'user', account: claims.account, via: 'bearer' } : null, cookie: false };
    }
    return { principal: await opts.keys.authenticate(credential), cookie: false };
  }
  // The operator cookie counts only on the operator API, so a browser signed in both as a demo
  // user and as the operator is the user everywhere else.
  const operator = request.cookies?.[OPERATOR_COOKIE];
  if (operator && opts.operatorSessions === true && request.routeOptions.url?.startsWith(OPERATOR_ROUTES)) {
    const claims = await opts.sessions.verifyOperator(operator);
    return { principal: claims ? { kind: 'admin', keyName: DEMO_OPERATOR } : null, cookie: true };
  }
  const cookie = request.cookies?.[SESSION_COOKIE];
  if (cookie) {
    const claims = await opts.sessions.verify(cookie);
    return { principal: claims ? { kind: 'user', account: claims.account, via: 'cookie' } : null, cookie: true };
  }
  return { principal: null, cookie: false };
}

/** CSRF defence for cookie sessions: the browser's Origin must be this service's own. */
export function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (!origin) return false;
  try {
    // Compare as URLs, so an explicit default port (":80") matches its absence.
    return new URL(origin).host === new URL(`${request.protocol}://${request.host}`).host;
  } catch {
    return false;
  }
}
