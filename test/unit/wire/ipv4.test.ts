/**
 * IPv4 header codec (mptcp/wire/ipv4.ts), RFC 791 §3.1: a known-answer header checksum,
 * every field, options, the IHL/Total Length rules and exact emit.
 */
import { describe, expect, it } from 'vitest';
import {
  emitIpv4Header,
  fillIpv4Checksum,
  ipv4ChecksumValid,
  ipv4HeaderLength,
  IPPROTO_TCP,
  IPV4_FLAG_DF,
  IPV4_FLAG_MF,
  parseIpv4Header,
  type Ipv4Header,
} from '../../../mptcp/wire/ipv4.js';
import { expectEncodeError, expectErr, expectOk } from '../../support/wire-expect.js';
import { cat, hex, hexOf, refChecksum } from '../../support/wire-reference.js';

// The classic example (UDP, 115 bytes, DF, TTL 64, 192.168.0.1 -> 192.168.0.199): checksum b861.
const CLASSIC = hex('4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7');
const CLASSIC_PACKET = cat(CLASSIC, new Uint8Array(0x73 - 20).fill(0x5a));

describe('constants', () => {
  it('match RFC 791 and the protocol registry', () => {
    expect(IPPROTO_TCP).toBe(6);
    expect(IPV4_FLAG_DF).toBe(0b010);
    expect(IPV4_FLAG_MF).toBe(0b001);
  });
});

describe('header checksum', () => {
  it('known answer: the classic header sums to b861', () => {
    const b = CLASSIC.slice();
    b[10] = b[11] = 0;
    expect(fillIpv4Checksum(b, 0)).toBe(0xb861);
    expect(hexOf(b)).toBe(hexOf(CLASSIC));
    expect(ipv4ChecksumValid(CLASSIC, 0)).toBe(true);
    expect(refChecksum(cat(CLASSIC.subarray(0, 10), [0, 0], CLASSIC.subarray(12)))).toBe(0xb861);
  });

  it('covers the options and only the header (IHL), at any offset', () => {
    const header = hex('4600 0020 1234 0000 4006 0000 0a000001 0a000002 94040000');
    const buf = cat(new Uint8Array(3).fill(0xff), header, hex('deadbeefdeadbeef'));
    const c = fillIpv4Checksum(buf, 3);
    expect(c).toBe(refChecksum(header));
    expect(ipv4ChecksumValid(buf, 3)).toBe(true);
    buf[3 + 22] ^= 0x10; // a bit in the options
    expect(ipv4ChecksumValid(buf, 3)).toBe(false);
    buf[3 + 22] ^= 0x10;
    buf[3 + 24] ^= 0xff; // payload is not covered
    expect(ipv4ChecksumValid(buf, 3)).toBe(true);
  });

  it('detects every single-bit error in the header', () => {
    const b = CLASSIC.slice();
    for (let i = 0; i < 20; i++) {
      for (let bit = 0; bit < 8; bit++) {
        b[i] ^= 1 << bit;
        if (b[0] >>> 4 === 4 && (b[0] & 0xf) === 5) expect(ipv4ChecksumValid(b, 0)).toBe(false);
        b[i] ^= 1 << bit;
      }
    }
  });
});

