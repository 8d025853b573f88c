/**
 * MPTCP v1 cryptography (mptcp/wire/crypto.ts): token and IDSN (RFC 8684 §3.1), MP_JOIN
 * HMACs (§3.2) and the ADD_ADDR HMAC (§3.4.1).
 *
 * Known answers were computed outside Node with coreutils and OpenSSL, e.g.
 *   printf '\xf1\xe2\xd3\xc4\xb5\xa6\x97\x88' | sha256sum
 *   printf '\x11\x22\x33\x44\xaa\xbb\xcc\xdd' | openssl dgst -sha256 -mac HMAC -macopt hexkey:1112131415161718f1e2d3c4b5a69788
 * and random cases are recomputed with node:crypto directly on the byte strings the RFC
 * spells out.
 */
import { createHash, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addAddrHmac, joinAckHmac, joinSynAckHmac, keyIdsn, keyToken, keyToTokenAndIdsn } from '../../../mptcp/wire/crypto.js';
import { be, cat, hex, hexOf } from '../../support/wire-reference.js';

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
const u32 = fc.nat({ max: 0xffffffff });

function sha256(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(b).digest());
}
function hmac(key: Uint8Array, msg: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(msg).digest());
}
const big = (b: Uint8Array) => BigInt(`0x${hexOf(b)}`);

describe('keyToTokenAndIdsn (RFC 8684 §3.1)', () => {
  // SHA-256 of the 8 big-endian key bytes (sha256sum): token = first 4 bytes, IDSN = last 8.
  const known: { key: bigint; digest: string }[] = [
    { key: 0x0102030405060708n, digest: '66840dda154e8a113c31dd0ad32f7f3a366a80e8136979d8f5a101d3d29d6f72' },
    { key: 0xf1e2d3c4b5a69788n, digest: 'e45b8bdc6a74eaf47acacef78c23fe30bd9f2ca59a8e2259845bc998f0bace6f' },
    { key: 0n, digest: 'af5570f5a1810b7af78caf4bc70a660f0df51e42baf91d4de5b2328de0e83dfc' },
  ];
  for (const k of known) {
    it(`known answer for key ${k.key.toString(16)}`, () => {
      const token = parseInt(k.digest.slice(0, 8), 16);
      const idsn = BigInt(`0x${k.digest.slice(48)}`);
      expect(keyToTokenAndIdsn(k.key)).toStrictEqual({ token, idsn });
      expect(keyToken(k.key)).toBe(token);
      expect(keyIdsn(k.key)).toBe(idsn);
    });
  }

  it('matches SHA-256 over the 8 big-endian key bytes for random keys', () => {
    fc.assert(
      fc.property(u64, (key) => {
        const d = sha256(be(key, 8));
        const r = keyToTokenAndIdsn(key);
        expect(r.token).toBe(Number(big(d.subarray(0, 4))));
        expect(r.idsn).toBe(big(d.subarray(24, 32)));
      }),
      { numRuns: 300 },
    );
  });
});

// Host A initiates the subflow, host B responds.
const KEY_A = 0xf1e2d3c4b5a69788n;
const KEY_B = 0x1112131415161718n;
const R_A = 0xaabbccdd;
const R_B = 0x11223344;

describe('MP_JOIN HMACs (RFC 8684 §3.2)', () => {
  it('SYN/ACK: leftmost 64 bits of HMAC(Key-B || Key-A, R-B || R-A) (known answer)', () => {
    // openssl: c465d572d058ab22605e2b7c291b54b01b11720ecf7432d2753d320fde551eb0
    expect(joinSynAckHmac(KEY_B, KEY_A, R_B, R_A)).toBe(0xc465d572d058ab22n);
  });

  it('third ACK: leftmost 160 bits of HMAC(Key-A || Key-B, R-A || R-B) (known answer)', () => {
    // openssl: cb1a82612016848fd2f5f4976058ae69f9121f12683390387b31986011283ddb
    const mac = joinAckHmac(KEY_A, KEY_B, R_A, R_B);
    expect(mac).toBeInstanceOf(Uint8Array);
    expect(hexOf(mac)).toBe('cb1a82612016848fd2f5f4976058ae69f9121f12');
  });

  it('both match HMAC-SHA256 over the spelled-out concatenations for random keys and nonces', () => {
    fc.assert(
      fc.property(u64, u64, u32, u32, (keyA, keyB, rA, rB) => {
        const synAck = hmac(cat(be(keyB, 8), be(keyA, 8)), cat(be(rB, 4), be(rA, 4)));
        expect(joinSynAckHmac(keyB, keyA, rB, rA)).toBe(big(synAck.subarray(0, 8)));
        const ack = hmac(cat(be(keyA, 8), be(keyB, 8)), cat(be(rA, 4), be(rB, 4)));
        expect(hexOf(joinAckHmac(keyA, keyB, rA, rB))).toBe(hexOf(ack.subarray(0, 20)));
      }),
      { numRuns: 300 },
    );
  });

  it('key and nonce order matter', () => {
    expect(joinSynAckHmac(KEY_A, KEY_B, R_B, R_A)).not.toBe(joinSynAckHmac(KEY_B, KEY_A, R_B, R_A));
    expect(joinSynAckHmac(KEY_B, KEY_A, R_A, R_B)).not.toBe(joinSynAckHmac(KEY_B, KEY_A, R_B, R_A));
  });
});

describe('ADD_ADDR HMAC (RFC 8684 §3.4.1)', () => {
  // Rightmost 64 bits of HMAC(sender key || receiver key, id || address || port (2 bytes, 0 if absent)).
  it('IPv4 with a port (known answer)', () => {
    // openssl over 05 c0a80001 1f90 with key f1e2d3c4b5a69788 1112131415161718
    const d = '7743978befd85314f039b0dc54389dcdf1c2b7da294d8fa3ade45d4a2e8bfc3d';
    expect(addAddrHmac(KEY_A, KEY_B, 5, hex('c0a80001'), 8080)).toBe(BigInt(`0x${d.slice(48)}`));
  });
  it('IPv4 without a port: two zero bytes in the message (known answer)', () => {
    const d = 'a9728057d0650731af4d5749392a4f2c3ce8e4733808ece0331c6cc73077b0d3';
    expect(addAddrHmac(KEY_A, KEY_B, 5, hex('c0a80001'))).toBe(BigInt(`0x${d.slice(48)}`));
    expect(addAddrHmac(KEY_A, KEY_B, 5, hex('c0a80001'), 0)).toBe(BigInt(`0x${d.slice(48)}`));
  });
  it('IPv6 with a port, sent by B (known answer)', () => {
    const d = 'a864cba53888214f03750232c7ddcda68ebcd942a74377c9debc51c615d4d8c4';
    expect(addAddrHmac(KEY_B, KEY_A, 7, hex('20010db8000000000000000000000001'), 443)).toBe(BigInt(`0x${d.slice(48)}`));
  });

  it('matches HMAC-SHA256 over the spelled-out message for random inputs', () => {
    fc.assert(
      fc.property(
        u64,
        u64,
        fc.nat({ max: 255 }),
        fc.oneof(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.uint8Array({ minLength: 16, maxLength: 16 })),
        fc.option(fc.nat({ max: 0xffff }), { nil: undefined }),
        (sender, receiver, id, address, port) => {
          const d = hmac(cat(be(sender, 8), be(receiver, 8)), cat([id], address, be(port ?? 0, 2)));
          expect(addAddrHmac(sender, receiver, id, address, port)).toBe(big(d.subarray(24, 32)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
