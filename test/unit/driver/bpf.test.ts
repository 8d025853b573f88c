/**
 * The raw sockets' classic BPF port filter (mptcp/driver/bpf.ts), run by a small cBPF
 * interpreter over the encoded `struct sock_filter` bytes: IPv4 data starts at the IP header
 * (the IHL locates TCP), IPv6 data at the TCP header. The kernel's verdict on the same
 * programs is checked by test/privileged/driver.
 */
import { describe, expect, it } from 'vitest';
import { BPF_ACCEPT, encodeBpf, MAX_FILTER_RANGES, tcpDstPortFilter } from '../../../mptcp/driver/bpf.js';
import type { PortRange } from '../../../mptcp/driver/ports.js';
import { fromHex } from '../../../mptcp/wire/bytes.js';
import { buildTcpPacket } from '../../support/packet-builder.js';

/** Interprets the subset of cBPF the filter uses, from its encoded little-endian bytes. */
function runBpf(code: Uint8Array, pkt: Uint8Array): number {
  const dv = new DataView(code.buffer, code.byteOffset, code.byteLength);
  let a = 0;
  let x = 0;
  let pc = 0;
  const u16 = (off: number) => (off + 2 <= pkt.length ? ((pkt[off] ?? 0) << 8) | (pkt[off + 1] ?? 0) : undefined);
  for (let steps = 0; steps < 4096; steps++) {
    if (pc * 8 >= code.length) throw new Error('fell off the end');
    const op = dv.getUint16(pc * 8, true);
    const jt = dv.getUint8(pc * 8 + 2);
    const jf = dv.getUint8(pc * 8 + 3);
    const k = dv.getUint32(pc * 8 + 4, true);
    pc++;
    switch (op) {
      case 0xb1: // ldxb 4*([k]&0xf)
        if (k >= pkt.length) return 0;
        x = 4 * ((pkt[k] ?? 0) & 0xf);
        break;
      case 0x48: // ldh [x+k]
      case 0x28: {
        // ldh [k]
        const v = u16(op === 0x48 ? x + k : k);
        if (v === undefined) return 0; // out of bounds: the kernel rejects
        a = v;
        break;
      }
      case 0x35: // jge #k
        pc += a >= k ? jt : jf;
        break;
      case 0x25: // jgt #k
        pc += a > k ? jt : jf;
        break;
      case 0x06: // ret #k
        return k;
      default:
        throw new Error(`unexpected opcode 0x${op.toString(16)}`);
    }
  }
  throw new Error('loop');
}

const v4 = { src: fromHex('0a000002'), dst: fromHex('0a000001') };
const v6 = { src: fromHex('fd000000000000000000000000000002'), dst: fromHex('fd000000000000000000000000000001') };

function v4Packet(dstPort: number, srcPort = 5000): Uint8Array {
  return buildTcpPacket({ ...v4, srcPort, dstPort, flags: 0x12, options: [] });
}

/** IPv6 raw sockets hand the filter the TCP segment without the IPv6 header. */
function v6Segment(dstPort: number, srcPort = 5000): Uint8Array {
  return buildTcpPacket({ ...v6, srcPort, dstPort, flags: 0x12, options: [] }).subarray(40);
}

/** An IPv4 packet with 4 bytes of IP options (IHL 6). */
function v4WithOptions(dstPort: number): Uint8Array {
  const p = v4Packet(dstPort);
  const out = new Uint8Array(p.length + 4);
  out.set(p.subarray(0, 20));
  out[0] = 0x46;
  out.set([0x01, 0x01, 0x01, 0x00], 20); // NOP NOP NOP EOL
  out.set(p.subarray(20), 24);
  return out;
}

describe('tcpDstPortFilter', () => {
  const ports: PortRange[] = [
    { lo: 61000, hi: 65535 },
    { lo: 443, hi: 443 },
  ];
  const prog4 = encodeBpf(tcpDstPortFilter(4, ports), true);
  const prog6 = encodeBpf(tcpDstPortFilter(6, ports), true);
  const cases: [number, boolean][] = [
    [443, true],
    [442, false],
    [444, false],
    [60999, false],
    [61000, true],
    [63000, true],
    [65535, true],
    [80, false],
    [32768, false],
  ];

  it.each(cases)('IPv4: destination port %i accepted = %s', (port, ok) => {
    expect(runBpf(prog4, v4Packet(port))).toBe(ok ? BPF_ACCEPT : 0);
  });

  it.each(cases)('IPv6 (data from the TCP header): destination port %i accepted = %s', (port, ok) => {
    expect(runBpf(prog6, v6Segment(port))).toBe(ok ? BPF_ACCEPT : 0);
  });

  it('looks at the destination port only, never the source port', () => {
    expect(runBpf(prog4, v4Packet(80, 61000))).toBe(0);
    expect(runBpf(prog6, v6Segment(80, 443))).toBe(0);
    expect(runBpf(prog4, v4Packet(61001, 80))).toBe(BPF_ACCEPT);
  });

  it('finds the TCP header after IPv4 options through the IHL', () => {
    expect(runBpf(prog4, v4WithOptions(443))).toBe(BPF_ACCEPT);
    expect(runBpf(prog4, v4WithOptions(80))).toBe(0);
  });

  it('rejects packets too short to hold the port', () => {
    expect(runBpf(prog4, v4Packet(443).subarray(0, 22))).toBe(0);
    expect(runBpf(prog6, new Uint8Array(3))).toBe(0);
  });

  it('merges overlapping ranges and keeps the program short', () => {
    const prog = tcpDstPortFilter(4, [
      { lo: 100, hi: 200 },
      { lo: 150, hi: 300 },
      { lo: 301, hi: 301 },
    ]);
    expect(prog).toHaveLength(2 + 2 + 2); // one range after merging, plus the two returns
    const code = encodeBpf(prog, true);
    expect(runBpf(code, v4Packet(301))).toBe(BPF_ACCEPT);
    expect(runBpf(code, v4Packet(302))).toBe(0);
    expect(runBpf(code, v4Packet(99))).toBe(0);
  });

  it('handles many ranges (jump offsets stay within 8 bits)', () => {
    const many = Array.from({ length: MAX_FILTER_RANGES }, (_, i) => ({ lo: 1000 + i * 10, hi: 1000 + i * 10 + 2 }));
    const code = encodeBpf(tcpDstPortFilter(6, many), true);
    for (const r of many) {
      expect(runBpf(code, v6Segment(r.lo))).toBe(BPF_ACCEPT);
      expect(runBpf(code, v6Segment(r.hi))).toBe(BPF_ACCEPT);
      expect(runBpf(code, v6Segment(r.hi + 1))).toBe(0);
    }
    expect(() => tcpDstPortFilter(4, [...many, { lo: 9, hi: 9 }])).toThrow(RangeError);
    expect(() => tcpDstPortFilter(4, [])).toThrow(RangeError);
  });
});

describe('encodeBpf', () => {
  it('lays out struct sock_filter {u16 code; u8 jt; u8 jf; u32 k} in host order', () => {
    const ins = [{ code: 0x35, jt: 1, jf: 2, k: 0x01020304 }];
    expect([...encodeBpf(ins, true)]).toEqual([0x35, 0x00, 1, 2, 0x04, 0x03, 0x02, 0x01]);
    expect([...encodeBpf(ins, false)]).toEqual([0x00, 0x35, 1, 2, 0x01, 0x02, 0x03, 0x04]);
    expect([...encodeBpf([{ code: 6, jt: 0, jf: 0, k: BPF_ACCEPT }], true)].slice(4)).toEqual([0xff, 0xff, 0xff, 0xff]);
  });
});
