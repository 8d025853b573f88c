/**
 * Whole IP packets carrying TCP (mptcp/wire/packet.ts): hand-built IPv4 and IPv6 packets
 * with MPTCP options, checksums computed in the test with the plain RFC 1071 loop.
 */
import { describe, expect, it } from 'vitest';
import { parseTcpPacket } from '../../../mptcp/wire/packet.js';
import { expectErr, expectOk } from '../../support/wire-expect.js';
import { be, cat, hex, refChecksum, refIpv4PseudoHeader, refIpv6PseudoHeader } from '../../support/wire-reference.js';

const V4_SRC = hex('0a000001');
const V4_DST = hex('0a000102');
const V6_SRC = hex('20010db8000000000000000000000001');
const V6_DST = hex('20010db8000000000000000000000002');

// ACK|PSH with NOP NOP TS and a DSS (A, M, 32-bit: 18 bytes) + 2 NOPs: data offset 13 (52 bytes).
const TCP_HEADER = hex(`
  c350 01bb 00001000 00002000 d0 18 faf0 0000 0000
  01 01 080a 00000064 000000c8
  1e 12 20 05 00000001 00000002 00000001 0005
  01 01`);
const PAYLOAD = hex('68656c6c6f'); // "hello"

/** TCP segment with its checksum filled in by the reference loop. */
function tcpSegment(pseudo: (len: number) => Uint8Array, payload = PAYLOAD): Uint8Array {
  const seg = cat(TCP_HEADER, payload);
  const c = refChecksum(cat(pseudo(seg.length), seg));
  seg[16] = c >>> 8;
  seg[17] = c & 0xff;
  return seg;
}

function ipv4Packet(opts: { flagsFrag?: number; protocol?: number; payload?: Uint8Array } = {}): Uint8Array {
  const seg = tcpSegment((len) => refIpv4PseudoHeader(V4_SRC, V4_DST, len), opts.payload);
  const header = cat(hex('4500'), be(20 + seg.length, 2), hex('abcd'), be(opts.flagsFrag ?? 0x4000, 2), [64, opts.protocol ?? 6], [0, 0], V4_SRC, V4_DST);
  const c = refChecksum(header);
  header[10] = c >>> 8;
  header[11] = c & 0xff;
  return cat(header, seg);
}

// Hop-by-Hop (next: Destination Options) and Destination Options (next: TCP), 8 bytes each.
const V6_EXT = hex('3c 00 01 04 00000000  06 00 01 04 00000000');

function ipv6Packet(ext = V6_EXT, firstNext = 0): Uint8Array {
  const seg = tcpSegment((len) => refIpv6PseudoHeader(V6_SRC, V6_DST, len));
  return cat(hex('60000000'), be(ext.length + seg.length, 2), [firstNext, 64], V6_SRC, V6_DST, ext, seg);
}

