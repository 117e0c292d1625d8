import { createHash, hash, randomBytes, timingSafeEqual } from 'node:crypto';

export type KeyScope = 'app' | 'admin';

/** A new secret key as shown once to its creator; only `hash` and `prefix` are stored. */
export interface NewApiKey {
  key: string;
  hash: string;
  prefix: string;
}

const PREFIX_LENGTH = 12;

/** Generates `tm_<scope>_<43 random base64url chars>` (256 bits of entropy). */
export function generateApiKey(scope: KeyScope): NewApiKey {
  const key = `tm_${scope}_${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashApiKey(key), prefix: key.slice(0, PREFIX_LENGTH) };
}

/** The stored form of a key: a SHA-256 digest, hex. A key is long and random, so no salt or KDF is needed. */
export function hashApiKey(key: string): string {
  // The one-shot form: a third of createHash().update().digest()'s cost, paid on every request.
  return hash('sha256', key, 'hex');
}

/** Compares two secrets in time that does not depend on where they differ. */
export function sameSecret(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}