describe('parseIpv4Header', () => {
  it('reads every field of the classic header', () => {
    const r = expectOk(parseIpv4Header(CLASSIC_PACKET));
    expect(r.header).toStrictEqual({
      tos: 0,
      totalLength: 115,
      identification: 0,
      flags: IPV4_FLAG_DF,
      fragmentOffset: 0,
      ttl: 64,
      protocol: 17,
      checksum: 0xb861,
      src: hex('c0a80001'),
      dst: hex('c0a800c7'),
      options: new Uint8Array(0),
    } satisfies Ipv4Header);
    expect(r.headerLength).toBe(20);
    expect(r.payloadEnd).toBe(115);
  });

  it('reads TOS, flags and the 13-bit fragment offset', () => {
    const b = hex('45b8 0014 fedc 3fff 01 06 0000 01020304 05060708');
    const h = expectOk(parseIpv4Header(b)).header;
    expect([h.tos, h.identification, h.flags, h.fragmentOffset, h.ttl, h.protocol]).toEqual([0xb8, 0xfedc, IPV4_FLAG_MF, 0x1fff, 1, 6]);
    const c = hex('4500 0014 0000 e000 ff 06 0000 01020304 05060708');
    const h2 = expectOk(parseIpv4Header(c)).header;
    expect([h2.flags, h2.fragmentOffset, h2.ttl]).toEqual([0b111, 0, 255]);
  });

  it('keeps options (IHL 6 and IHL 15)', () => {
    const ra = hex('4600 0018 0000 0000 0102 0000 01020304 05060708 94040000');
    const r = expectOk(parseIpv4Header(ra));
    expect(hexOf(r.header.options)).toBe('94040000');
    expect(r.headerLength).toBe(24);
    const opts = Uint8Array.from({ length: 40 }, (_, i) => i);
    const full = cat(hex('4f00 003c 0000 0000 0102 0000 01020304 05060708'), opts);
    const r2 = expectOk(parseIpv4Header(full));
    expect(r2.headerLength).toBe(60);
    expect(hexOf(r2.header.options)).toBe(hexOf(opts));
  });

  it('payloadEnd follows Total Length, ignoring link-layer padding, at any offset', () => {
    const b = cat(new Uint8Array(14), hex('4500 0016 0000 0000 4006 0000 01020304 05060708 abcd'), new Uint8Array(10));
    const r = expectOk(parseIpv4Header(b, 14));
    expect(r.payloadEnd).toBe(14 + 22);
  });

  it('refuses fewer than 20 bytes', () => {
    for (let n = 0; n < 20; n++) expect(expectErr(parseIpv4Header(CLASSIC.subarray(0, n)), 'ipv4', 'header').offset).toBe(0);
    expectErr(parseIpv4Header(CLASSIC, 1), 'ipv4', 'header');
  });

  it('refuses a version other than 4', () => {
    for (const v of [0, 5, 6, 15]) {
      const b = CLASSIC_PACKET.slice();
      b[0] = (v << 4) | 5;
      expectErr(parseIpv4Header(b), 'ipv4', 'version');
    }
  });

  it('refuses an IHL below 5 words (RFC 791) or beyond the data', () => {
    for (let ihl = 0; ihl < 5; ihl++) {
      const b = CLASSIC_PACKET.slice();
      b[0] = 0x40 | ihl;
      expectErr(parseIpv4Header(b), 'ipv4', 'IHL');
    }
    const short = hex('4600 0014 0000 0000 4006 0000 01020304 05060708'); // IHL 24 bytes, 20 present
    expectErr(parseIpv4Header(short), 'ipv4', 'IHL');
  });

  it('refuses a Total Length below the header length or beyond the data', () => {
    const b = CLASSIC_PACKET.slice();
    b[2] = 0;
    b[3] = 19;
    expect(expectErr(parseIpv4Header(b), 'ipv4', 'totalLength').offset).toBe(2);
    const opt = hex('4600 0014 0000 0000 4006 0000 01020304 05060708 00000000'); // 20 < IHL 24
    expectErr(parseIpv4Header(opt), 'ipv4', 'totalLength');
    expectErr(parseIpv4Header(CLASSIC_PACKET.subarray(0, 114)), 'ipv4', 'totalLength');
    // Exactly the header is fine.
    expect(expectOk(parseIpv4Header(hex('4500 0014 0000 0000 4006 0000 01020304 05060708'))).payloadEnd).toBe(20);
  });
});

describe('emitIpv4Header', () => {
  it('writes the classic header back exactly, at an offset', () => {
    const h = expectOk(parseIpv4Header(CLASSIC_PACKET)).header;
    const out = new Uint8Array(24).fill(0xee);
    expect(emitIpv4Header(h, out, 2)).toBe(20);
    expect(hexOf(out)).toBe(`eeee${hexOf(CLASSIC)}eeee`);
    expect(ipv4HeaderLength(h)).toBe(20);
  });

  it('sets IHL from the options', () => {
    const h: Ipv4Header = {
      tos: 0x10,
      totalLength: 28,
      identification: 0xabcd,
      flags: IPV4_FLAG_DF,
      fragmentOffset: 0,
      ttl: 63,
      protocol: IPPROTO_TCP,
      checksum: 0,
      src: hex('0a000001'),
      dst: hex('0a000002'),
      options: hex('01010100'),
    };
    const out = new Uint8Array(24);
    expect(emitIpv4Header(h, out)).toBe(24);
    expect(hexOf(out)).toBe('4610001cabcd40003f0600000a0000010a00000201010100');
  });

  const base: Ipv4Header = {
    tos: 0,
    totalLength: 20,
    identification: 0,
    flags: 0,
    fragmentOffset: 0,
    ttl: 64,
    protocol: 6,
    checksum: 0,
    src: new Uint8Array(4),
    dst: new Uint8Array(4),
    options: new Uint8Array(0),
  };
  const bad: { name: string; h: Ipv4Header }[] = [
    { name: 'options not a multiple of 4', h: { ...base, options: new Uint8Array(3) } },
    { name: 'options over 40 bytes', h: { ...base, options: new Uint8Array(44) } },
    { name: 'a 16-byte source', h: { ...base, src: new Uint8Array(16) } },
    { name: 'a 3-byte destination', h: { ...base, dst: new Uint8Array(3) } },
    { name: 'totalLength 65536', h: { ...base, totalLength: 65536 } },
    { name: 'flags 8', h: { ...base, flags: 8 } },
    { name: 'fragmentOffset 8192', h: { ...base, fragmentOffset: 8192 } },
    { name: 'tos 256', h: { ...base, tos: 256 } },
    { name: 'identification 65536', h: { ...base, identification: 65536 } },
    { name: 'ttl 256', h: { ...base, ttl: 256 } },
    { name: 'protocol -1', h: { ...base, protocol: -1 } },
    { name: 'checksum 65536', h: { ...base, checksum: 65536 } },
  ];
  for (const b of bad) {
    it(`refuses ${b.name}`, () => expectEncodeError(() => emitIpv4Header(b.h, new Uint8Array(80)), 'ipv4'));
  }
});
