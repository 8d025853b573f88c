import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { MAX_CAPTURE_LENGTH, parseCaptureFile, writePcap, type CaptureFile } from '../../../mptcp/pcap/pcap-file.js';
import { stripLinkLayer } from '../../../mptcp/pcap/link-layer.js';
import type { ParseResult } from '../../../mptcp/wire/result.js';
import { block, classicPcap, concat, epb, fromHex, idb, IPV4_TCP_SYN_HEX, opb, shb, spb, tsresol } from './builders.js';

const SYN = fromHex(IPV4_TCP_SYN_HEX);
const ETH = concat(fromHex('02000000000102000000000281000064' + '0800'), SYN);
const LINK_TYPES = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276];

function validFiles(): [string, Uint8Array][] {
  const records = [
    { sec: 1, frac: 2, data: ETH },
    { sec: 3, frac: 4, data: SYN, origlen: 1000 },
  ];
  const ng = (le: boolean) =>
    concat(
      shb(le),
      idb(le, 1, 0, [tsresol(6)]),
      idb(le, 101, 200, [tsresol(0x89)]),
      epb(le, 0, 5n, ETH),
      block(le, 0x77, Uint8Array.of(1, 2, 3)),
      spb(le, ETH.length, ETH),
      opb(le, 1, 6n, SYN),
      shb(!le),
      idb(!le, 113, 0),
      epb(!le, 0, 7n, concat(fromHex('00000001000602000000000100000800'), SYN)),
    );
  return [
    ['pcap LE micro', classicPcap({ le: true, nano: false, linkType: 1 }, records)],
    ['pcap BE nano', classicPcap({ le: false, nano: true, linkType: 1 }, records)],
    ['writePcap', writePcap([{ data: SYN, timestampNs: 123n }, { data: SYN, timestampNs: 456n }], 101)],
    ['pcapng LE+BE', ng(true)],
    ['pcapng BE+LE', ng(false)],
  ];
}

/** Parses, and checks the invariants every successful parse must keep. */
function parseAndCheck(bytes: Uint8Array): ParseResult<CaptureFile> {
  const r = parseCaptureFile(bytes);
  if (!r.ok) {
    expect(r.error.layer).toBe('pcap');
    return r;
  }
  r.value.packets.forEach((p, i) => {
    expect(p.index).toBe(i + 1);
    expect(p.data.buffer).toBe(bytes.buffer);
    expect(p.data.byteOffset).toBeGreaterThanOrEqual(bytes.byteOffset);
    expect(p.data.byteOffset + p.data.length).toBeLessThanOrEqual(bytes.byteOffset + bytes.length);
    expect(p.data.length).toBeLessThanOrEqual(MAX_CAPTURE_LENGTH);
    expect(p.originalLength).toBeGreaterThanOrEqual(p.data.length);
    expect(typeof p.timestampNs).toBe('bigint');
    const link = stripLinkLayer(p.linkType, p.data);
    if (link.ok) expect(link.value.payload.buffer).toBe(bytes.buffer);
    else expect(link.error.layer).toBe('link');
  });
  return r;
}

const RUNS = 3000;

describe('never throws', () => {
  it('parseCaptureFile on arbitrary bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (b) => void parseAndCheck(b)), { numRuns: RUNS });
  });

  it('parseCaptureFile on arbitrary bytes behind each valid magic and header', () => {
    const prefixes = [
      fromHex('d4c3b2a1'),
      fromHex('a1b23c4d'),
      fromHex('4d3cb2a102000400000000000000000000000000' + '01000000'),
      fromHex('a1b2c3d400020004000000000000000000000000' + '00000065'),
      fromHex('0a0d0d0a'),
      shb(true),
      concat(shb(false), idb(false, 1, 0)),
    ];
    fc.assert(
      fc.property(fc.constantFrom(...prefixes), fc.uint8Array({ maxLength: 400 }), (p, b) => void parseAndCheck(concat(p, b))),
      { numRuns: RUNS },
    );
  });

  it('parseCaptureFile on bit-flipped, byte-overwritten and truncated valid files', () => {
    const files = validFiles();
    for (const [name, f] of files) expect(parseAndCheck(f).ok, name).toBe(true);
    const mutation = fc.record({
      file: fc.integer({ min: 0, max: files.length - 1 }),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 7 })), { maxLength: 4 }),
      overwrite: fc.option(fc.tuple(fc.nat(), fc.constantFrom(0, 0xff, 0x7f, 0x80, 1))),
      cut: fc.option(fc.nat()),
    });
    fc.assert(
      fc.property(mutation, (m) => {
        const src = files[m.file][1];
        const b = Uint8Array.from(src);
        for (const [pos, bit] of m.flips) b[pos % b.length] ^= 1 << bit;
        if (m.overwrite !== null) b[m.overwrite[0] % b.length] = m.overwrite[1];
        parseAndCheck(m.cut === null ? b : b.subarray(0, m.cut % (b.length + 1)));
      }),
      { numRuns: RUNS },
    );
  });

  it('stripLinkLayer on arbitrary link types and frames', () => {
    const linkType = fc.oneof(fc.constantFrom(...LINK_TYPES), fc.integer({ min: -1, max: 0x10000 }));
    fc.assert(
      fc.property(linkType, fc.uint8Array({ maxLength: 80 }), (lt, frame) => {
        const r = stripLinkLayer(lt, frame);
        if (r.ok) {
          expect(r.value.payload.buffer).toBe(frame.buffer);
          expect(r.value.payload.length).toBeLessThanOrEqual(frame.length);
        } else {
          expect(r.error.layer).toBe('link');
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('round trip property', () => {
  it('writePcap -> parseCaptureFile preserves every packet', () => {
    const packet = fc.record({
      data: fc.uint8Array({ maxLength: 200 }),
      timestampNs: fc.bigInt({ min: 0n, max: 4_294_967_296n * 1_000_000_000n - 1n }),
      extra: fc.option(fc.nat({ max: 70000 })),
    });
    fc.assert(
      fc.property(fc.array(packet, { maxLength: 8 }), fc.integer({ min: 0, max: 0xffff }), (ps, lt) => {
        const input = ps.map((p) => ({ data: p.data, timestampNs: p.timestampNs, originalLength: p.extra === null ? undefined : p.data.length + p.extra }));
        const r = parseCaptureFile(writePcap(input, lt));
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        expect(r.value.truncated).toBeUndefined();
        expect(
          r.value.packets.map((p) => ({ data: Array.from(p.data), ts: p.timestampNs, orig: p.originalLength, lt: p.linkType })),
        ).toEqual(input.map((p) => ({ data: Array.from(p.data), ts: p.timestampNs, orig: p.originalLength ?? p.data.length, lt })));
      }),
      { numRuns: 500 },
    );
  });
});
