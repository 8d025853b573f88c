/**
 * TCP header codec and checksum (mptcp/wire/tcp-header.ts), RFC 9293 §3.1: every field of
 * a hand-built header, the data offset rules, exact emit, and the checksum over the IPv4
 * (RFC 9293 §3.1) and IPv6 (RFC 8200 §8.1) pseudo-headers checked against a plain 16-bit
 * loop written for the test.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  emitTcpHeader,
  fillTcpChecksum,
  parseTcpSegment,
  tcpChecksumValid,
  TcpFlag,
  tcpHeaderLength,
  tcpPseudoHeaderSum,
  type TcpHeader,
} from '../../../mptcp/wire/tcp-header.js';
import { expectEncodeError, expectErr, expectOk } from '../../support/wire-expect.js';
import { be, cat, hex, hexOf, refChecksum, refIpv4PseudoHeader, refIpv6PseudoHeader, refOnesSum } from '../../support/wire-reference.js';

// Source port 50000, destination 443, seq and ack above 2^31, data offset 8 (32 bytes),
// reserved nibble 0x1 (AE), flags PSH|ACK, window 64240, checksum 0xabcd, urgent 0x0102;
// options NOP NOP TS(0xfedcba98, 1).
const SEGMENT = hex(`
  c350 01bb
  fedcba98
  80000001
  81 18 faf0
  abcd 0102
  01 01 08 0a fedcba98 00000001`);

const HEADER: TcpHeader = {
  srcPort: 50000,
  dstPort: 443,
  seq: 0xfedcba98,
  ack: 0x80000001,
  reserved: 1,
  flags: TcpFlag.PSH | TcpFlag.ACK,
  window: 64240,
  checksum: 0xabcd,
  urgentPointer: 0x0102,
  options: [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsval: 0xfedcba98, tsecr: 1 }],
};

describe('TcpFlag', () => {
  it('has the RFC 9293 / RFC 3168 bit positions in byte 13', () => {
    expect(TcpFlag).toStrictEqual({ FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 });
  });
});

describe('parseTcpSegment', () => {
  it('reads every field of a hand-built header, payload bounds included', () => {
    const payload = hex('68656c6c6f');
    const buf = cat(SEGMENT, payload);
    const r = expectOk(parseTcpSegment(buf, 0, buf.length));
    expect(r.header).toStrictEqual(HEADER);
    expect(r.headerLength).toBe(32);
    expect(r.payloadOffset).toBe(32);
    expect(r.payloadEnd).toBe(37);
  });

  it('works at an offset inside a larger buffer and stops at `end`', () => {
    const buf = cat(new Uint8Array(14).fill(0x99), SEGMENT, hex('0102030405'), new Uint8Array(6).fill(0x77));
    const r = expectOk(parseTcpSegment(buf, 14, 14 + 32 + 5));
    expect(r.header).toStrictEqual(HEADER);
    expect([r.payloadOffset, r.payloadEnd]).toEqual([46, 51]);
  });

  it('a 20-byte header has no options; all-ones fields are read unsigned', () => {
    const b = hex('ffff ffff ffffffff ffffffff 5f ff ffff ffff ffff');
    const r = expectOk(parseTcpSegment(b, 0, 20));
    expect(r.header).toStrictEqual({
      srcPort: 65535,
      dstPort: 65535,
      seq: 0xffffffff,
      ack: 0xffffffff,
      reserved: 0xf,
      flags: 0xff,
      window: 65535,
      checksum: 65535,
      urgentPointer: 65535,
      options: [],
    });
    expect(r.headerLength).toBe(20);
  });

  it('data offset 15 allows the full 40 bytes of options', () => {
    const opts = cat(...new Array<Uint8Array>(4).fill(hex('08 0a 00000001 00000002')));
    const b = cat(hex('0001 0002 00000000 00000000 f0 02 0000 0000 0000'), opts);
    const r = expectOk(parseTcpSegment(b, 0, b.length));
    expect(r.headerLength).toBe(60);
    expect(r.header.options).toHaveLength(4);
  });

  it('refuses fewer than 20 bytes', () => {
    for (let n = 0; n < 20; n++) {
      const e = expectErr(parseTcpSegment(SEGMENT, 0, n), 'tcp', 'header');
      expect(e.offset).toBe(0);
    }
  });

  it('refuses a data offset below 5 words (RFC 9293 §3.1)', () => {
    for (let doff = 0; doff < 5; doff++) {
      const b = SEGMENT.slice();
      b[12] = (doff << 4) | 1;
      const e = expectErr(parseTcpSegment(b, 0, b.length), 'tcp', 'dataOffset');
      expect(e.offset).toBe(12);
    }
  });

  it('refuses a data offset beyond the segment', () => {
    const b = SEGMENT.slice(0, 28);
    expect(expectErr(parseTcpSegment(b, 0, 28), 'tcp', 'dataOffset').offset).toBe(12);
    const c = SEGMENT.slice();
    c[12] = 0xf0; // 60 bytes claimed, 32 present
    expectErr(parseTcpSegment(c, 0, c.length), 'tcp', 'dataOffset');
  });

  it('refuses bounds outside the buffer instead of reading past it', () => {
    expectErr(parseTcpSegment(SEGMENT, 0, SEGMENT.length + 1), 'tcp', 'bounds');
    expectErr(parseTcpSegment(SEGMENT, -1, SEGMENT.length), 'tcp', 'bounds');
    // An MPTCP option whose bytes the buffer lacks must not be read (it would hold BigInts of garbage).
    const b = cat(hex('0001 0002 00000000 00000000 80 02 0000 0000 0000'), hex('1e 0c 60 00'));
    expectErr(parseTcpSegment(b, 0, 32), 'tcp', 'bounds');
  });

  it('passes option framing errors up', () => {
    const b = SEGMENT.slice();
    b[23] = 0x0b; // timestamps claims 11 bytes, 10 remain in the option area
    const e = expectErr(parseTcpSegment(b, 0, b.length), 'tcp-option', 'length');
    expect(e.offset).toBe(23);
  });
});

describe('emitTcpHeader', () => {
  it('writes the hand-built header exactly, data offset computed from the options', () => {
    const out = new Uint8Array(40).fill(0xee);
    expect(emitTcpHeader(HEADER, out, 3)).toBe(32);
    expect(hexOf(out.subarray(3, 35))).toBe(hexOf(SEGMENT));
    expect(out[2]).toBe(0xee);
    expect(out[35]).toBe(0xee);
    expect(tcpHeaderLength(HEADER)).toBe(32);
  });

  it('pads odd option lengths with zeros and sets the data offset accordingly', () => {
    const h: TcpHeader = { ...HEADER, options: [{ kind: 'mss', mss: 1460 }, { kind: 'window-scale', shift: 7 }] };
    const out = new Uint8Array(40).fill(0xee);
    expect(tcpHeaderLength(h)).toBe(28);
    expect(emitTcpHeader(h, out, 0)).toBe(28);
    expect(out[12]).toBe(0x71);
    expect(hexOf(out.subarray(20, 29))).toBe('020405b403030700ee');
  });

  const bad: { name: string; h: TcpHeader }[] = [
    { name: 'srcPort 65536', h: { ...HEADER, srcPort: 65536 } },
    { name: 'dstPort -1', h: { ...HEADER, dstPort: -1 } },
    { name: 'seq 2^32', h: { ...HEADER, seq: 2 ** 32 } },
    { name: 'ack 1.5', h: { ...HEADER, ack: 1.5 } },
    { name: 'reserved 16', h: { ...HEADER, reserved: 16 } },
    { name: 'flags 256', h: { ...HEADER, flags: 256 } },
    { name: 'window 65536', h: { ...HEADER, window: 65536 } },
    { name: 'checksum 65536', h: { ...HEADER, checksum: 65536 } },
    { name: 'urgentPointer 65536', h: { ...HEADER, urgentPointer: 65536 } },
  ];
  for (const b of bad) {
    it(`refuses ${b.name}`, () => expectEncodeError(() => emitTcpHeader(b.h, new Uint8Array(60)), 'tcp'));
  }
  it('refuses options over 40 bytes', () => {
    const ts = { kind: 'timestamps', tsval: 0, tsecr: 0 } as const;
    expectEncodeError(() => emitTcpHeader({ ...HEADER, options: [ts, ts, ts, ts, { kind: 'nop' }] }, new Uint8Array(80)));
  });
});

// ---------------------------------------------------------------- checksum

const V4_SRC = hex('c0a80001');
const V4_DST = hex('0a000002');
const V6_SRC = hex('20010db8000000000000000000000001');
const V6_DST = hex('fe800000000000000202b3fffe1e8329');

/** A SYN with MSS and MP_CAPABLE, plus `payload`; checksum field zero. */
function segment(payload: Uint8Array): Uint8Array {
  return cat(hex('9c40 0050 00000001 00000000 70 02 ffff 0000 0000 020405b4 1e040181'), payload);
}

