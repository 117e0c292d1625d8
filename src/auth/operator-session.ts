import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** What a demo operator session grants: the admin scope, until it expires. */
export interface OperatorClaims {
  /** Expiry, epoch ms. */
  expiresAt: number;
  /** Random id, so signing out spends the session everywhere. */
  nonce: string;
}

const PREFIX = 'op1';

/**
 * Demo operator sessions are `op1.<payload>.<signature>`. The HMAC covers the prefix too, so
 * neither a user token (`v1.`, signed over its payload alone) nor any other string signed with
 * the same deployment secret can pass for one, and an operator session is never a user token.
 */
export function signOperatorSession(expiresAt: number, secret: string): { token: string; nonce: string } {
  const nonce = randomBytes(12).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ s: 'admin', e: expiresAt, n: nonce })).toString('base64url');
  return { token: `${PREFIX}.${payload}.${mac(payload, secret)}`, nonce };
}

/** The claims of a genuine, unexpired operator session; null for anything else (never throws). */
export function verifyOperatorSession(token: string, secret: string, now: number): OperatorClaims | null {
  if (token.length > 512) return null;
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) return null;
  const [, payload = '', signature = ''] = parts;
  const expected = Buffer.from(mac(payload, secret));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  try {
    const body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (body.s !== 'admin' || typeof body.e !== 'number' || typeof body.n !== 'string') return null;
    if (body.e <= now) return null;
    return { expiresAt: body.e, nonce: body.n };
  } catch {
    return null;
  }
}

function mac(payload: string, secret: string): string {
  return createHmac('sha256', secret).update(`${PREFIX}.${payload}`).digest('base64url');
}
