/**
 * The Internet checksum and the sums built on it (mptcp/wire/checksum.ts), checked against
 * the RFC 1071 worked example and a plain 16-bit loop written for the test; the DSS checksum
 * against its pseudo-header built byte by byte from RFC 8684 §3.3.1.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checksumFromSum,
  dssChecksum,
  dssPseudoHeaderSum,
  foldSum,
  internetChecksum,
  ipv4PseudoHeaderSum,
  ipv6PseudoHeaderSum,
  sumVerifies,
  sumWords,
} from '../../../mptcp/wire/checksum.js';
import { be, cat, hex, refChecksum, refOnesSum } from '../../support/wire-reference.js';

describe('RFC 1071 §3 worked example', () => {
  // Bytes 00 01 f2 03 f4 f5 f6 f7: 16-bit sum 2ddf0, folded ddf2, checksum 220d.
  const data = hex('00 01 f2 03 f4 f5 f6 f7');
  it('unfolded, folded and complemented', () => {
    expect(sumWords(data, 0, 8)).toBe(0x2ddf0);
    expect(foldSum(0x2ddf0)).toBe(0xddf2);
    expect(checksumFromSum(0x2ddf0)).toBe(0x220d);
    expect(internetChecksum(data)).toBe(0x220d);
    expect(refChecksum(data)).toBe(0x220d);
  });
  it('data followed by its checksum verifies', () => {
    const withSum = cat(data, [0x22, 0x0d]);
    expect(sumVerifies(sumWords(withSum, 0, withSum.length))).toBe(true);
    withSum[9] ^= 1;
    expect(sumVerifies(sumWords(withSum, 0, withSum.length))).toBe(false);
  });
});

describe('sumWords', () => {
  it('pads an odd last byte with a zero on the right (RFC 1071)', () => {
    expect(sumWords(hex('01'), 0, 1)).toBe(0x0100);
    expect(sumWords(hex('ab cd ef'), 0, 3)).toBe(0xabcd + 0xef00);
    expect(internetChecksum(hex('ab cd ef'))).toBe(refChecksum(hex('ab cd ef')));
    expect(sumWords(hex('ff'), 0, 0)).toBe(0);
  });

  it('adds to a given initial sum and respects [start, end)', () => {
    const b = hex('ffff 1234 5678 9abc ffff');
    expect(sumWords(b, 2, 8, 7)).toBe(7 + 0x1234 + 0x5678 + 0x9abc);
    expect(sumWords(b, 3, 6)).toBe(0x3456 + 0x7800);
  });

  it('equals the plain loop for every length 0-64 and start 0-8 (the unrolled path and the tail)', () => {
    const buf = Uint8Array.from({ length: 80 }, (_, i) => (i * 151 + 77) & 0xff);
    for (let start = 0; start <= 8; start++) {
      for (let len = 0; len <= 64; len++) {
        expect(foldSum(sumWords(buf, start, start + len))).toBe(refOnesSum(buf.subarray(start, start + len)));
        expect(internetChecksum(buf, start, start + len)).toBe(refChecksum(buf.subarray(start, start + len)));
      }
    }
  });

  it('equals the plain loop on random data', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat({ max: 7 }), (data, start) => {
        fc.pre(start <= data.length);
        expect(internetChecksum(data, start)).toBe(refChecksum(data.subarray(start)));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('foldSum', () => {
  it('folds end-around carries, also for sums beyond 2^32', () => {
    expect(foldSum(0)).toBe(0);
    expect(foldSum(0xffff)).toBe(0xffff);
    expect(foldSum(0x10000)).toBe(1);
    expect(foldSum(0x1fffe)).toBe(0xffff);
    expect(foldSum(0xffffffff)).toBe(0xffff);
    expect(foldSum(0x123456789)).toBe(foldSum(0x1 + 0x2345 + 0x6789));
  });

  it('1 MiB of 0xff (unfolded sum about 2^35)', () => {
    const big = new Uint8Array(1 << 20).fill(0xff);
    const s = sumWords(big, 0, big.length);
    expect(s).toBe(0xffff * (1 << 19));
    expect(foldSum(s)).toBe(0xffff);
    expect(internetChecksum(big)).toBe(0);
    const mixed = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 2654435761) >>> 24);
    expect(internetChecksum(mixed)).toBe(refChecksum(mixed));
  });
});

describe('pseudo-header sums', () => {
  const v4s = hex('c0a80001');
  const v4d = hex('0a000002');
  const v6s = hex('20010db8000000000000000000000001');
  const v6d = hex('fe800000000000000202b3fffe1e8329');
  it('IPv4: src, dst, zero, protocol, length (RFC 9293 §3.1)', () => {
    const ref = refOnesSum(cat(v4s, v4d, [0, 6], be(1480, 2)));
    expect(foldSum(ipv4PseudoHeaderSum(v4s, v4d, 6, 1480))).toBe(ref);
  });
  it('IPv6: src, dst, 32-bit length, zeros, next header (RFC 8200 §8.1), lengths above 65535 too', () => {
    for (const len of [0, 20, 1440, 65535, 65536, 0x12345, 0xffffffff]) {
      const ref = refOnesSum(cat(v6s, v6d, be(len, 4), [0, 0, 0, 6]));
      expect(foldSum(ipv6PseudoHeaderSum(v6s, v6d, 6, len))).toBe(ref);
    }
    expect(foldSum(ipv6PseudoHeaderSum(v6s, v6d, 17, 8))).toBe(refOnesSum(cat(v6s, v6d, be(8, 4), [0, 0, 0, 17])));
  });
});

// ---------------------------------------------------------------- DSS checksum

/**
 * RFC 8684 §3.3.1: "the checksum is computed over a pseudo-header ... DSN (64 bits, the full
 * value even when a 32-bit DSN is sent), subflow sequence number (32), data-level length
 * (16), and zero (16)", followed by the mapping's payload.
 */
