/**
 * IPv6 header codec (mptcp/wire/ipv6.ts), RFC 8200: the fixed header's fields, the walk
 * over extension headers (§4: Hop-by-Hop, Routing, Fragment, Destination Options; RFC 4302
 * AH, whose length is in 4-octet units), Payload Length checks, the fragment flag, and
 * exact emit of the fixed header plus extension headers.
 */
import { describe, expect, it } from 'vitest';
import { emitIpv6Header, ipv6HeaderLength, parseIpv6Header, type Ipv6Header } from '../../../mptcp/wire/ipv6.js';
import { expectEncodeError, expectErr, expectOk } from '../../support/wire-expect.js';
import { be, cat, hex, hexOf } from '../../support/wire-reference.js';

const SRC = hex('20010db8000000000000000000000001');
const DST = hex('20010db8000000000000000000000002');

/** Fixed header: version 6, traffic class 0xab, flow label 0xcdef0, then the given fields. */
function fixed(payloadLength: number, nextHeader: number, hopLimit = 64): Uint8Array {
  return cat(hex('6abcdef0'), be(payloadLength, 2), [nextHeader, hopLimit], SRC, DST);
}

const TCP = hex('c350 01bb 00000001 00000000 50 02 ffff 0000 0000');

// Hop-by-Hop (next: Routing), 8 bytes: PadN of 4.
const HBH = hex('2b 00 01 04 00000000');
// Routing type 2, one address (next: Fragment), Hdr Ext Len 2 -> 24 bytes.
const ROUTING = cat(hex('2c 02 02 01 00000000'), hex('20010db8000000000000000000000099'));
// Fragment (next: AH): offset 0, M 0 (an atomic fragment), identification.
const FRAGMENT = hex('33 00 0000 12345678');
// AH (next: Destination Options), Payload Len 4 -> (4 + 2) * 4 = 24 bytes: SPI, sequence, 12-byte ICV.
const AH = cat(hex('3c 04 0000 00000100 00000001'), new Uint8Array(12).fill(0xaa));
// Destination Options (next: TCP), 8 bytes.
const DEST = hex('06 00 01 04 00000000');

const CHAIN = cat(HBH, ROUTING, FRAGMENT, AH, DEST);
const PACKET = cat(fixed(CHAIN.length + TCP.length, 0), CHAIN, TCP);

