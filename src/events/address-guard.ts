import { BlockList, isIP } from 'node:net';

/**
 * Where a webhook may not go unless `TOKENMETER_WEBHOOK_ALLOW_PRIVATE=true`: anything that is not
 * an ordinary public unicast address, so an admin key cannot make tokenmeter probe its own host
 * or the network behind it.
 */
const IPV4_FORBIDDEN: ReadonlyArray<readonly [string, number]> = [
  ['0.0.0.0', 8], // "this network"; 0.0.0.0 reaches the local host on Linux
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT (shared address space)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, where cloud metadata services answer
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation (TEST-NET-1)
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking, often used for internal networks
  ['198.51.100.0', 24], // documentation (TEST-NET-2)
  ['203.0.113.0', 24], // documentation (TEST-NET-3)
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, with 255.255.255.255 (broadcast) at its end
];

const IPV6_FORBIDDEN: ReadonlyArray<readonly [string, number]> = [
  ['::', 96], // :: (unspecified), ::1 (loopback) and the deprecated IPv4-compatible ::a.b.c.d
  ['64:ff9b:1::', 48], // local-use NAT64 (RFC 8215): translates into a network we cannot see
  ['100::', 64], // discard-only
  ['2001::', 32], // Teredo: tunnels to an IPv4 address hidden in the bits
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local (private)
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated, still private)
  ['ff00::', 8], // multicast
];

function blockListOf(rules: ReadonlyArray<readonly [string, number]>, family: 'ipv4' | 'ipv6'): BlockList {
  const list = new BlockList();
  for (const [network, prefix] of rules) list.addSubnet(network, prefix, family);
  return list;
}

const ipv4Forbidden = blockListOf(IPV4_FORBIDDEN, 'ipv4');
const ipv6Forbidden = blockListOf(IPV6_FORBIDDEN, 'ipv6');

/**
 * The IPv6 address as its eight 16-bit groups (the caller has checked it with `isIP`). Needed
 * only to read the IPv4 address some IPv6 forms carry; which ranges are forbidden is BlockList's.
 */
function ipv6Groups(ip: string): number[] {
  let text = ip;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const [a = 0, b = 0, c = 0, d = 0] = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? [] : Array<string>(8 - headGroups.length - restGroups.length).fill('0');
  return [...headGroups, ...zeros, ...restGroups].map((group) => Number.parseInt(group, 16));
}

function ipv4Of(high: number, low: number): string {
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

/** The IPv4 address that reaching this IPv6 address really reaches (mapped, NAT64, 6to4), if any. */
function embeddedIpv4(ip: string): string | null {
  const g = ipv6Groups(ip);
  const [g0, g1, g2, g3, g4, g5, g6 = 0, g7 = 0] = g;
  const firstFiveZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (firstFiveZero && g5 === 0xffff) return ipv4Of(g6, g7); // ::ffff:a.b.c.d, IPv4-mapped
  if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff && g5 === 0) return ipv4Of(g6, g7); // ::ffff:0:a.b.c.d, SIIT
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return ipv4Of(g6, g7); // NAT64 well-known prefix
  if (g0 === 0x2002) return ipv4Of(g1 ?? 0, g2 ?? 0); // 6to4
  return null;
}

/**
 * True when a webhook must not connect to `ip`: loopback, private, link-local, CGNAT,
 * multicast, reserved or broadcast, in IPv4 or IPv6, including IPv6 forms that carry such an
 * IPv4 address (`::ffff:127.0.0.1`, `64:ff9b::a00:1`, `2002:7f00:1::`). A string that is not an
 * IP address is refused too: what cannot be judged is not connected to.
 *
 * @example isForbiddenAddress('10.1.2.3') // true; isForbiddenAddress('93.184.215.14') // false
 */
export function isForbiddenAddress(ip: string): boolean {
  // Brackets come from URLs, a zone (fe80::1%eth0) from link-local answers; neither changes the range.
  const bare = ip.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return ipv4Forbidden.check(bare, 'ipv4');
  if (family !== 6) return true;
  if (ipv6Forbidden.check(bare, 'ipv6')) return true;
  const ipv4 = embeddedIpv4(bare);
  return ipv4 !== null && ipv4Forbidden.check(ipv4, 'ipv4');
}
