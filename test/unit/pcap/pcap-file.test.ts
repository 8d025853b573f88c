import { describe, it, expect } from 'vitest';
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_RAW,
  MAX_CAPTURE_LENGTH,
  parseCaptureFile,
  writePcap,
  type CaptureFile,
} from '../../../mptcp/pcap/pcap-file.js';
import { WireEncodeError, type ParseResult, type WireError } from '../../../mptcp/wire/result.js';
import { classicPcap, concat, fromHex, IPV4_TCP_SYN_HEX } from './builders.js';

function value(r: ParseResult<CaptureFile>): CaptureFile {
  if (!r.ok) throw new Error(`unexpected parse error: ${JSON.stringify(r.error)}`);
  return r.value;
}

function error(r: ParseResult<CaptureFile>): WireError {
  if (r.ok) throw new Error('expected a parse error');
  return r.error;
}

const SYN = fromHex(IPV4_TCP_SYN_HEX);
const PACKETS = [
  { data: SYN, timestampNs: 1_700_000_000_123_456_789n },
  { data: Uint8Array.of(0x60, 1, 2, 3), timestampNs: 1_700_000_001_000_000_000n, originalLength: 1500 },
  { data: new Uint8Array(0), timestampNs: 0n, originalLength: 60 },
  { data: new Uint8Array(2000).fill(0xab), timestampNs: 4_294_967_295_999_999_999n },
];

describe('writePcap -> parseCaptureFile', () => {
  it('round trips data, timestamps (ns), original lengths and the link type', () => {
    const file = writePcap(PACKETS, LINKTYPE_RAW);
    const parsed = value(parseCaptureFile(file));
    expect(parsed.format).toBe('pcap');
    expect(parsed.truncated).toBeUndefined();
    expect(parsed.packets).toHaveLength(PACKETS.length);
    parsed.packets.forEach((p, i) => {
      const w = PACKETS[i];
      expect(p.index).toBe(i + 1);
      expect(p.linkType).toBe(LINKTYPE_RAW);
      expect(p.timestampNs).toBe(w.timestampNs);
      expect(p.originalLength).toBe(w.originalLength ?? w.data.length);
      expect(Array.from(p.data)).toEqual(Array.from(w.data));
      // A view into the file, not a copy.
      expect(p.data.buffer).toBe(file.buffer);
    });
  });

  it('writes little-endian nanosecond pcap 2.4 with the default 256 KiB snaplen', () => {
    const file = writePcap([], LINKTYPE_ETHERNET);
    expect(Array.from(file)).toEqual([
      0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0x04, 0x00, 1, 0, 0, 0,
    ]);
    const parsed = value(parseCaptureFile(file));
    expect(parsed.packets).toEqual([]);
    expect(parsed.truncated).toBeUndefined();
  });

  it('honours opts.snaplen', () => {
    const file = writePcap([{ data: SYN, timestampNs: 1n }], LINKTYPE_RAW, { snaplen: 64 });
    expect(new DataView(file.buffer).getUint32(16, true)).toBe(64);
    expect(value(parseCaptureFile(file)).packets[0].timestampNs).toBe(1n);
  });

  it('parses a file that is a view into a larger buffer', () => {
    const file = writePcap(PACKETS, LINKTYPE_RAW);
    const big = concat(Uint8Array.of(9, 9, 9), file, Uint8Array.of(7));
    const parsed = value(parseCaptureFile(big.subarray(3, 3 + file.length)));
    expect(parsed.packets.map((p) => p.data.length)).toEqual(PACKETS.map((p) => p.data.length));
    expect(parsed.packets[0].data.byteOffset).toBe(3 + 24 + 16);
  });

  it('throws WireEncodeError only for unrepresentable input', () => {
    const bad: [string, () => unknown][] = [
      ['linkType', () => writePcap([], 70000)],
      ['linkType', () => writePcap([], -1)],
      ['snaplen', () => writePcap([], 1, { snaplen: 0 })],
      ['snaplen', () => writePcap([], 1, { snaplen: 1.5 })],
      ['packets[0].data', () => writePcap([{ data: SYN, timestampNs: 0n }], 1, { snaplen: 40 })],
      ['packets[0].data', () => writePcap([{ data: new Uint8Array(MAX_CAPTURE_LENGTH + 1), timestampNs: 0n }], 1, { snaplen: 0xffffffff })],
      ['packets[1].originalLength', () => writePcap([PACKETS[0], { data: SYN, timestampNs: 0n, originalLength: 10 }], 1)],
      ['packets[0].originalLength', () => writePcap([{ data: SYN, timestampNs: 0n, originalLength: 2 ** 32 }], 1)],
      ['packets[0].timestampNs', () => writePcap([{ data: SYN, timestampNs: -1n }], 1)],
      ['packets[0].timestampNs', () => writePcap([{ data: SYN, timestampNs: 4_294_967_296n * 1_000_000_000n }], 1)],
    ];
    for (const [field, f] of bad) {
      let thrown: unknown;
      try {
        f();
      } catch (e) {
        thrown = e;
      }
      expect(thrown, field).toBeInstanceOf(WireEncodeError);
      expect((thrown as WireEncodeError).field).toBe(field);
      expect((thrown as WireEncodeError).layer).toBe('pcap');
    }
  });
});