describe('parseIpv6Header', () => {
  it('reads the fixed header fields', () => {
    const b = cat(fixed(20, 6, 255), TCP);
    const r = expectOk(parseIpv6Header(b));
    expect(r.header).toStrictEqual({
      trafficClass: 0xab,
      flowLabel: 0xcdef0,
      payloadLength: 20,
      nextHeader: 6,
      hopLimit: 255,
      src: SRC,
      dst: DST,
      extensionHeaders: [],
    } satisfies Ipv6Header);
    expect([r.upperProtocol, r.upperOffset, r.payloadEnd, r.fragmented]).toEqual([6, 40, 60, false]);
  });

  it('walks Hop-by-Hop, Routing, Fragment, AH and Destination Options to TCP', () => {
    const buf = cat(new Uint8Array(6), PACKET, new Uint8Array(4)); // link header before, padding after
    const r = expectOk(parseIpv6Header(buf, 6));
    expect(r.header.nextHeader).toBe(0);
    expect(r.header.extensionHeaders.map((e) => e.type)).toEqual([0, 43, 44, 51, 60]);
    expect(r.header.extensionHeaders.map((e) => hexOf(e.bytes))).toEqual([HBH, ROUTING, FRAGMENT, AH, DEST].map(hexOf));
    expect(r.upperProtocol).toBe(6);
    expect(r.upperOffset).toBe(6 + 40 + CHAIN.length);
    expect(r.payloadEnd).toBe(6 + PACKET.length);
    expect(r.fragmented).toBe(false);
  });

  it('steps over Mobility (135), HIP (139) and Shim6 (140) in 8-octet units', () => {
    const chain = cat(hex('8b 00 0000 00000000'), hex('8c 01 0000 00000000 0000000000000000'), hex('06 00 0000 00000000'));
    const b = cat(fixed(chain.length + 20, 135), chain, TCP);
    const r = expectOk(parseIpv6Header(b));
    expect(r.header.extensionHeaders.map((e) => [e.type, e.bytes.length])).toEqual([
      [135, 8],
      [139, 16],
      [140, 8],
    ]);
    expect([r.upperProtocol, r.upperOffset]).toEqual([6, 40 + 32]);
  });

  it('a first fragment (offset 0, M=1) is fragmented; the walk continues', () => {
    const frag = hex('06 00 0001 00000001');
    const b = cat(fixed(8 + 20, 44), frag, TCP);
    const r = expectOk(parseIpv6Header(b));
    expect(r.fragmented).toBe(true);
    expect([r.upperProtocol, r.upperOffset]).toEqual([6, 48]);
  });

  it('an atomic fragment (offset 0, M=0, reserved bits set) is not fragmented', () => {
    const frag = hex('06 ff 0006 00000001');
    const r = expectOk(parseIpv6Header(cat(fixed(28, 44), frag, TCP)));
    expect(r.fragmented).toBe(false);
    expect(r.upperProtocol).toBe(6);
  });

  it('a non-first fragment is fragmented, and what follows its header is data, not headers (RFC 8200 §4.5)', () => {
    // Offset 1 (8 octets), M=0: the last fragment. Its Next Header names the first header of
    // the Fragmentable Part (Destination Options); the bytes after the Fragment header are a
    // piece of the original payload, here starting 0x06 0xff, which read as a header would
    // claim (255 + 1) * 8 bytes.
    const frag = hex('3c 00 0008 00000001');
    const data = hex('06ff0102030405060708090a0b0c0d0e');
    const b = cat(fixed(8 + data.length, 44), frag, data);
    const r = expectOk(parseIpv6Header(b));
    expect(r.fragmented).toBe(true);
    expect(r.header.extensionHeaders.map((e) => e.type)).toEqual([44]);
    expect(r.upperProtocol).toBe(60);
    expect(r.upperOffset).toBe(48);
    // Offset 0x1fff, M=1, upper layer TCP: also fragmented, ok.
    const mid = hex('06 00 ffff 00000002');
    expect(expectOk(parseIpv6Header(cat(fixed(8 + 4, 44), mid, hex('deadbeef')))).fragmented).toBe(true);
  });

  it('refuses a Hop-by-Hop header anywhere but first (RFC 8200 §4.1)', () => {
    const dest = hex('00 00 01 04 00000000'); // Destination Options, next: Hop-by-Hop
    const hbh = hex('06 00 01 04 00000000');
    const b = cat(fixed(16 + 20, 60), dest, hbh, TCP);
    const e = expectErr(parseIpv6Header(b), 'ipv6', 'extension header 0');
    expect(e.offset).toBe(48);
    expect(e.rule).toMatch(/RFC 8200/);
  });

  it('stops at ESP (50), which cannot be walked past', () => {
    const b = cat(fixed(16, 50), new Uint8Array(16).fill(0x11));
    const r = expectOk(parseIpv6Header(b));
    expect([r.upperProtocol, r.upperOffset, r.header.extensionHeaders.length]).toEqual([50, 40, 0]);
  });

  it('No Next Header (59): the upper layer starts at the end of the payload', () => {
    const r = expectOk(parseIpv6Header(cat(fixed(8, 60), hex('3b 00 01 04 00000000'))));
    expect([r.upperProtocol, r.upperOffset, r.payloadEnd]).toEqual([59, 48, 48]);
    const r2 = expectOk(parseIpv6Header(cat(fixed(4, 59), hex('01020304'))));
    expect([r2.upperProtocol, r2.upperOffset, r2.payloadEnd]).toEqual([59, 44, 44]);
  });

  it('refuses fewer than 40 bytes', () => {
    for (let n = 0; n < 40; n++) expect(expectErr(parseIpv6Header(PACKET.subarray(0, n)), 'ipv6', 'header').offset).toBe(0);
  });

  it('refuses a version other than 6', () => {
    for (const v of [0, 4, 7, 15]) {
      const b = PACKET.slice();
      b[0] = (v << 4) | (b[0] & 0xf);
      expectErr(parseIpv6Header(b), 'ipv6', 'version');
    }
  });

  it('refuses Payload Length 0 (jumbogram) and a payload beyond the data', () => {
    expect(expectErr(parseIpv6Header(cat(fixed(0, 0), HBH)), 'ipv6', 'payloadLength').offset).toBe(4);
    expect(expectErr(parseIpv6Header(PACKET.subarray(0, PACKET.length - 1)), 'ipv6', 'payloadLength').offset).toBe(4);
  });

  it('refuses an extension header cut short by Payload Length', () => {
    // Fewer than 8 bytes left for the header.
    const e = expectErr(parseIpv6Header(cat(fixed(4, 0), hex('06000104'))), 'ipv6', 'extension header 0');
    expect(e.offset).toBe(40);
    // Its length field claims more than the payload holds.
    const long = hex('06 01 01 04 00000000'); // 16 bytes claimed, 8 present
    expectErr(parseIpv6Header(cat(fixed(8, 60), long, new Uint8Array(8))), 'ipv6', 'extension header 60');
    // AH: (Payload Len + 2) * 4.
    const ah = hex('06 05 0000 00000000'); // (5 + 2) * 4 = 28 bytes claimed
    expectErr(parseIpv6Header(cat(fixed(24, 51), ah, new Uint8Array(16))), 'ipv6', 'extension header 51');
    expect(expectOk(parseIpv6Header(cat(fixed(28, 51), ah, new Uint8Array(20)))).upperOffset).toBe(68);
  });
});

