/**
 * IP literals and CIDRs (proxy/protocol/ip.ts) against Node's own parser as the oracle, and
 * the aggregator's destination policy (proxy/aggregator/destination-policy.ts): loopback,
 * private, link-local, multicast and metadata refused by default; allow-list and deny-list.
 */
import fc from 'fast-check';
import { isIPv4, isIPv6 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { DestinationPolicy } from '../../../proxy/aggregator/destination-policy.js';
import { cidrContains, formatIp, parseCidr, parseIp } from '../../../proxy/protocol/ip.js';

const ip = (s: string) => {
  const b = parseIp(s);
  if (b === undefined) throw new Error(`bad test address ${s}`);
  return b;
};

describe('IP literals', () => {
  it('formats IPv6 as RFC 5952 and agrees with the URL parser', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
        const text = formatIp(bytes);
        expect(isIPv6(text)).toBe(true);
        expect(parseIp(text)).toEqual(bytes);
        const viaUrl = new URL(`http://[${text}]/`).hostname.slice(1, -1);
        expect(parseIp(viaUrl)).toEqual(bytes);
      }),
      { numRuns: 3000 },
    );
    expect(formatIp(ip('2001:0db8:0:0:1:0:0:1'))).toBe('2001:db8::1:0:0:1');
    expect(formatIp(ip('::ffff:192.0.2.1'))).toBe('::ffff:c000:201');
  });
  it('accepts what Node accepts for IPv4 dotted quads', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[0-9.]{1,16}$/), (s) => {
        expect(parseIp(s) !== undefined).toBe(isIPv4(s));
      }),
      { numRuns: 5000 },
    );
  });
  it('rejects malformed IPv6', () => {
    for (const s of ['1::2::3', ':::', '1:2:3:4:5:6:7:8:9', 'g::1', '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3']) expect(parseIp(s)).toBeUndefined();
  });
  it('matches CIDR prefixes bit by bit', () => {
    const c = parseCidr('10.71.3.0/25');
    if (!c) throw new Error('cidr');
    expect(cidrContains(c, ip('10.71.3.127'))).toBe(true);
    expect(cidrContains(c, ip('10.71.3.128'))).toBe(false);
    expect(cidrContains(c, ip('::1'))).toBe(false);
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
    expect(parseCidr('fd00::/129')).toBeUndefined();
  });
});

describe('destination policy', () => {
  const def = new DestinationPolicy();
  const refused = ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.100.100.200', '0.0.0.0', '224.0.0.1', '255.255.255.255', '::1', '::', 'fe80::1', 'fd00:ec2::254', 'fc00::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:169.254.169.254'];
  const allowed = ['93.184.216.34', '1.1.1.1', '2606:4700:4700::1111', '8.8.8.8'];
  it('refuses loopback, private, link-local, multicast and metadata by default', () => {
    for (const a of refused) expect(def.check(ip(a)).allowed, a).toBe(false);
    for (const a of allowed) expect(def.check(ip(a)).allowed, a).toBe(true);
  });
  it('lets the allow-list open ranges and the deny-list close them', () => {
    const allow = [parseCidr('10.71.3.0/24'), parseCidr('fd71:3::/64')].filter((c) => c !== undefined);
    const deny = [parseCidr('1.1.1.1')].filter((c) => c !== undefined);
    const p = new DestinationPolicy(allow, deny);
    expect(p.check(ip('10.71.3.2')).allowed).toBe(true);
    expect(p.check(ip('fd71:3::2')).allowed).toBe(true);
    expect(p.check(ip('10.71.4.2')).allowed).toBe(false);
    expect(p.check(ip('1.1.1.1'))).toMatchObject({ allowed: false, reason: expect.stringMatching(/denied/) as unknown });
  });
});