/** The RFC checksum computed by hand: pseudo-header then the segment with a zero checksum field. */
function refTcpChecksum(pseudo: Uint8Array, seg: Uint8Array): number {
  const zeroed = seg.slice();
  zeroed[16] = zeroed[17] = 0;
  return refChecksum(cat(pseudo, zeroed));
}

describe('TCP checksum', () => {
  for (const payloadLength of [0, 1, 2, 5, 100, 1001]) {
    it(`over the IPv4 pseudo-header, ${payloadLength}-byte payload`, () => {
      const payload = Uint8Array.from({ length: payloadLength }, (_, i) => (i * 37 + 11) & 0xff);
      const seg = segment(payload);
      const expected = refTcpChecksum(refIpv4PseudoHeader(V4_SRC, V4_DST, seg.length), seg);
      const buf = cat(new Uint8Array(20), seg);
      expect(fillTcpChecksum(buf, 20, buf.length, V4_SRC, V4_DST)).toBe(expected);
      expect(buf[36] * 256 + buf[37]).toBe(expected);
      expect(tcpChecksumValid(buf, 20, buf.length, V4_SRC, V4_DST)).toBe(true);
      // Independent verification: the sum over pseudo-header and segment is all ones.
      expect(refOnesSum(cat(refIpv4PseudoHeader(V4_SRC, V4_DST, seg.length), buf.subarray(20)))).toBe(0xffff);
    });
    it(`over the IPv6 pseudo-header, ${payloadLength}-byte payload`, () => {
      const payload = Uint8Array.from({ length: payloadLength }, (_, i) => (i * 91 + 3) & 0xff);
      const seg = segment(payload);
      const expected = refTcpChecksum(refIpv6PseudoHeader(V6_SRC, V6_DST, seg.length), seg);
      const buf = cat(new Uint8Array(40), seg);
      expect(fillTcpChecksum(buf, 40, buf.length, V6_SRC, V6_DST)).toBe(expected);
      expect(tcpChecksumValid(buf, 40, buf.length, V6_SRC, V6_DST)).toBe(true);
    });
  }

  it('the pseudo-header sums match the RFC layouts', () => {
    expect(refOnesSum(be(tcpPseudoHeaderSum(V4_SRC, V4_DST, 1234), 4))).toBe(refOnesSum(refIpv4PseudoHeader(V4_SRC, V4_DST, 1234)));
    expect(refOnesSum(be(tcpPseudoHeaderSum(V6_SRC, V6_DST, 0x12345), 4))).toBe(refOnesSum(refIpv6PseudoHeader(V6_SRC, V6_DST, 0x12345)));
  });

  it('detects any single-bit error in segment, source or destination', () => {
    const seg = segment(hex('0102030405'));
    const buf = cat(new Uint8Array(20), seg);
    fillTcpChecksum(buf, 20, buf.length, V4_SRC, V4_DST);
    for (let i = 20; i < buf.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        buf[i] ^= 1 << bit;
        expect(tcpChecksumValid(buf, 20, buf.length, V4_SRC, V4_DST)).toBe(false);
        buf[i] ^= 1 << bit;
      }
    }
    expect(tcpChecksumValid(buf, 20, buf.length, hex('c0a80002'), V4_DST)).toBe(false);
    expect(tcpChecksumValid(buf, 20, buf.length, V4_SRC, hex('0a000003'))).toBe(false);
    // The length is part of the pseudo-header: a trailing zero byte changes it.
    const longer = cat(buf, [0]);
    expect(tcpChecksumValid(longer, 20, longer.length, V4_SRC, V4_DST)).toBe(false);
  });

  it('agrees with the reference on random segments and addresses', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 20, maxLength: 300 }),
        fc.boolean(),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        (seg, v6, s, d) => {
          const src = v6 ? s : s.slice(0, 4);
          const dst = v6 ? d : d.slice(0, 4);
          const pseudo = v6 ? refIpv6PseudoHeader(src, dst, seg.length) : refIpv4PseudoHeader(src, dst, seg.length);
          const buf = seg.slice();
          expect(fillTcpChecksum(buf, 0, buf.length, src, dst)).toBe(refTcpChecksum(pseudo, seg));
          expect(tcpChecksumValid(buf, 0, buf.length, src, dst)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});