describe('emitIpv6Header', () => {
  it('writes the fixed header and the extension headers back exactly', () => {
    const r = expectOk(parseIpv6Header(PACKET));
    const out = new Uint8Array(PACKET.length + 4).fill(0xee);
    const n = emitIpv6Header(r.header, out, 2);
    expect(n).toBe(40 + CHAIN.length);
    expect(ipv6HeaderLength(r.header)).toBe(n);
    expect(hexOf(out.subarray(2, 2 + n))).toBe(hexOf(PACKET.subarray(0, n)));
    expect([out[0], out[1], out[2 + n]]).toEqual([0xee, 0xee, 0xee]);
  });

  it('packs traffic class and flow label into the first word', () => {
    const h: Ipv6Header = { trafficClass: 0xff, flowLabel: 0xfffff, payloadLength: 0, nextHeader: 59, hopLimit: 1, src: SRC, dst: DST, extensionHeaders: [] };
    const out = new Uint8Array(40);
    emitIpv6Header(h, out);
    expect(hexOf(out.subarray(0, 8))).toBe('6fffffff00003b01');
    emitIpv6Header({ ...h, trafficClass: 0, flowLabel: 1 }, out);
    expect(hexOf(out.subarray(0, 4))).toBe('60000001');
  });

  const base: Ipv6Header = { trafficClass: 0, flowLabel: 0, payloadLength: 0, nextHeader: 6, hopLimit: 64, src: SRC, dst: DST, extensionHeaders: [] };
  const bad: { name: string; h: Ipv6Header }[] = [
    { name: 'a 4-byte source', h: { ...base, src: new Uint8Array(4) } },
    { name: 'a 15-byte destination', h: { ...base, dst: new Uint8Array(15) } },
    { name: 'traffic class 256', h: { ...base, trafficClass: 256 } },
    { name: 'flow label 2^20', h: { ...base, flowLabel: 0x100000 } },
    { name: 'payload length 65536', h: { ...base, payloadLength: 65536 } },
    { name: 'hop limit 256', h: { ...base, hopLimit: 256 } },
    { name: 'next header -1', h: { ...base, nextHeader: -1 } },
  ];
  for (const b of bad) {
    it(`refuses ${b.name}`, () => expectEncodeError(() => emitIpv6Header(b.h, new Uint8Array(80)), 'ipv6'));
  }
});
