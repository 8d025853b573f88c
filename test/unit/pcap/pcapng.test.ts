import { describe, it, expect } from 'vitest';
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_RAW,
  MAX_CAPTURE_LENGTH,
  parseCaptureFile,
  type CaptureFile,
} from '../../../mptcp/pcap/pcap-file.js';
import type { ParseResult, WireError } from '../../../mptcp/wire/result.js';
import { block, concat, epb, Fields, fromHex, idb, IPV4_TCP_SYN_HEX, opb, options, shb, spb, tsoffset, tsresol } from './builders.js';

function value(r: ParseResult<CaptureFile>): CaptureFile {
  if (!r.ok) throw new Error(`unexpected parse error: ${JSON.stringify(r.error)}`);
  return r.value;
}

function error(r: ParseResult<CaptureFile>): WireError {
  if (r.ok) throw new Error('expected a parse error');
  return r.error;
}

const SYN = fromHex(IPV4_TCP_SYN_HEX);
const ETH = concat(fromHex('0200000000010200000000020800'), SYN);
const T_US = 1_700_000_000_123_456n; // microseconds
const T_NS = 1_700_000_000_987_654_321n; // nanoseconds

/** SHB, two interfaces (Ethernet in µs, raw IP in ns), an unknown block and four packets. */
function twoInterfaces(le: boolean): Uint8Array {
  return concat(
    shb(le, [{ code: 4, value: new TextEncoder().encode('mptcp-proxy test') }]),
    idb(le, LINKTYPE_ETHERNET, 65535, [tsresol(6), { code: 2, value: new TextEncoder().encode('eth0') }]),
    idb(le, LINKTYPE_RAW, 0, [tsresol(9)]),
    block(le, 0x0bad, Uint8Array.of(1, 2, 3, 4, 5)),
    epb(le, 0, T_US, ETH),
    block(le, 4, new Fields(le).u16(0).u16(0).done()), // Name Resolution Block: skipped
    epb(le, 1, T_NS, SYN, 1400),
    spb(le, ETH.length, ETH),
    opb(le, 1, T_NS + 1n, SYN),
  );
}

describe('pcapng reading', () => {
  for (const le of [true, false]) {
    it(`reads a ${le ? 'little' : 'big'}-endian section with two interfaces and every packet block`, () => {
      const file = twoInterfaces(le);
      const parsed = value(parseCaptureFile(file));
      expect(parsed.format).toBe('pcapng');
      expect(parsed.truncated).toBeUndefined();
      expect(parsed.packets.map((p) => [p.index, p.linkType, p.timestampNs, p.originalLength, p.data.length])).toEqual([
        [1, LINKTYPE_ETHERNET, T_US * 1000n, ETH.length, ETH.length],
        [2, LINKTYPE_RAW, T_NS, 1400, SYN.length],
        [3, LINKTYPE_ETHERNET, 0n, ETH.length, ETH.length],
        [4, LINKTYPE_RAW, T_NS + 1n, SYN.length, SYN.length],
      ]);
      expect(Array.from(parsed.packets[0].data)).toEqual(Array.from(ETH));
      expect(Array.from(parsed.packets[1].data)).toEqual(Array.from(SYN));
      expect(Array.from(parsed.packets[2].data)).toEqual(Array.from(ETH));
      for (const p of parsed.packets) expect(p.data.buffer).toBe(file.buffer);
    });
  }

  it('applies the default, decimal, binary and sub-nanosecond resolutions and if_tsoffset', () => {
    const le = true;
    const file = concat(
      shb(le),
      idb(le, 1, 0),
      idb(le, 1, 0, [tsresol(0x80 | 10)]),
      idb(le, 1, 0, [tsresol(12)]),
      idb(le, 1, 0, [tsresol(0), tsoffset(le, 1_000_000_000n)]),
      idb(le, 1, 0, [tsresol(3), tsoffset(le, -5n)]),
      epb(le, 0, 1_500_000n, SYN),
      epb(le, 1, 3n * 1024n + 512n, SYN),
      epb(le, 2, 1_234_567_891_234n, SYN),
      epb(le, 3, 7n, SYN),
      epb(le, 4, 10_001n, SYN),
    );
    expect(value(parseCaptureFile(file)).packets.map((p) => p.timestampNs)).toEqual([
      1_500_000_000n,
      3_500_000_000n,
      1_234_567_891n,
      1_000_000_007_000_000_000n,
      5_001_000_000n,
    ]);
  });

  it('starts a new interface list at each section, whichever its byte order', () => {
    const file = concat(
      shb(true),
      idb(true, LINKTYPE_ETHERNET, 0),
      idb(true, LINKTYPE_RAW, 0),
      epb(true, 1, 1n, SYN),
      shb(false),
      idb(false, LINKTYPE_LINUX_SLL2, 0, [tsresol(9)]),
      epb(false, 0, 2n, SYN),
    );
    const parsed = value(parseCaptureFile(file));
    expect(parsed.packets.map((p) => [p.index, p.linkType, p.timestampNs])).toEqual([
      [1, LINKTYPE_RAW, 1000n],
      [2, LINKTYPE_LINUX_SLL2, 2n],
    ]);
    const stale = concat(file, epb(false, 1, 3n, SYN));
    expect(error(parseCaptureFile(stale))).toMatchObject({ layer: 'pcap', field: 'packet[3].interfaceId' });
  });

  it('limits a Simple Packet Block to the interface snaplen', () => {
    const file = concat(shb(true), idb(true, LINKTYPE_RAW, 20), spb(true, SYN.length, SYN.subarray(0, 20)));
    const [p] = value(parseCaptureFile(file)).packets;
    expect(p.data.length).toBe(20);
    expect(p.originalLength).toBe(SYN.length);
  });

  it('accepts legacy version 1.2 and an empty section', () => {
    expect(value(parseCaptureFile(shb(false, [], [1, 2]))).packets).toEqual([]);
  });
});

