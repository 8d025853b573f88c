/**
 * The allocation-free DSS reader and writer (mptcp/wire/dss.ts) against RFC 8684 §3.3
 * Figure 9 layouts, with 64-bit values split into exact u32 halves.
 */
import { describe, expect, it } from 'vitest';
import { DssFields, dssLength, readDss, writeDss } from '../../../mptcp/wire/dss.js';
import { hex, hexOf } from '../../support/wire-reference.js';

/** RFC 8684 §3.3: 4 + Data ACK (4/8 when A) + mapping when M (DSN 4/8, SSN 4, length 2, checksum 2). */
function refLength(flags: number, checksum: boolean): number {
  const A = flags & 0x01;
  const a = flags & 0x02;
  const M = flags & 0x04;
  const m = flags & 0x08;
  return 4 + (A ? (a ? 8 : 4) : 0) + (M ? (m ? 8 : 4) + 4 + 2 + (checksum ? 2 : 0) : 0);
}

function fields(init: Partial<DssFields>): DssFields {
  return Object.assign(new DssFields(), init);
}

describe('dssLength', () => {
  it('matches the RFC layout for all 256 flag bytes, with and without checksum', () => {
    for (let flags = 0; flags < 256; flags++) {
      expect(dssLength(flags, false)).toBe(refLength(flags, false));
      // A checksum only exists with a mapping.
      expect(dssLength(flags, true)).toBe(refLength(flags, (flags & 0x04) !== 0));
    }
  });
  it('spot values', () => {
    expect(dssLength(0x00, false)).toBe(4);
    expect(dssLength(0x01, false)).toBe(8);
    expect(dssLength(0x03, false)).toBe(12);
    expect(dssLength(0x04, false)).toBe(14);
    expect(dssLength(0x04, true)).toBe(16);
    expect(dssLength(0x05, false)).toBe(18);
    expect(dssLength(0x0c, false)).toBe(18);
    expect(dssLength(0x1f, true)).toBe(28);
  });
});

describe('readDss', () => {
  it('splits 64-bit Data ACK and DSN into exact halves (28-byte form)', () => {
    const b = hex('1e 1c 2a 1f fedcba9876543211 0123456789abcdef 01020304 05dc beef');
    const f = new DssFields();
    expect(readDss(b, 0, b.length, f)).toBeNull();
    expect({ ...f }).toStrictEqual({
      reserved: 0xa,
      flags: 0x1f,
      dataAckHi: 0xfedcba98,
      dataAckLo: 0x76543211,
      dsnHi: 0x01234567,
      dsnLo: 0x89abcdef,
      subflowSeq: 0x01020304,
      dataLength: 0x05dc,
      hasChecksum: true,
      checksum: 0xbeef,
    });
  });

  it('reads 32-bit forms with zero high halves, and clears what an earlier read left', () => {
    const f = new DssFields();
    const big = hex('1e 1c 20 0f ffffffffffffffff ffffffffffffffff ffffffff ffff ffff');
    expect(readDss(big, 0, big.length, f)).toBeNull();
    const b = hex('00 00 1e 12 20 05 89abcdef deadbeef 00000007 0010');
    expect(readDss(b, 2, 18, f)).toBeNull();
    expect({ ...f }).toStrictEqual({
      reserved: 0,
      flags: 0x05,
      dataAckHi: 0,
      dataAckLo: 0x89abcdef,
      dsnHi: 0,
      dsnLo: 0xdeadbeef,
      subflowSeq: 7,
      dataLength: 16,
      hasChecksum: false,
      checksum: 0,
    });
    const ackOnly = hex('1e 08 20 01 00000009');
    expect(readDss(ackOnly, 0, 8, f)).toBeNull();
    expect([f.dataAckLo, f.dsnHi, f.dsnLo, f.subflowSeq, f.dataLength, f.hasChecksum]).toEqual([9, 0, 0, 0, 0, false]);
  });

  it('returns the broken rule (citing RFC 8684) for a length that does not match the flags', () => {
    const f = new DssFields();
    const noMap = hex('1e 09 20 01 0000000100');
    expect(readDss(noMap, 0, 9, f)).toMatch(/RFC 8684/);
    const map = hex('1e 11 20 04 00000001 00000002 0003 00 00 00');
    const rule = readDss(map, 0, 17, f);
    expect(rule).toMatch(/14 or 16/);
    // A checksum-sized extra without a mapping is not a checksum.
    const extra = hex('1e 0a 20 01 00000001 0000');
    expect(readDss(extra, 0, 10, f)).not.toBeNull();
  });
});

