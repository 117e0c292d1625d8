import { randomBytes } from 'node:crypto';
import { openToken, signToken, type TokenFormat } from './signed-token.ts';

/** What a user token grants: one account, until it expires. */
export interface SessionClaims {
  account: string;
  /** Expiry, epoch ms. */
  expiresAt: number;
  /** Random id, so a token can be accepted once where that matters (/session/start). */
  nonce: string;
}

/**
 * User tokens are `v1.<payload>.<signature>`: the payload is base64url JSON, the signature an
 * HMAC-SHA256 over the payload with the deployment's session secret.
 */
const FORMAT: TokenFormat = { prefix: 'v1', macScope: 'payload', maxLength: 1024 };

export function signSession(claims: Omit<SessionClaims, 'nonce'>, secret: string): { token: string; nonce: string } {
  const nonce = randomBytes(12).toString('base64url');
  return { token: signToken(FORMAT, { a: claims.account, e: claims.expiresAt, n: nonce }, secret), nonce };
}

/** The claims of a genuine, unexpired token; null for anything else (never throws). */
export function verifySession(token: string, secret: string, now: number): SessionClaims | null {
  const body = openToken(FORMAT, token, secret);
  if (!body || typeof body.a !== 'string' || typeof body.e !== 'number' || typeof body.n !== 'string') return null;
  if (body.e <= now) return null;
  return { account: body.a, expiresAt: body.e, nonce: body.n };
}