describe('pcapng errors and truncation', () => {
  const le = true;
  const head = concat(shb(le), idb(le, LINKTYPE_RAW, 100));
  const at = head.length;
  const withBlock = (b: Uint8Array) => parseCaptureFile(concat(head, b));

  it('names every corrupted Section Header Block field', () => {
    const corrupt = (offset: number, bytes: number[]) => {
      const f = twoInterfaces(le);
      f.set(bytes, offset);
      return parseCaptureFile(f);
    };
    expect(error(corrupt(8, [0x4d, 0x3c, 0x2b, 0x1b]))).toMatchObject({ field: 'shb.byteOrderMagic', offset: 8 });
    expect(error(corrupt(12, [2, 0]))).toMatchObject({ field: 'shb.versionMajor', offset: 12 });
    expect(error(corrupt(14, [1, 0]))).toMatchObject({ field: 'shb.versionMinor', offset: 14 });
    expect(error(corrupt(4, [0x1d, 0, 0, 0]))).toMatchObject({ field: 'block.totalLength', offset: 4 });
    expect(error(corrupt(4, [8, 0, 0, 0]))).toMatchObject({ field: 'block.totalLength', offset: 4 });
    expect(error(corrupt(4, [0xfc, 0xff, 0xff, 0x7f]))).toMatchObject({ field: 'block.totalLength', offset: 4 });
    expect(error(corrupt(4, [0x40, 0, 0, 0]))).toMatchObject({ field: 'block.trailingTotalLength' });
    expect(error(corrupt(4, [0xfc, 0xff, 0, 0]))).toMatchObject({ field: 'shb' });
    // The section length (bytes 16..23) is advisory; -1 and anything else are accepted.
    expect(value(corrupt(16, [1, 2, 3, 4, 5, 6, 7, 8])).packets).toHaveLength(4);
  });

  it('names corrupted Interface Description Block fields', () => {
    expect(error(withBlock(block(le, 1, Uint8Array.of(1, 0, 0, 0))))).toMatchObject({ field: 'idb', offset: at + 8 });
    expect(error(withBlock(idb(le, 1, 0, [{ code: 9, value: Uint8Array.of(6, 6) }])))).toMatchObject({ field: 'idb.if_tsresol' });
    expect(error(withBlock(idb(le, 1, 0, [{ code: 14, value: Uint8Array.of(1, 2, 3, 4) }])))).toMatchObject({ field: 'idb.if_tsoffset' });
    const overrun = block(le, 1, new Fields(le).u16(1).u16(0).u32(0).u16(9).u16(40).u32(0).done());
    expect(error(withBlock(overrun))).toMatchObject({ field: 'idb.options', offset: at + 8 + 8 + 2 });
    // Unknown options are skipped; options after opt_endofopt are ignored.
    const extra = idb(le, LINKTYPE_ETHERNET, 0, [{ code: 0x7fff, value: Uint8Array.of(1, 2, 3) }]);
    expect(value(parseCaptureFile(concat(head, extra, epb(le, 1, 0n, SYN)))).packets[0].linkType).toBe(LINKTYPE_ETHERNET);
  });

  it('names corrupted packet block fields with the packet number', () => {
    const first = epb(le, 0, 0n, SYN);
    const two = (b: Uint8Array) => parseCaptureFile(concat(head, first, b));
    const second = at + first.length;
    expect(error(two(epb(le, 1, 0n, SYN)))).toMatchObject({ field: 'packet[2].interfaceId', offset: second + 8 });
    expect(error(two(epb(le, 0, 0n, SYN, undefined, 200)))).toMatchObject({ field: 'packet[2].capturedLength', offset: second + 20 });
    expect(error(two(epb(le, 0, 0n, new Uint8Array(101))))).toMatchObject({ field: 'packet[2].capturedLength' });
    expect(error(two(epb(le, 0, 0n, SYN, 10)))).toMatchObject({ field: 'packet[2].originalLength', offset: second + 24 });
    expect(error(two(block(le, 6, new Uint8Array(16))))).toMatchObject({ field: 'packet[2].block' });
    expect(error(two(block(le, 3, new Uint8Array(0))))).toMatchObject({ field: 'packet[2].block' });
    expect(error(two(opb(le, 3, 0n, SYN)))).toMatchObject({ field: 'packet[2].interfaceId' });
    // Packets before any Interface Description Block.
    expect(error(parseCaptureFile(concat(shb(le), spb(le, 4, SYN.subarray(0, 4)))))).toMatchObject({ field: 'packet[1].interfaceId' });
  });

  it('rejects captured lengths above 256 KiB even with snaplen 0', () => {
    const unlimited = concat(shb(le), idb(le, 1, 0));
    const okay = concat(unlimited, epb(le, 0, 0n, new Uint8Array(MAX_CAPTURE_LENGTH)));
    expect(value(parseCaptureFile(okay)).packets[0].data.length).toBe(MAX_CAPTURE_LENGTH);
    const big = concat(unlimited, epb(le, 0, 0n, new Uint8Array(MAX_CAPTURE_LENGTH + 4)));
    expect(error(parseCaptureFile(big))).toMatchObject({ field: 'packet[1].capturedLength' });
    const bigSpb = concat(unlimited, spb(le, MAX_CAPTURE_LENGTH + 4, new Uint8Array(MAX_CAPTURE_LENGTH + 4)));
    expect(error(parseCaptureFile(bigSpb))).toMatchObject({ field: 'packet[1].capturedLength' });
  });

  for (const bigEndian of [false, true]) {
    it(`returns the complete blocks before a cut, for every cut point (${bigEndian ? 'big' : 'little'}-endian)`, () => {
      const parts = [shb(!bigEndian), idb(!bigEndian, 1, 0), epb(!bigEndian, 0, 1n, ETH), block(!bigEndian, 99, new Uint8Array(8)), spb(!bigEndian, 4, Uint8Array.of(1, 2, 3, 4))];
      const file = concat(...parts);
      const ends: number[] = [];
      parts.reduce((n, p) => (ends.push(n + p.length), n + p.length), 0);
      const packetsBefore = (cut: number) => [ends[2], ends[4]].filter((e) => e <= cut).length;
      for (let cut = 0; cut < file.length; cut++) {
        const r = parseCaptureFile(file.subarray(0, cut));
        if (cut < ends[0]) {
          expect(r.ok).toBe(false);
          continue;
        }
        const v = value(r);
        expect(v.packets).toHaveLength(packetsBefore(cut));
        if (ends.includes(cut)) {
          expect(v.truncated).toBeUndefined();
        } else {
          const blockStart = Math.max(...ends.filter((e) => e <= cut));
          expect(v.truncated).toMatchObject({ layer: 'pcap', offset: blockStart });
          const packetBlock = blockStart === ends[1] || blockStart === ends[3];
          if (cut - blockStart >= 12) expect(v.truncated?.field).toBe(packetBlock ? `packet[${packetsBefore(cut) + 1}]` : 'block');
        }
      }
    });
  }

  it('keeps an unterminated option list readable (no opt_endofopt)', () => {
    const body = new Fields(le).u16(1).u16(0).u32(0).bytes(options(le, [tsresol(9)]).subarray(0, 8)).done();
    const file = concat(shb(le), block(le, 1, body), epb(le, 0, 5n, SYN));
    expect(value(parseCaptureFile(file)).packets[0].timestampNs).toBe(5n);
  });
});
