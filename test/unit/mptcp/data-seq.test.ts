/**
 * Data sequence number conversions (mptcp/connection/data-seq.ts) against a BigInt reference:
 * relative DSNs to 64-bit wire halves and back, and 32-bit expansion near a reference.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dsnFromWire32, dsnFromWire64, dsnWireHi, dsnWireLo } from '../../../mptcp/connection/data-seq.js';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const rel = fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 2 ** 52, max: 2 ** 53 - 1 }));

describe('data sequence numbers', () => {
  it('relative -> wire halves equals the 64-bit sum IDSN + rel (mod 2^64)', () => {
    fc.assert(
      fc.property(u32, u32, rel, (hi, lo, r) => {
        const wire = ((BigInt(hi) << 32n) + BigInt(lo) + BigInt(r)) & 0xffffffffffffffffn;
        expect(dsnWireHi(hi, lo, r)).toBe(Number(wire >> 32n));
        expect(dsnWireLo(lo, r)).toBe(Number(wire & 0xffffffffn));
      }),
      { numRuns: 20_000 },
    );
  });

  it('wire -> relative inverts it, and values before the IDSN come back negative', () => {
    fc.assert(
      fc.property(u32, u32, rel, (hi, lo, r) => {
        expect(dsnFromWire64(hi, lo, dsnWireHi(hi, lo, r), dsnWireLo(lo, r))).toBe(r);
      }),
      { numRuns: 20_000 },
    );
    // One byte before the IDSN (a Data ACK for data never sent, or garbage).
    expect(dsnFromWire64(5, 0, 4, 0xffffffff)).toBeLessThan(0);
    expect(dsnFromWire64(0, 10, 0, 9)).toBeLessThan(0);
  });

  it('a 32-bit DSN expands to the value nearest the reference, across wraps', () => {
    fc.assert(
      fc.property(u32, fc.integer({ min: 0, max: 2 ** 45 }), fc.integer({ min: -(2 ** 30), max: 2 ** 30 }), (lo, ref, delta) => {
        const actual = Math.max(0, ref + delta);
        expect(dsnFromWire32(lo, dsnWireLo(lo, actual), ref)).toBe(actual);
      }),
      { numRuns: 20_000 },
    );
  });
});
