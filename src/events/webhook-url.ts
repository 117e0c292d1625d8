import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { isForbiddenAddress } from './address-guard.ts';

export type WebhookUrlCheck = { ok: true; url: URL } | { ok: false; reason: string };

/** The host as an address when the URL names one literally (`[::1]` → `::1`), else null. */
function literalAddressOf(url: URL): string | null {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(host) === 0 ? null : host;
}

/**
 * Whether `raw` may be a webhook endpoint: http or https, no credentials in it, and, unless
 * `allowPrivate`, not a literal loopback, private or link-local address. A hostname is accepted
 * here because what it resolves to can change: the sender checks the address it connects to.
 * The URL parser has already turned other spellings of an IPv4 address (`2130706433`,
 * `0x7f.1`) into dotted form, so they are judged like any literal.
 *
 * @example checkWebhookUrl('https://app.example.com/hooks/tokenmeter', false) // { ok: true, url }
 */
export function checkWebhookUrl(raw: string, allowPrivate: boolean): WebhookUrlCheck {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'not a valid URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, reason: `only http and https URLs are accepted, not ${url.protocol}` };
  }
  // A secret in the URL would be shown wherever the endpoint is listed and logged.
  if (url.username !== '' || url.password !== '') {
    return { ok: false, reason: 'credentials in the URL (user:password@) are not accepted' };
  }
  if (url.port === '0') return { ok: false, reason: 'port 0 cannot be connected to' };
  const address = literalAddressOf(url);
  if (address !== null && !allowPrivate && isForbiddenAddress(address)) {
    return { ok: false, reason: `address ${address} is private` };
  }
  return { ok: true, url };
}

/**
 * The first loopback, private or link-local address a URL's hostname resolves to now, or null
 * (also when it does not resolve: the sender judges again at every connection). For refusing an
 * endpoint at once when it is added, not only when a delivery is tried.
 */
export async function forbiddenResolution(url: URL): Promise<string | null> {
  if (literalAddressOf(url) !== null) return null;
  try {
    const addresses = await lookup(url.hostname, { all: true });
    return addresses.map((a) => a.address).find(isForbiddenAddress) ?? null;
  } catch {
    return null;
  }
}
