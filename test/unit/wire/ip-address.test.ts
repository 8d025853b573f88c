/**
 * IP address text forms (mptcp/wire/ip-address.ts): RFC 5952 for IPv6 (§4.1 no leading
 * zeros, §4.2 longest zero run compressed, never a single zero field, first run on ties,
 * §4.3 lowercase, §5 IPv4-mapped as ::ffff:a.b.c.d) and dotted quads for IPv4.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIp, formatIpv4, formatIpv6, parseIp } from '../../../mptcp/wire/ip-address.js';
import { hex, hexOf } from '../../support/wire-reference.js';

const cases: { bytes: string; text: string; rule: string }[] = [
  { bytes: '20010db8000000000000000000000001', text: '2001:db8::1', rule: '§4.2.1 shorten as much as possible' },
  { bytes: '20010db8000000010001000100010001', text: '2001:db8:0:1:1:1:1:1', rule: '§4.2.2 a single 0 field is not compressed' },
  { bytes: '20010000000000010000000000000001', text: '2001:0:0:1::1', rule: '§4.2.3 the longest run is compressed' },
  { bytes: '20010db8000000000001000000000001', text: '2001:db8::1:0:0:1', rule: '§4.2.3 the first of equal runs is compressed' },
  { bytes: '20010db800000000000000000000aaaa', text: '2001:db8::aaaa', rule: '§4.3 lowercase' },
  { bytes: '20010db8000a0b00000000000000000c', text: '2001:db8:a:b00::c', rule: '§4.1 leading zeros suppressed' },
  { bytes: '00000000000000000000000000000000', text: '::', rule: 'unspecified' },
  { bytes: '00000000000000000000000000000001', text: '::1', rule: 'loopback' },
  { bytes: '00010000000000000000000000000000', text: '1::', rule: 'trailing run' },
  { bytes: 'fe800000000000000202b3fffe1e8329', text: 'fe80::202:b3ff:fe1e:8329', rule: 'link-local' },
  { bytes: '20010db8000100020003000400050006', text: '2001:db8:1:2:3:4:5:6', rule: 'no zero field' },
  { bytes: '00010000000100000001000000010000', text: '1:0:1:0:1:0:1:0', rule: 'only single zero fields' },
  { bytes: '0000000000000000000000000000ffff', text: '::ffff', rule: 'not mapped: ffff in the last field' },
  { bytes: '00000000000000000000ffffc0000201', text: '::ffff:192.0.2.1', rule: '§5 IPv4-mapped' },
  { bytes: '00000000000000000000ffff00000000', text: '::ffff:0.0.0.0', rule: '§5 IPv4-mapped, all zero' },
  { bytes: 'ffffffffffffffffffffffffffffffff', text: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', rule: 'all ones' },
];

describe('formatIpv6 (RFC 5952)', () => {
  for (const c of cases) {
    it(`${c.text} (${c.rule})`, () => {
      expect(formatIpv6(hex(c.bytes))).toBe(c.text);
      expect(formatIp(hex(c.bytes))).toBe(c.text);
      expect(hexOf(parseIp(c.text) ?? new Uint8Array(0))).toBe(c.bytes);
    });
  }

  it('reads at an offset', () => {
    const b = hex(`ffff ${cases[0].bytes} ffff`);
    expect(formatIpv6(b, 2)).toBe('2001:db8::1');
  });

  it('agrees with the WHATWG URL serializer (same compression rules) on random addresses', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.nat({ max: 0xffff })), { minLength: 8, maxLength: 8 }),
        (words) => {
          const b = new Uint8Array(16);
          words.forEach((w, i) => {
            b[2 * i] = w >>> 8;
            b[2 * i + 1] = w & 0xff;
          });
          const mapped = words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff;
          fc.pre(!mapped); // WHATWG does not use the dotted form
          const text = formatIpv6(b);
          expect(`[${text}]`).toBe(new URL(`http://[${words.map((w) => w.toString(16)).join(':')}]/`).hostname);
          expect(hexOf(parseIp(text) ?? new Uint8Array(0))).toBe(hexOf(b));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('text -> bytes -> text is the identity on canonical text, for any 16 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.boolean(), (b, mapped) => {
        if (mapped) {
          b.fill(0, 0, 10);
          b[10] = b[11] = 0xff;
        }
        const text = formatIpv6(b);
        const back = parseIp(text);
        expect(back && hexOf(back)).toBe(hexOf(b));
        expect(formatIpv6(back ?? new Uint8Array(16))).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseIp', () => {
  it('accepts non-canonical IPv6 text', () => {
    expect(hexOf(parseIp('2001:0DB8:0000:0000:0000:0000:0000:0001') ?? new Uint8Array(0))).toBe('20010db8000000000000000000000001');
    expect(hexOf(parseIp('2001:db8:0::0:1') ?? new Uint8Array(0))).toBe('20010db8000000000000000000000001');
    expect(hexOf(parseIp('::FFFF:C000:0201') ?? new Uint8Array(0))).toBe('00000000000000000000ffffc0000201');
    expect(hexOf(parseIp('1:2:3:4:5:6:1.2.3.4') ?? new Uint8Array(0))).toBe('00010002000300040005000601020304');
    expect(hexOf(parseIp('64:ff9b::192.0.2.33') ?? new Uint8Array(0))).toBe('0064ff9b0000000000000000c0000221');
    expect(hexOf(parseIp('::1.2.3.4') ?? new Uint8Array(0))).toBe('00000000000000000000000001020304');
  });

  it('parses IPv4 dotted quads', () => {
    expect(Array.from(parseIp('192.168.0.1') ?? [])).toEqual([192, 168, 0, 1]);
    expect(Array.from(parseIp('0.0.0.0') ?? [])).toEqual([0, 0, 0, 0]);
    expect(Array.from(parseIp('255.255.255.255') ?? [])).toEqual([255, 255, 255, 255]);
  });

  it('returns undefined for text that is not an address', () => {
    for (const t of ['', '1.2.3', '1.2.3.256', '1.2.3.4.5', 'gggg::', '1:2:3:4:5:6:7:8:9', '1::2::3', 'localhost', '::ffff:1.2.3', ' 1.2.3.4']) {
      expect(parseIp(t)).toBeUndefined();
    }
  });
});

describe('formatIpv4', () => {
  it('dotted quad, at an offset', () => {
    expect(formatIpv4(hex('c0a800c7'))).toBe('192.168.0.199');
    expect(formatIpv4(hex('ff 00 0a 00 00 01'), 2)).toBe('10.0.0.1');
    expect(formatIp(hex('00000000'))).toBe('0.0.0.0');
  });

  it('round-trips any 4 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (b) => {
        expect(Array.from(parseIp(formatIpv4(b)) ?? [])).toEqual(Array.from(b));
      }),
      { numRuns: 500 },
    );
  });
});
