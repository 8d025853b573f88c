/**
 * Round-trip properties of the wire codecs over generated representations
 * (test/support/wire-arbitraries.ts):
 *   parse(emit(x)) deep-equals x, and emit(parse(bytes)) === bytes
 * for every MPTCP suboption shape, TCP option lists, TCP headers, IPv4 and IPv6 headers and
 * whole packets; plus: any bytes a parser accepts are emitted back unchanged.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emitIpv4Header, parseIpv4Header } from '../../../mptcp/wire/ipv4.js';
import { emitIpv6Header, parseIpv6Header } from '../../../mptcp/wire/ipv6.js';
import type { MptcpOption } from '../../../mptcp/wire/mptcp-option-types.js';
import { encodeMptcpOption, mptcpOptionLength, parseMptcpOption } from '../../../mptcp/wire/mptcp-options.js';
import { parseTcpPacket } from '../../../mptcp/wire/packet.js';
import { emitTcpHeader, parseTcpSegment, tcpHeaderLength } from '../../../mptcp/wire/tcp-header.js';
import { emitTcpOptions, parseTcpOptions } from '../../../mptcp/wire/tcp-options.js';
import {
  ipv4HeaderArb,
  ipv6HeaderArb,
  mptcpOptionArb,
  mptcpOptionArbs,
  refMptcpLength,
  refTcpOptionsLength,
  tcpHeaderArb,
  tcpOptionListArb,
  tcpPacketArb,
} from '../../support/wire-arbitraries.js';
import { expectOk } from '../../support/wire-expect.js';
import { hexOf } from '../../support/wire-reference.js';

const RUNS = 1000;

describe('MPTCP options: parse(emit(x)) = x and emit(parse(bytes)) = bytes', () => {
  for (const [name, arb] of Object.entries(mptcpOptionArbs)) {
    it(name, () => {
      fc.assert(
        fc.property(arb as fc.Arbitrary<MptcpOption>, (x) => {
          const bytes = encodeMptcpOption(x);
          expect(bytes.length).toBe(refMptcpLength(x));
          expect(mptcpOptionLength(x)).toBe(bytes.length);
          expect([bytes[0], bytes[1]]).toEqual([30, bytes.length]);
          const back = expectOk(parseMptcpOption(bytes, 0, bytes.length));
          expect(back).toStrictEqual(x);
          expect(hexOf(encodeMptcpOption(back))).toBe(hexOf(bytes));
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('the arbitraries reach every legal length of every subtype', () => {
    const seen = new Map<string, Set<number>>();
    for (const x of fc.sample(mptcpOptionArb, { numRuns: 20000, seed: 42 })) {
      const key = x.subtype === 'DSS' ? `DSS:${x.flags & 0x1f}` : x.subtype === 'ADD_ADDR' ? `ADD_ADDR:${x.flags & 1}` : x.subtype;
      const s = seen.get(key) ?? new Set<number>();
      s.add(refMptcpLength(x));
      seen.set(key, s);
    }
    const sorted = (k: string) => [...(seen.get(k) ?? [])].sort((a, b) => a - b);
    expect(sorted('MP_CAPABLE')).toEqual([4, 12, 20, 22, 24]);
    expect(sorted('MP_JOIN')).toEqual([12, 16, 24]);
    expect(sorted('ADD_ADDR:0')).toEqual([16, 18, 28, 30]);
    expect(sorted('ADD_ADDR:1')).toEqual([8, 10, 20, 22]);
    for (let f = 0; f < 32; f++) expect(sorted(`DSS:${f}`).length).toBe(f & 0x04 ? 2 : 1);
    for (const k of ['REMOVE_ADDR', 'MP_PRIO', 'MP_FAIL', 'MP_FASTCLOSE', 'MP_TCPRST', 'UNKNOWN']) expect(seen.has(k)).toBe(true);
  });
});

describe('TCP options', () => {
  it('parse(emit(list)) = list for lists that fit in 40 bytes', () => {
    fc.assert(
      fc.property(tcpOptionListArb, (list) => {
        const n = refTcpOptionsLength(list);
        expect(n % 4).toBe(0);
        const buf = new Uint8Array(40);
        expect(emitTcpOptions(list, buf, 0)).toBe(n);
        expect(expectOk(parseTcpOptions(buf, 0, n))).toStrictEqual(list);
      }),
      { numRuns: 3 * RUNS },
    );
  });

  it('any option area the parser accepts is emitted back unchanged', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.constantFrom(0, 1, 2, 3, 4, 5, 8, 30, 30, 30, 253),
            fc.nat({ max: 40 }),
            fc.nat({ max: 255 }),
          ),
          { maxLength: 40 },
        ),
        (area) => {
          const bytes = Uint8Array.from(area);
          const r = parseTcpOptions(bytes, 0, bytes.length);
          if (!r.ok) return;
          const out = new Uint8Array(44);
          emitTcpOptions(r.value, out, 0);
          expect(hexOf(out.subarray(0, bytes.length))).toBe(hexOf(bytes));
        },
      ),
      { numRuns: 3 * RUNS },
    );
  });
});

describe('TCP header', () => {
  it('parse(emit(h)) = h and emit(parse(bytes)) = bytes', () => {
    fc.assert(
      fc.property(tcpHeaderArb, fc.uint8Array({ maxLength: 30 }), (h, payload) => {
        const len = tcpHeaderLength(h);
        const buf = new Uint8Array(len + payload.length);
        expect(emitTcpHeader(h, buf, 0)).toBe(len);
        buf.set(payload, len);
        const r = expectOk(parseTcpSegment(buf, 0, buf.length));
        expect(r.header).toStrictEqual(h);
        expect([r.headerLength, r.payloadOffset, r.payloadEnd]).toEqual([len, len, buf.length]);
        const again = new Uint8Array(len);
        emitTcpHeader(r.header, again, 0);
        expect(hexOf(again)).toBe(hexOf(buf.subarray(0, len)));
      }),
      { numRuns: 2 * RUNS },
    );
  });
});

describe('IPv4 header', () => {
  it('parse(emit(h)) = h and emit(parse(bytes)) = bytes', () => {
    fc.assert(
      fc.property(ipv4HeaderArb, (h) => {
        const buf = new Uint8Array(h.totalLength);
        const n = emitIpv4Header(h, buf, 0);
        expect(n).toBe(20 + h.options.length);
        const r = expectOk(parseIpv4Header(buf));
        expect(r.header).toStrictEqual(h);
        expect([r.headerLength, r.payloadEnd]).toEqual([n, h.totalLength]);
        const again = new Uint8Array(n);
        emitIpv4Header(r.header, again, 0);
        expect(hexOf(again)).toBe(hexOf(buf.subarray(0, n)));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('IPv6 header', () => {
  it('parse(emit(h)) = h (extension chain included) and emit(parse(bytes)) = bytes', () => {
    fc.assert(
      fc.property(ipv6HeaderArb, ({ header, upperProtocol }) => {
        const buf = new Uint8Array(40 + header.payloadLength);
        const n = emitIpv6Header(header, buf, 0);
        const r = expectOk(parseIpv6Header(buf));
        expect(r.header).toStrictEqual(header);
        expect(r.upperProtocol).toBe(upperProtocol);
        expect(r.upperOffset).toBe(upperProtocol === 59 ? buf.length : n);
        expect(r.payloadEnd).toBe(buf.length);
        const again = new Uint8Array(n);
        emitIpv6Header(r.header, again, 0);
        expect(hexOf(again)).toBe(hexOf(buf.subarray(0, n)));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('whole packets', () => {
  it('IPv4 and IPv6 packets with MPTCP options parse back to what was built, checksums valid', () => {
    fc.assert(
      fc.property(tcpPacketArb, (p) => {
        const r = expectOk(parseTcpPacket(p.bytes));
        expect(r.ip.version).toBe(p.version);
        expect(r.tcpOffset).toBe(p.tcpOffset);
        expect(r.tcp.header).toStrictEqual(p.tcp);
        expect(hexOf(p.bytes.subarray(r.tcp.payloadOffset, r.tcp.payloadEnd))).toBe(hexOf(p.payload));
        expect(r.tcpChecksumValid).toBe(true);
        expect(r.ipChecksumValid).toBe(p.version === 4 ? true : undefined);
      }),
      { numRuns: RUNS },
    );
  });
});
