/**
 * The hot-path SegmentView must agree with the full representation parser on every segment,
 * and writeDataSegmentHeader must produce segments the full parser reads back exactly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DssFields, dssLength } from '../../../mptcp/wire/dss.js';
import { dssFieldsFromOption, parseMptcpOption } from '../../../mptcp/wire/mptcp-options.js';
import type { DssOption } from '../../../mptcp/wire/mptcp-option-types.js';
import { scanSegment, SegmentView, writeDataSegmentHeader } from '../../../mptcp/wire/segment-view.js';
import { emitTcpHeader, parseTcpSegment } from '../../../mptcp/wire/tcp-header.js';
import type { TcpOption } from '../../../mptcp/wire/tcp-options.js';

const u32 = fc.nat({ max: 0xffffffff });
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

const dssArb: fc.Arbitrary<DssOption> = fc
  .record({ flags: fc.nat({ max: 31 }), ack: u64, dsn: u64, ssn: u32, len: fc.nat({ max: 0xffff }), csum: fc.option(fc.nat({ max: 0xffff }), { nil: undefined }) })
  .map(({ flags, ack, dsn, ssn, len, csum }) => {
    const o: DssOption = { subtype: 'DSS', reserved: 0, flags };
    if (flags & 1) o.dataAck = flags & 2 ? ack : ack & 0xffffffffn;
    if (flags & 4) {
      o.dsn = flags & 8 ? dsn : dsn & 0xffffffffn;
      o.subflowSeq = ssn;
      o.dataLength = len;
      if (csum !== undefined) o.checksum = csum;
    }
    return o;
  });

const otherOptions: fc.Arbitrary<TcpOption[]> = fc.array(
  fc.oneof(
    fc.constant<TcpOption>({ kind: 'nop' }),
    u32.map<TcpOption>((v) => ({ kind: 'timestamps', tsval: v, tsecr: (v ^ 0x5a5a5a5a) >>> 0 })),
    fc.array(fc.record({ left: u32, right: u32 }), { minLength: 1, maxLength: 2 }).map<TcpOption>((blocks) => ({ kind: 'sack', blocks })),
    fc.nat({ max: 0xffff }).map<TcpOption>((mss) => ({ kind: 'mss', mss })),
    fc.constant<TcpOption>({ kind: 'mptcp', option: { subtype: 'MP_PRIO', flags: 1 } }),
    fc.constant<TcpOption>({ kind: 'mptcp', option: { subtype: 'REMOVE_ADDR', reserved: 0, addressIds: [3] } }),
  ),
  { maxLength: 3 },
);

function fits(options: TcpOption[], dss: DssOption): boolean {
  let n = dssLength(dss.flags, dss.checksum !== undefined);
  for (const o of options) n += o.kind === 'nop' ? 1 : o.kind === 'timestamps' ? 10 : o.kind === 'sack' ? 2 + 8 * o.blocks.length : o.kind === 'mss' ? 4 : o.kind === 'mptcp' ? (o.option.subtype === 'MP_PRIO' ? 3 : 4) : 0;
  return n <= 40;
}

describe('SegmentView agrees with the full parser', () => {
  it('on random segments with a DSS among other options', () => {
    fc.assert(
      fc.property(dssArb, otherOptions, fc.nat({ max: 200 }), (dss, others, payloadLen) => {
        fc.pre(fits(others, dss));
        const options: TcpOption[] = [...others, { kind: 'mptcp', option: dss }];
        const buf = new Uint8Array(60 + payloadLen);
        const hl = emitTcpHeader({ srcPort: 1, dstPort: 2, seq: 3, ack: 4, reserved: 0, flags: 0x10, window: 5, checksum: 0, urgentPointer: 0, options }, buf, 0);
        const end = hl + payloadLen;
        const full = parseTcpSegment(buf, 0, end);
        expect(full.ok).toBe(true);
        const v = new SegmentView();
        expect(scanSegment(buf, 0, end, v)).toBe(true);
        expect(v.hasDss).toBe(true);
        const expected = dssFieldsFromOption(dss, new DssFields());
        expect({ ...v.dss }).toEqual({ ...expected });
        expect(v.payloadLength).toBe(payloadLen);
        const ts = others.filter((o) => o.kind === 'timestamps').at(-1);
        expect(v.hasTimestamps).toBe(ts !== undefined);
        if (ts?.kind === 'timestamps') expect([v.tsval, v.tsecr]).toEqual([ts.tsval, ts.tsecr]);
        const controls = others.filter((o) => o.kind === 'mptcp').length;
        expect(v.controlCount).toBe(controls);
        for (let i = 0; i < v.controlCount; i++) {
          const at = v.controlOffsets[i];
          expect(parseMptcpOption(buf, at, buf[at + 1]).ok).toBe(true);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('rejects broken framing and ignores a DSS with a wrong length, as the full parser does', () => {
    const buf = new Uint8Array(40);
    buf[12] = 0x60; // data offset 6 words: 4 option bytes
    buf.set([30, 5, 0x20, 0x01], 20); // DSS claiming length 5 with flag A: needs 8
    const v = new SegmentView();
    expect(scanSegment(buf, 0, 24, v)).toBe(false); // option length runs past the header
    buf.set([30, 4, 0x20, 0x01], 20);
    expect(scanSegment(buf, 0, 24, v)).toBe(true);
    expect(v.hasDss).toBe(false);
    expect(v.ignoredOptions).toBe(1);
    const full = parseTcpSegment(buf, 0, 24);
    expect(full.ok && full.value.header.options[0].kind).toBe('invalid');
  });
});

describe('writeDataSegmentHeader', () => {
  it('writes a header the full parser reads back, with NOP NOP TS and the DSS', () => {
    fc.assert(
      fc.property(dssArb, u32, u32, fc.boolean(), (dss, seq, ack, withTs) => {
        const f = dssFieldsFromOption(dss, new DssFields());
        const buf = new Uint8Array(60);
        const hl = writeDataSegmentHeader(buf, 0, 40000, 443, seq, ack, 0x18, 1000, withTs, 7, 8, f);
        expect(hl % 4).toBe(0);
        const r = parseTcpSegment(buf, 0, hl);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        const h = r.value.header;
        expect([h.srcPort, h.dstPort, h.seq, h.ack, h.flags, h.window]).toEqual([40000, 443, seq, ack, 0x18, 1000]);
        const mptcp = h.options.find((o) => o.kind === 'mptcp');
        expect(mptcp?.kind === 'mptcp' && mptcp.option).toEqual(dss);
        expect(h.options.some((o) => o.kind === 'timestamps' && o.tsval === 7 && o.tsecr === 8)).toBe(withTs);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('writeIpv4Header', () => {
  it('writes the same bytes as the representation emitter plus fillIpv4Checksum', async () => {
    const { emitIpv4Header, fillIpv4Checksum, writeIpv4Header, ipv4ChecksumValid } = await import('../../../mptcp/wire/ipv4.js');
    fc.assert(
      fc.property(fc.nat({ max: 255 }), fc.integer({ min: 20, max: 0xffff }), fc.nat({ max: 0xffff }), fc.nat({ max: 255 }), fc.uint8Array({ minLength: 8, maxLength: 8 }), (tos, len, id, ttl, addrs) => {
        const a = new Uint8Array(20);
        const b = new Uint8Array(20);
        const src = addrs.slice(0, 4);
        const dst = addrs.slice(4);
        writeIpv4Header(a, 0, tos, len, id, ttl, 6, src, dst);
        emitIpv4Header({ tos, totalLength: len, identification: id, flags: 2, fragmentOffset: 0, ttl, protocol: 6, checksum: 0, src, dst, options: new Uint8Array(0) }, b, 0);
        fillIpv4Checksum(b, 0);
        expect(a).toEqual(b);
        expect(ipv4ChecksumValid(a, 0)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