describe('classic pcap reading', () => {
  const records = [
    { sec: 1_600_000_000, frac: 999_999, data: SYN },
    { sec: 1, frac: 0, data: Uint8Array.of(1, 2, 3), origlen: 3000 },
  ];
  for (const le of [true, false]) {
    for (const nano of [false, true]) {
      it(`reads ${le ? 'little' : 'big'}-endian ${nano ? 'nano' : 'micro'}second files`, () => {
        const file = classicPcap({ le, nano, linkType: LINKTYPE_RAW }, records);
        const parsed = value(parseCaptureFile(file));
        expect(parsed.format).toBe('pcap');
        expect(parsed.truncated).toBeUndefined();
        const unit = nano ? 1n : 1000n;
        expect(parsed.packets.map((p) => [p.index, p.linkType, p.timestampNs, p.originalLength, p.data.length])).toEqual([
          [1, LINKTYPE_RAW, 1_600_000_000n * 1_000_000_000n + 999_999n * unit, SYN.length, SYN.length],
          [2, LINKTYPE_RAW, 1_000_000_000n, 3000, 3],
        ]);
        expect(Array.from(parsed.packets[0].data)).toEqual(Array.from(SYN));
      });
    }
  }

  it('accepts older minor versions, ignores thiszone and sigfigs, and keeps FCS bits out of the link type', () => {
    const file = classicPcap({ le: true, nano: false, linkType: 0x14000001, minor: 2, thiszone: -3600, sigfigs: 6 }, records);
    const parsed = value(parseCaptureFile(file));
    expect(parsed.packets).toHaveLength(2);
    expect(parsed.packets[0].linkType).toBe(1);
  });

  it('treats snaplen 0 as unlimited up to the 256 KiB maximum', () => {
    const ok = classicPcap({ le: true, nano: true, linkType: 1, snaplen: 0 }, [{ sec: 0, frac: 0, data: new Uint8Array(MAX_CAPTURE_LENGTH) }]);
    expect(value(parseCaptureFile(ok)).packets[0].data.length).toBe(MAX_CAPTURE_LENGTH);
    const big = classicPcap({ le: true, nano: true, linkType: 1, snaplen: 0 }, [{ sec: 0, frac: 0, data: new Uint8Array(MAX_CAPTURE_LENGTH + 1) }]);
    expect(error(parseCaptureFile(big))).toMatchObject({ layer: 'pcap', field: 'record[1].capturedLength', offset: 24 + 8 });
  });
});

