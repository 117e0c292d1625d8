import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from '../errors.ts';
import { isLoopback } from '../http-env.ts';
import type { AppContext } from '../options.ts';
import { OPERATOR_COOKIE, sameOrigin } from '../plugins/auth.ts';
import { ADMIN_KEY_HOWTO } from '../startup-urls.ts';

const TAGS = ['admin console'];
const HOWTO = `To sign in, ${ADMIN_KEY_HOWTO}.`;

/**
 * The admin console's sign-in state, and in demo mode a sign-in without a key ("Sign in as the
 * demo operator"): a same-origin POST from a loopback page gives the browser a short-lived
 * admin session in an HttpOnly, SameSite=Strict cookie that the auth plugin honours on
 * `/api/admin/*` only, and only in demo mode.
 */
export async function operatorSessionRoutes(app: FastifyInstance, deps: AppContext): Promise<void> {
  const demo = deps.options.demo;

  app.get(
    '/admin/session',
    { schema: { tags: TAGS, summary: 'Whether a demo operator session is signed in, and how to sign in (never 401)' } },
    async (request) => {
      const token = request.cookies?.[OPERATOR_COOKIE];
      const claims = demo && token ? await deps.sessions.verifyOperator(token) : null;
      return {
        success: true,
        signed_in: claims !== null,
        expires_at: claims ? new Date(claims.expiresAt).toISOString() : null,
        demo_sign_in: demo,
        how_to_sign_in: demo ? 'POST /admin/session from the console (demo mode, this machine only)' : HOWTO,
      };
    },
  );

  app.post(
    '/admin/session',
    {
      schema: {
        tags: TAGS,
        summary: 'Demo mode only: sign this browser in as the demo operator (same-origin, loopback, 30 min)',
      },
    },
    async (request, reply) => {
      if (!demo) {
        return reply
          .status(404)
          .send(errorBody('not_found', `The demo operator sign-in exists in demo mode only. ${HOWTO}`));
      }
      const refusal = crossSiteRefusal(request);
      if (refusal) return reply.status(403).send(errorBody('forbidden', refusal));
      const issued = await deps.sessions.issueOperator();
      setOperatorCookie(reply, issued.token, Math.max(1, Math.floor((issued.expiresAt - deps.clock.now()) / 1000)));
      return { success: true, signed_in: true, expires_at: new Date(issued.expiresAt).toISOString() };
    },
  );

  app.delete(
    '/admin/session',
    { schema: { tags: TAGS, summary: 'Sign the demo operator session out (it is refused everywhere from now on)' } },
    async (request, reply) => {
      if (!sameOrigin(request)) {
        return reply.status(403).send(errorBody('forbidden', 'Signing out needs a matching Origin'));
      }
      const token = request.cookies?.[OPERATOR_COOKIE];
      if (token) await deps.sessions.revokeOperator(token);
      setOperatorCookie(reply, '', 0);
      return { success: true, signed_in: false };
    },
  );
}

/**
 * Why a sign-in request may not come from this browser's own console page, or null. The
 * Origin must be this service's; the Host must be a loopback name, so a page on another
 * domain that resolves to 127.0.0.1 (DNS rebinding) is same-origin with itself only; and the
 * peer must be this machine.
 */
function crossSiteRefusal(request: FastifyRequest): string | null {
  if (!isLoopbackPeer(request.socket.remoteAddress)) return 'The demo operator may sign in from this machine only';
  const hostname = hostnameOf(request.host);
  if (hostname === null || !isLoopback(hostname)) return 'The demo operator may sign in on a loopback address only';
  if (!sameOrigin(request)) return 'The demo operator sign-in needs a matching Origin';
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return 'The demo operator sign-in needs a same-origin request';
  return null;
}

function hostnameOf(host: string): string | null {
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return null;
  }
}

function isLoopbackPeer(address: string | undefined): boolean {
  if (address === undefined) return false;
  const plain = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return isLoopback(plain);
}

function setOperatorCookie(reply: FastifyReply, token: string, maxAgeSeconds: number): void {
  reply.setCookie(OPERATOR_COOKIE, token, {
    httpOnly: true,
    sameSite: 'strict',
    secure: reply.request.protocol === 'https',
    path: '/',
    maxAge: maxAgeSeconds,
  });
}
