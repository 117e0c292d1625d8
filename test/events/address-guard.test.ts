import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isForbiddenAddress } from '../../src/events/address-guard.ts';

/** Ordinary public unicast addresses: a webhook may go there. */
const ALLOWED = [
  '1.1.1.1',
  '8.8.8.8',
  '93.184.215.14',
  '9.255.255.255', // just below 10/8
  '11.0.0.0', // just above 10/8
  '100.63.255.255', // just below CGNAT
  '100.128.0.0', // just above CGNAT
  '126.255.255.255', // just below loopback
  '128.0.0.0', // just above loopback
  '169.253.255.255',
  '169.255.0.0',
  '172.15.255.255', // just below 172.16/12
  '172.32.0.0', // just above 172.16/12
  '192.167.255.255',
  '192.169.0.0',
  '223.255.255.255', // just below multicast
  '2606:4700:4700::1111',
  '2001:4860:4860::8888',
  '2a00:1450:4001:82b::200e',
  '::ffff:8.8.8.8', // IPv4-mapped public address: judged as 8.8.8.8
  '::ffff:808:808',
  '64:ff9b::808:808', // NAT64 of 8.8.8.8
  '2002:808:808::1', // 6to4 of 8.8.8.8
  'fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', // just below fc00::/7
  '[2606:4700:4700::1111]', // as a URL writes it
];

/** Loopback, private, link-local, shared, multicast, reserved: refused. */
const FORBIDDEN = [
  '127.0.0.1',
  '127.255.255.254',
  '0.0.0.0',
  '0.1.2.3',
  '10.0.0.1',
  '10.255.255.255',
  '172.16.0.1',
  '172.31.255.255',
  '192.168.0.1',
  '192.168.255.255',
  '169.254.169.254', // cloud metadata
  '100.64.0.1',
  '100.127.255.255',
  '224.0.0.1',
  '239.255.255.250',
  '240.0.0.1',
  '255.255.255.255',
  '192.0.2.1',
  '198.18.0.1',
  '::1',
  '::',
  '[::1]',
  '0:0:0:0:0:0:0:1',
  'fc00::1',
  'fd12:3456:789a::1',
  'fe80::1',
  'fe80::1%eth0',
  'febf:ffff::1',
  'ff02::1',
  'ff05::1:3',
  '::ffff:127.0.0.1', // IPv4-mapped loopback
  '::ffff:7f00:1', // the same, as a URL normalizes it
  '::ffff:10.0.0.1',
  '::ffff:169.254.169.254',
  '::ffff:0:7f00:1', // IPv4-translated (SIIT) loopback
  '::127.0.0.1', // deprecated IPv4-compatible
  '64:ff9b::7f00:1', // NAT64 of 127.0.0.1
  '64:ff9b::a9fe:a9fe', // NAT64 of 169.254.169.254
  '64:ff9b:1::1', // local-use NAT64
  '2002:7f00:1::', // 6to4 of 127.0.0.1
  '2002:c0a8:101::1', // 6to4 of 192.168.1.1
  '2001:db8::1', // documentation
  '2001:0:4136:e378:8000:63bf:3fff:fdd2', // Teredo
];

/** Not an IP address at all: nothing to judge, so refused. */
const NOT_ADDRESSES = ['', 'localhost', 'example.com', '127.1', '1.2.3.4.5', '::ffff:1.2.3', '256.0.0.1', 'fe80:::1'];

describe('isForbiddenAddress', () => {
  for (const ip of ALLOWED) {
    it(`allows the public address ${ip}`, () => assert.equal(isForbiddenAddress(ip), false));
  }
  for (const ip of FORBIDDEN) {
    it(`refuses ${ip}`, () => assert.equal(isForbiddenAddress(ip), true));
  }
  for (const ip of NOT_ADDRESSES) {
    it(`refuses ${JSON.stringify(ip)}, which is not an IP address`, () => assert.equal(isForbiddenAddress(ip), true));
  }

  it('judges every IPv4-mapped address exactly as its IPv4 address', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        assert.equal(isForbiddenAddress(`::ffff:${ip}`), isForbiddenAddress(ip));
        const [a = 0, b = 0, c = 0, d = 0] = ip.split('.').map(Number);
        const hex = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
        assert.equal(isForbiddenAddress(`::ffff:${hex}`), isForbiddenAddress(ip));
        assert.equal(isForbiddenAddress(`64:ff9b::${hex}`), isForbiddenAddress(ip));
        assert.equal(isForbiddenAddress(`2002:${hex}::1`), isForbiddenAddress(ip));
      }),
    );
  });

  it('refuses every address in 127/8, 10/8 and 192.168/16', () => {
    const byte = fc.integer({ min: 0, max: 255 });
    fc.assert(
      fc.property(byte, byte, byte, (x, y, z) => {
        assert.equal(isForbiddenAddress(`127.${x}.${y}.${z}`), true);
        assert.equal(isForbiddenAddress(`10.${x}.${y}.${z}`), true);
        assert.equal(isForbiddenAddress(`192.168.${y}.${z}`), true);
      }),
    );
  });
});