describe('parseTcpPacket', () => {
  it('an IPv4 packet: headers, bounds and both checksums', () => {
    const p = ipv4Packet();
    const r = expectOk(parseTcpPacket(p));
    expect(r.ip.version).toBe(4);
    expect(Array.from(r.src)).toEqual([10, 0, 0, 1]);
    expect(Array.from(r.dst)).toEqual([10, 0, 1, 2]);
    expect([r.tcpOffset, r.tcpEnd]).toEqual([20, p.length]);
    expect([r.tcp.payloadOffset, r.tcp.payloadEnd]).toEqual([72, 77]);
    expect(r.ipChecksumValid).toBe(true);
    expect(r.tcpChecksumValid).toBe(true);
    const h = r.tcp.header;
    expect([h.srcPort, h.dstPort, h.seq, h.ack, h.flags, h.window]).toEqual([50000, 443, 0x1000, 0x2000, 0x18, 0xfaf0]);
    expect(h.options.map((o) => o.kind)).toEqual(['nop', 'nop', 'timestamps', 'mptcp', 'nop', 'nop']);
    expect(h.options[3]).toStrictEqual({
      kind: 'mptcp',
      option: { subtype: 'DSS', reserved: 0, flags: 0x05, dataAck: 1n, dsn: 2n, subflowSeq: 1, dataLength: 5 },
    });
  });

  it('ignores link-layer padding after Total Length, and works at an offset', () => {
    const p = ipv4Packet();
    const frame = cat(new Uint8Array(14).fill(0xee), p, new Uint8Array(6));
    const r = expectOk(parseTcpPacket(frame, 14));
    expect([r.tcpOffset, r.tcpEnd]).toEqual([34, 14 + p.length]);
    expect(r.tcpChecksumValid).toBe(true);
    expect(r.ipChecksumValid).toBe(true);
  });

  it('reports bad checksums without refusing the packet', () => {
    const p = ipv4Packet();
    p[8] = 63; // TTL, covered by the IPv4 header checksum only
    let r = expectOk(parseTcpPacket(p));
    expect([r.ipChecksumValid, r.tcpChecksumValid]).toEqual([false, true]);
    p[8] = 64;
    p[p.length - 1] ^= 0x01; // payload
    r = expectOk(parseTcpPacket(p));
    expect([r.ipChecksumValid, r.tcpChecksumValid]).toEqual([true, false]);
  });

  it('an odd-length payload checksums with zero padding', () => {
    const r = expectOk(parseTcpPacket(ipv4Packet({ payload: hex('010203') })));
    expect(r.tcpChecksumValid).toBe(true);
  });

  it('an IPv6 packet with extension headers', () => {
    const p = ipv6Packet();
    const r = expectOk(parseTcpPacket(p));
    expect(r.ip.version).toBe(6);
    expect(r.ip.version === 6 && r.ip.header.extensionHeaders.map((e) => e.type)).toEqual([0, 60]);
    expect([r.tcpOffset, r.tcpEnd]).toEqual([56, p.length]);
    expect(r.ipChecksumValid).toBeUndefined();
    expect(r.tcpChecksumValid).toBe(true);
    p[p.length - 2] ^= 0x80;
    expect(expectOk(parseTcpPacket(p)).tcpChecksumValid).toBe(false);
  });

  it('an IPv6 packet without extension headers', () => {
    const r = expectOk(parseTcpPacket(ipv6Packet(new Uint8Array(0), 6)));
    expect(r.tcpOffset).toBe(40);
    expect(r.tcpChecksumValid).toBe(true);
  });

  it('refuses an empty buffer and IP versions other than 4 and 6', () => {
    expectErr(parseTcpPacket(new Uint8Array(0)), 'ipv4', 'version');
    expectErr(parseTcpPacket(ipv4Packet(), 10_000), 'ipv4', 'version');
    for (const v of [0, 5, 7, 15]) {
      const p = ipv4Packet();
      p[0] = (v << 4) | 5;
      expectErr(parseTcpPacket(p), 'ipv4', 'version');
    }
  });

  it('refuses IPv4 fragments (MF set, or a non-zero offset)', () => {
    expect(expectErr(parseTcpPacket(ipv4Packet({ flagsFrag: 0x2000 })), 'ipv4', 'fragment').offset).toBe(6);
    expectErr(parseTcpPacket(ipv4Packet({ flagsFrag: 0x0001 })), 'ipv4', 'fragment');
    expectErr(parseTcpPacket(ipv4Packet({ flagsFrag: 0x5fff })), 'ipv4', 'fragment');
    // DF alone is fine.
    expect(parseTcpPacket(ipv4Packet({ flagsFrag: 0x4000 })).ok).toBe(true);
  });

  it('refuses IPv6 fragments', () => {
    const frag = hex('06 00 0001 00000001'); // offset 0, M=1: a first fragment
    expectErr(parseTcpPacket(ipv6Packet(frag, 44)), 'ipv6', 'fragment');
    const atomic = hex('06 00 0000 00000001');
    expect(parseTcpPacket(ipv6Packet(atomic, 44)).ok).toBe(true);
  });

  it('refuses packets that do not carry TCP', () => {
    expectErr(parseTcpPacket(ipv4Packet({ protocol: 17 })), 'ipv4', 'protocol');
    expectErr(parseTcpPacket(ipv6Packet(hex('11 00 01 04 00000000'), 60)), 'ipv6', 'protocol');
  });

  it('passes IP and TCP errors up', () => {
    expectErr(parseTcpPacket(ipv4Packet().subarray(0, 19)), 'ipv4', 'header');
    expectErr(parseTcpPacket(ipv6Packet().subarray(0, 60)), 'ipv6', 'payloadLength');
    const p = ipv4Packet();
    p[20 + 12] = 0x40; // data offset 4
    expectErr(parseTcpPacket(p), 'tcp', 'dataOffset');
    const q = ipv4Packet();
    q[20 + 20 + 12 + 1] = 48; // the DSS's length byte: 48 bytes overrun the 32-byte option area
    expectErr(parseTcpPacket(q), 'tcp-option', 'length');
  });
});