describe('classic pcap errors and truncation', () => {
  const base = { le: true, nano: false, linkType: LINKTYPE_RAW, snaplen: 100 };
  const good = () => classicPcap(base, [
    { sec: 10, frac: 1, data: SYN },
    { sec: 11, frac: 2, data: Uint8Array.of(0x45, 0, 0, 20) },
    { sec: 12, frac: 3, data: SYN },
  ]);

  it('rejects files too short or with an unknown magic', () => {
    expect(error(parseCaptureFile(new Uint8Array(0)))).toMatchObject({ layer: 'pcap', field: 'magic', offset: 0 });
    expect(error(parseCaptureFile(Uint8Array.of(0xd4, 0xc3, 0xb2)))).toMatchObject({ field: 'magic' });
    expect(error(parseCaptureFile(fromHex('00000000' + '00'.repeat(20))))).toMatchObject({ field: 'magic' });
    const modified = error(parseCaptureFile(fromHex('34cdb2a1' + '00'.repeat(20))));
    expect(modified.field).toBe('magic');
    expect(modified.rule).toContain('modified');
  });

  it('names every corrupted global-header field', () => {
    const corrupt = (at: number, bytes: number[]) => {
      const f = good();
      f.set(bytes, at);
      return parseCaptureFile(f);
    };
    expect(error(corrupt(0, [0xd4, 0xc3, 0xb2, 0xa2]))).toMatchObject({ field: 'magic', offset: 0 });
    expect(error(corrupt(4, [1, 0]))).toMatchObject({ field: 'versionMajor', offset: 4 });
    expect(error(corrupt(4, [0, 2]))).toMatchObject({ field: 'versionMajor', offset: 4 });
    expect(error(corrupt(6, [5, 0]))).toMatchObject({ field: 'versionMinor', offset: 6 });
    expect(error(corrupt(20, [1, 0, 1, 0]))).toMatchObject({ field: 'linkType', offset: 20 });
    // A snaplen below the records' lengths makes the first record invalid.
    expect(error(corrupt(16, [20, 0, 0, 0]))).toMatchObject({ field: 'record[1].capturedLength', offset: 32 });
    // thiszone and sigfigs carry no meaning any reader uses.
    expect(value(corrupt(8, [1, 2, 3, 4])).packets).toHaveLength(3);
    expect(value(corrupt(12, [1, 2, 3, 4])).packets).toHaveLength(3);
  });

  it('names every corrupted record-header field, with the record number', () => {
    const second = 24 + 16 + SYN.length;
    const corrupt = (at: number, v: number) => {
      const f = good();
      new DataView(f.buffer).setUint32(second + at, v, true);
      return parseCaptureFile(f);
    };
    expect(value(corrupt(0, 0xffffffff)).packets[1].timestampNs).toBe(4_294_967_295_000_002_000n);
    expect(error(corrupt(4, 1_000_000))).toMatchObject({ field: 'record[2].timestampFraction', offset: second + 4 });
    expect(error(corrupt(8, 101))).toMatchObject({ field: 'record[2].capturedLength', offset: second + 8 });
    expect(error(corrupt(8, 0xffffffff))).toMatchObject({ field: 'record[2].capturedLength' });
    expect(error(corrupt(12, 3))).toMatchObject({ field: 'record[2].originalLength', offset: second + 12 });
    const nano = classicPcap({ ...base, nano: true }, [{ sec: 0, frac: 1_000_000_000, data: SYN }]);
    expect(error(parseCaptureFile(nano))).toMatchObject({ field: 'record[1].timestampFraction' });
    expect(value(parseCaptureFile(classicPcap({ ...base, nano: true }, [{ sec: 0, frac: 999_999_999, data: SYN }]))).packets).toHaveLength(1);
  });

  it('returns the complete records before a cut, for every cut point', () => {
    const file = good();
    const ends = [24, 24 + 16 + SYN.length, 24 + 32 + SYN.length + 4, file.length];
    for (let cut = 0; cut < file.length; cut++) {
      const r = parseCaptureFile(file.subarray(0, cut));
      if (cut < 24) {
        expect(r.ok).toBe(false);
        continue;
      }
      const v = value(r);
      const complete = ends.filter((e) => e <= cut).length - 1;
      expect(v.packets).toHaveLength(complete);
      if (ends.includes(cut)) {
        expect(v.truncated).toBeUndefined();
      } else {
        const inHeader = cut - ends[complete] < 16;
        expect(v.truncated).toMatchObject({
          layer: 'pcap',
          field: `record[${complete + 1}].${inHeader ? 'header' : 'data'}`,
          offset: inHeader ? ends[complete] : ends[complete] + 16,
        });
      }
    }
  });
});
