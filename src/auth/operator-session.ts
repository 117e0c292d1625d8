import { randomBytes } from 'node:crypto';
import { openToken, signToken, type TokenFormat } from './signed-token.ts';

/** What a demo operator session grants: the admin scope, until it expires. */
export interface OperatorClaims {
  /** Expiry, epoch ms. */
  expiresAt: number;
  /** Random id, so signing out spends the session everywhere. */
  nonce: string;
}

const FORMAT: TokenFormat = { prefix: 'op1', macScope: 'prefix_and_payload', maxLength: 512 };

/**
 * Demo operator sessions are `op1.<payload>.<signature>`. The HMAC covers the prefix too, so
 * neither a user token (`v1.`, signed over its payload alone) nor any other string signed with
 * the same deployment secret can pass for one, and an operator session is never a user token.
 */
export function signOperatorSession(expiresAt: number, secret: string): { token: string; nonce: string } {
  const nonce = randomBytes(12).toString('base64url');
  return { token: signToken(FORMAT, { s: 'admin', e: expiresAt, n: nonce }, secret), nonce };
}

/** The claims of a genuine, unexpired operator session; null for anything else (never throws). */
export function verifyOperatorSession(token: string, secret: string, now: number): OperatorClaims | null {
  const body = openToken(FORMAT, token, secret);
  if (body?.s !== 'admin' || typeof body.e !== 'number' || typeof body.n !== 'string') return null;
  if (body.e <= now) return null;
  return { expiresAt: body.e, nonce: body.n };
}
