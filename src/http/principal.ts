import type { FastifyRequest } from 'fastify';
import { requireAccountId } from '../core/account-id.ts';
import { TokenmeterError } from '../core/errors.ts';

/** Who is calling: a user token (one account), an app backend key, or an operator key. */
export type Principal =
  | { kind: 'user'; account: string; via: 'bearer' | 'cookie' }
  | { kind: 'app'; keyName: string }
  | { kind: 'admin'; keyName: string };

export type PrincipalKind = Principal['kind'];

/** Who may call a route: some principals, anyone, or a signed webhook (checked by the route). */
export type Access = readonly PrincipalKind[] | 'public';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

/**
 * The account a request acts on. A user token acts on its own account only: naming another
 * is forbidden. App and admin keys must name the account.
 */
export function actingAccount(request: FastifyRequest, requested: unknown): string {
  const p = request.principal;
  if (!p) throw new TokenmeterError('unauthorized', 'Authentication required');
  if (p.kind === 'user') {
    if (requested !== undefined && requested !== null && requested !== p.account) {
      throw new TokenmeterError('forbidden', 'This token may only act on its own account');
    }
    return p.account;
  }
  if (requested === undefined || requested === null) {
    throw new TokenmeterError('invalid_request', 'account: is required with an API key', 'account');
  }
  return requireAccountId(requested);
}

/** Refuses unless the caller may act on `account` (for ids that lead to an account, such as a hold's). */
export function requireAccess(request: FastifyRequest, account: string): void {
  const p = request.principal;
  if (!p) throw new TokenmeterError('unauthorized', 'Authentication required');
  if (p.kind === 'user' && p.account !== account) {
    throw new TokenmeterError('forbidden', 'This token may not act on that account');
  }
}

/** The operator a request acts as, recorded as the actor of what it changes. */
export function actorOf(request: FastifyRequest): string {
  const p = request.principal;
  return p && p.kind !== 'user' ? `admin:${p.keyName}` : 'admin';
}
