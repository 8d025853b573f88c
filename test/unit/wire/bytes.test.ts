/**
 * Big-endian access and helpers (mptcp/wire/bytes.ts): network byte order (RFC 791
 * Appendix B), unsigned results, exact 64-bit values.
 */
import { describe, expect, it } from 'vitest';
import {
  bytesEqual,
  checkU64,
  checkUint,
  fromHex,
  readU16,
  readU32,
  readU64,
  toHex,
  u64Hex,
  writeU16,
  writeU32,
  writeU64,
} from '../../../mptcp/wire/bytes.js';
import { expectEncodeError } from '../../support/wire-expect.js';
import { hex, hexOf } from '../../support/wire-reference.js';

describe('reads', () => {
  const b = hex('00 ff fe dc ba 98 76 54 32 11 80');
  it('readU16 / readU32 are big-endian and unsigned', () => {
    expect(readU16(b, 1)).toBe(0xfffe);
    expect(readU32(b, 1)).toBe(0xfffedcba);
    expect(readU32(hex('80000000'), 0)).toBe(2147483648);
    expect(readU32(hex('ffffffff'), 0)).toBe(4294967295);
  });
  it('readU64 is exact above 2^53', () => {
    expect(readU64(b, 2)).toBe(0xfedcba9876543211n);
    expect(readU64(hex('ffffffffffffffff'), 0)).toBe(2n ** 64n - 1n);
    expect(readU64(hex('0020000000000001'), 0)).toBe(2n ** 53n + 1n);
  });
});

describe('writes', () => {
  it('writeU16 / writeU32 / writeU64 write network order at an offset, touching nothing else', () => {
    const out = new Uint8Array(16).fill(0xee);
    writeU16(out, 1, 0xabcd);
    expect(hexOf(out.subarray(0, 4))).toBe('eeabcdee');
    writeU32(out, 1, 0xfedcba98);
    expect(hexOf(out.subarray(0, 6))).toBe('eefedcba98ee');
    out.fill(0xee);
    writeU64(out, 3, 0xfedcba9876543211n);
    expect(hexOf(out)).toBe('eeeeeefedcba9876543211eeeeeeeeee');
    writeU64(out, 0, 2n ** 53n + 1n);
    expect(hexOf(out.subarray(0, 8))).toBe('0020000000000001');
  });
});

describe('range checks', () => {
  it('checkUint accepts 0 .. 2^bits - 1 integers only', () => {
    expect(() => checkUint('tcp', 'x', 0, 8)).not.toThrow();
    expect(() => checkUint('tcp', 'x', 255, 8)).not.toThrow();
    expect(() => checkUint('tcp', 'x', 0xffffffff, 32)).not.toThrow();
    for (const v of [256, -1, 1.5, Number.NaN, Infinity]) expectEncodeError(() => checkUint('tcp', 'x', v, 8), 'tcp');
    expectEncodeError(() => checkUint('tcp', 'x', 2 ** 32, 32));
  });
  it('checkU64 accepts 0 .. 2^64 - 1', () => {
    expect(() => checkU64('mptcp-option', 'k', 0n)).not.toThrow();
    expect(() => checkU64('mptcp-option', 'k', 2n ** 64n - 1n)).not.toThrow();
    expectEncodeError(() => checkU64('mptcp-option', 'k', 2n ** 64n), 'mptcp-option');
    expectEncodeError(() => checkU64('mptcp-option', 'k', -1n), 'mptcp-option');
  });
});

describe('helpers', () => {
  it('bytesEqual', () => {
    expect(bytesEqual(hex('0102'), hex('0102'))).toBe(true);
    expect(bytesEqual(hex('0102'), hex('0103'))).toBe(false);
    expect(bytesEqual(hex('0102'), hex('010200'))).toBe(false);
    expect(bytesEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });
  it('toHex / fromHex, also on a subarray view', () => {
    const b = hex('00 01 ab ff 10');
    expect(toHex(b)).toBe('0001abff10');
    expect(toHex(b.subarray(2, 4))).toBe('abff');
    expect(hexOf(fromHex('00 01:AB-ff10'))).toBe('0001abff10');
  });
  it('u64Hex pads to 16 digits', () => {
    expect(u64Hex(1n)).toBe('0000000000000001');
    expect(u64Hex(0xfedcba9876543211n)).toBe('fedcba9876543211');
  });
});
