/**
 * A fresh idempotency key: a UUID of version 7 (RFC 9562), the time in milliseconds in its first
 * 48 bits, then 74 random bits. Keys made later sort later, so the service's unique index of
 * deduction keys grows at its end, where random (version 4) keys land each on a page of their
 * own: measured with `node bench/insert-cost.ts`, a ledger row keyed by a random UUID cost
 * 1.4–1.7× one keyed by a time-ordered one. Within one millisecond, the 74 random bits keep
 * keys apart (two keys of one client, or of many, collide with odds of 1 in 2^74 per pair).
 */
export function newIdempotencyKey(now: number = Date.now()): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let time = now;
  for (let i = 5; i >= 0; i--) {
    bytes[i] = time % 256;
    time = Math.floor(time / 256);
  }
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70; // version 7
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // the RFC's variant
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * Whether an `Idempotency-Key` header carries `key` exactly: printable ASCII with no space at
 * either end. fetch refuses a header value beyond Latin-1 before sending anything, the service
 * reads a header as Latin-1, and HTTP trims a value's outer spaces; any other key goes in the
 * body's `idempotency_key`, which every keyed route reads as it reads the header.
 */
export function fitsHeader(key: string): boolean {
  return /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(key);
}