describe('writeDss', () => {
  it('writes the 28-byte form', () => {
    const f = fields({
      reserved: 0,
      flags: 0x1f,
      dataAckHi: 0xfedcba98,
      dataAckLo: 0x76543211,
      dsnHi: 0x01234567,
      dsnLo: 0x89abcdef,
      subflowSeq: 0x01020304,
      dataLength: 0x05dc,
      hasChecksum: true,
      checksum: 0xbeef,
    });
    const out = new Uint8Array(32).fill(0xee);
    expect(writeDss(out, 2, f)).toBe(28);
    expect(hexOf(out)).toBe(`eeee${'1e1c201ffedcba98765432110123456789abcdef0102030405dcbeef'}eeee`);
  });

  it('writes only the low halves for 32-bit forms', () => {
    const f = fields({ flags: 0x05, dataAckHi: 0x1111, dataAckLo: 0x89abcdef, dsnHi: 0x2222, dsnLo: 0xdeadbeef, subflowSeq: 7, dataLength: 16 });
    const out = new Uint8Array(18);
    expect(writeDss(out, 0, f)).toBe(18);
    expect(hexOf(out)).toBe('1e12200589abcdefdeadbeef000000070010');
  });

  it('ignores hasChecksum without a mapping (no checksum field exists then)', () => {
    const f = fields({ flags: 0x01, dataAckLo: 5, hasChecksum: true, checksum: 0xffff });
    const out = new Uint8Array(10).fill(0xee);
    expect(writeDss(out, 0, f)).toBe(8);
    expect(hexOf(out)).toBe('1e08200100000005eeee');
  });

  it('readDss(writeDss(f)) gives f back for every flag combination', () => {
    for (let flags = 0; flags < 256; flags++) {
      for (const hasChecksum of [false, true]) {
        const M = (flags & 0x04) !== 0;
        const f = fields({
          reserved: flags & 0xf,
          flags,
          dataAckHi: flags & 0x01 && flags & 0x02 ? 0xfedcba98 : 0,
          dataAckLo: flags & 0x01 ? 0x76543211 : 0,
          dsnHi: M && flags & 0x08 ? 0x01234567 : 0,
          dsnLo: M ? 0x89abcdef : 0,
          subflowSeq: M ? 0xffffffff : 0,
          dataLength: M ? 0xffff : 0,
          hasChecksum: M && hasChecksum,
          checksum: M && hasChecksum ? 0x1234 : 0,
        });
        const out = new Uint8Array(40);
        const n = writeDss(out, 0, f);
        expect(n).toBe(refLength(flags, M && hasChecksum));
        expect(out[1]).toBe(n);
        const back = new DssFields();
        expect(readDss(out, 0, n, back)).toBeNull();
        expect({ ...back }).toStrictEqual({ ...f });
      }
    }
  });

  it('DssFields.clear resets every field', () => {
    const f = fields({ reserved: 1, flags: 2, dataAckHi: 3, dataAckLo: 4, dsnHi: 5, dsnLo: 6, subflowSeq: 7, dataLength: 8, hasChecksum: true, checksum: 9 });
    f.clear();
    expect({ ...f }).toStrictEqual({ ...new DssFields() });
  });
});