function refDssChecksum(dsn: bigint, ssn: number, len: number, payload: Uint8Array): number {
  return refChecksum(cat(be(dsn, 8), be(ssn, 4), be(len, 2), [0, 0], payload));
}

const hi = (v: bigint) => Number(v >> 32n);
const lo = (v: bigint) => Number(v & 0xffffffffn);

describe('DSS checksum (RFC 8684 §3.3.1)', () => {
  it('a hand-built mapping with a 64-bit DSN above 2^53', () => {
    const dsn = 0xfedcba9876543211n;
    const payload = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: example\r\n\r\n');
    const expected = refDssChecksum(dsn, 1, payload.length, payload);
    expect(dssChecksum(hi(dsn), lo(dsn), 1, payload.length, payload)).toBe(expected);
    // The receiver's check: pseudo-header with the received checksum, plus the payload, sums to all ones.
    expect(sumVerifies(sumWords(payload, 0, payload.length, dssPseudoHeaderSum(hi(dsn), lo(dsn), 1, payload.length, expected)))).toBe(true);
    expect(sumVerifies(sumWords(payload, 0, payload.length, dssPseudoHeaderSum(hi(dsn), lo(dsn), 2, payload.length, expected)))).toBe(false);
  });

  it('odd payload lengths and payloads at an odd offset in a larger buffer', () => {
    const buf = Uint8Array.from({ length: 301 }, (_, i) => (i * 7 + 1) & 0xff);
    for (const [start, end] of [
      [0, 1],
      [1, 2],
      [3, 300],
      [0, 301],
      [5, 5],
    ]) {
      const payload = buf.subarray(start, end);
      expect(dssChecksum(0x12345678, 0x9abcdef0, 0xffffffff, payload.length, buf, start, end)).toBe(
        refDssChecksum(0x123456789abcdef0n, 0xffffffff, payload.length, payload),
      );
    }
  });

  it('the pseudo-header sum is that of the 16 pseudo-header bytes', () => {
    const got = foldSum(dssPseudoHeaderSum(0xffffffff, 0xffffffff, 0xffffffff, 0xffff, 0xffff));
    const ref = refOnesSum(hex('ffffffffffffffff ffffffff ffff ffff'));
    expect(got).toBe(ref);
  });

  it('agrees with the byte-built pseudo-header on random mappings', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        fc.nat({ max: 0xffffffff }),
        fc.uint8Array({ maxLength: 1500 }),
        (dsn, ssn, payload) => {
          const len = payload.length;
          const c = dssChecksum(hi(dsn), lo(dsn), ssn, len, payload);
          expect(c).toBe(refDssChecksum(dsn, ssn, len, payload));
          expect(sumVerifies(sumWords(payload, 0, len, dssPseudoHeaderSum(hi(dsn), lo(dsn), ssn, len, c)))).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

