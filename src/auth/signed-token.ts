import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * What the HMAC covers: user tokens (`v1.`) were first signed over their payload alone and
 * stay so, to keep issued tokens valid; newer kinds cover their prefix too, so no token of
 * one kind can pass for another signed with the same secret.
 */
export type MacScope = 'payload' | 'prefix_and_payload';

export interface TokenFormat {
  prefix: string;
  macScope: MacScope;
  /** Longer strings are refused before any work. */
  maxLength: number;
}

/** `<prefix>.<base64url JSON>.<HMAC-SHA256, base64url>`. */
export function signToken(format: TokenFormat, body: Record<string, unknown>, secret: string): string {
  const payload = Buffer.from(JSON.stringify(body)).toString('base64url');
  return `${format.prefix}.${payload}.${mac(format, payload, secret)}`;
}

/** The JSON body of a genuine token of this format, or null for anything else (never throws). */
export function openToken(format: TokenFormat, token: string, secret: string): Record<string, unknown> | null {
  if (token.length > format.maxLength) return null;
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== format.prefix) return null;
  const [, payload = '', signature = ''] = parts;
  const expected = Buffer.from(mac(format, payload, secret));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  try {
    const body: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function mac(format: TokenFormat, payload: string, secret: string): string {
  const signed = format.macScope === 'payload' ? payload : `${format.prefix}.${payload}`;
  return createHmac('sha256', secret).update(signed).digest('base64url');
}
