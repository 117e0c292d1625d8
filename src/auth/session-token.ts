import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

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
export function signSession(claims: Omit<SessionClaims, 'nonce'>, secret: string): { token: string; nonce: string } {
  const nonce = randomBytes(12).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ a: claims.account, e: claims.expiresAt, n: nonce })).toString(
    'base64url',
  );
  return { token: `v1.${payload}.${mac(payload, secret)}`, nonce };
}

/** The claims of a genuine, unexpired token; null for anything else (never throws). */
export function verifySession(token: string, secret: string, now: number): SessionClaims | null {
  if (token.length > 1024) return null;
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== 'v1') return null;
  const [, payload = '', signature = ''] = parts;
  const expected = Buffer.from(mac(payload, secret));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  try {
    const body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof body.a !== 'string' || typeof body.e !== 'number' || typeof body.n !== 'string') return null;
    if (body.e <= now) return null;
    return { account: body.a, expiresAt: body.e, nonce: body.n };
  } catch {
    return null;
  }
}

function mac(payload: string, secret: string): string {
  return createHmac('sha256', secret).update(payload).digest('base64url');
}
