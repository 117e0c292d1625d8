import { BlockList, isIP } from 'node:net';
import { invalid } from '../core/errors.ts';

/** Whether a peer address is a proxy whose X-Forwarded-* headers are believed. */
export type ProxyTrust = (address: string | undefined) => boolean;

// Named ranges, as proxy-addr (Express, Fastify) names them.
const NAMED: Record<string, [string, number, 'ipv4' | 'ipv6'][]> = {
  loopback: [
    ['127.0.0.0', 8, 'ipv4'],
    ['::1', 128, 'ipv6'],
  ],
  linklocal: [
    ['169.254.0.0', 16, 'ipv4'],
    ['fe80::', 10, 'ipv6'],
  ],
  uniquelocal: [
    ['10.0.0.0', 8, 'ipv4'],
    ['172.16.0.0', 12, 'ipv4'],
    ['192.168.0.0', 16, 'ipv4'],
    ['fc00::', 7, 'ipv6'],
  ],
};

/**
 * The normalized TOKENMETER_TRUST_PROXY value: false, or a comma-separated list of addresses,
 * CIDR ranges and the names loopback, linklocal, uniquelocal. `true` means `loopback` (a proxy
 * on this host): trusting every peer would let any client name its own address.
 */
export function parseTrustProxy(value: boolean | string): false | string {
  if (value === false) return false;
  if (value === true) return 'loopback';
  const entries = value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  if (entries.length === 0) return false;
  for (const entry of entries) {
    if (!validEntry(entry)) {
      throw invalid(
        'TOKENMETER_TRUST_PROXY',
        `"${entry}" is not an address, a CIDR range or one of loopback, linklocal, uniquelocal`,
      );
    }
  }
  return entries.join(',');
}

/** The trust function for a TOKENMETER_TRUST_PROXY value (see parseTrustProxy). */
export function proxyTrust(value: boolean | string): ProxyTrust {
  const spec = parseTrustProxy(value);
  if (spec === false) return () => false;
  const list = new BlockList();
  for (const entry of spec.split(',')) {
    for (const [address, prefix, family] of rangesOf(entry)) list.addSubnet(address, prefix, family);
  }
  return (address) => {
    if (!address) return false;
    const plain = unmapped(address);
    const family = isIP(plain);
    return family !== 0 && list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  };
}

/** An IPv4 peer seen through an IPv6 socket (`::ffff:10.0.0.1`) as its IPv4 address. */
export function unmapped(address: string): string {
  return address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function validEntry(entry: string): boolean {
  if (NAMED[entry]) return true;
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || extra !== undefined) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

function rangesOf(entry: string): [string, number, 'ipv4' | 'ipv6'][] {
  const named = NAMED[entry];
  if (named) return named;
  const [address = '', prefix] = entry.split('/');
  const family = isIP(address) === 4 ? 'ipv4' : 'ipv6';
  return [[address, prefix === undefined ? (family === 'ipv4' ? 32 : 128) : Number(prefix), family]];
}
