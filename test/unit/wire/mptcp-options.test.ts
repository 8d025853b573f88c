/**
 * MPTCP v1 option codec (mptcp/wire/mptcp-options.ts) against hand-built byte vectors laid
 * out from RFC 8684 §3 (figures in §3.1, §3.2, §3.3, §3.4.1, §3.4.2, §3.3.8, §3.5, §3.6,
 * §3.7): every suboption in every legal length parses to the expected fields and is emitted
 * back byte for byte; every other length is refused with a typed error; emitters refuse
 * representations that have no wire form.
 */
import { describe, expect, it } from 'vitest';
import { DssFields } from '../../../mptcp/wire/dss.js';
import type { DssOption, MptcpOption } from '../../../mptcp/wire/mptcp-option-types.js';
import {
  dssFieldsFromOption,
  dssFlagsFor,
  dssOptionFromFields,
  emitMptcpOption,
  encodeMptcpOption,
  mptcpOptionLength,
  parseMptcpOption,
} from '../../../mptcp/wire/mptcp-options.js';
import { expectEncodeError, expectErr, expectOk } from '../../support/wire-expect.js';
import { be, cat, hex, hexOf } from '../../support/wire-reference.js';

// Values above 2^53 that a double cannot hold (odd), to catch any trip through Number.
const KEY_A = 0xfedcba9876543211n;
const KEY_B = 0x0123456789abcdefn;
const ACK64 = 0xfedcba9876543211n;
const DSN64 = 0x0123456789abcdefn;
const ACK32 = 0x89abcdefn;
const DSN32 = 0xdeadbeefn;
const SSN = 0x01020304;
const DLEN = 0x05dc;
const CSUM = 0xbeef;

function parseAll(bytes: Uint8Array) {
  return parseMptcpOption(bytes, 0, bytes.length);
}

/**
 * The full contract for one valid vector: parse (at offset 0 and embedded at an odd offset
 * in a larger buffer) gives `expected`; the length function, encode and emit (at an offset,
 * without touching neighbouring bytes) give back exactly `bytes`.
 */
function checkVector(bytes: Uint8Array, expected: MptcpOption): void {
  expect(expectOk(parseAll(bytes))).toStrictEqual(expected);
  const big = new Uint8Array(bytes.length + 12).fill(0xa5);
  big.set(bytes, 7);
  expect(expectOk(parseMptcpOption(big, 7, bytes.length))).toStrictEqual(expected);

  expect(mptcpOptionLength(expected)).toBe(bytes.length);
  expect(hexOf(encodeMptcpOption(expected))).toBe(hexOf(bytes));
  const out = new Uint8Array(bytes.length + 10).fill(0xee);
  expect(emitMptcpOption(expected, out, 5)).toBe(bytes.length);
  expect(hexOf(out.subarray(5, 5 + bytes.length))).toBe(hexOf(bytes));
  expect(out.subarray(0, 5).every((b) => b === 0xee)).toBe(true);
  expect(out.subarray(5 + bytes.length).every((b) => b === 0xee)).toBe(true);
}

describe('test constants', () => {
  it('64-bit values are above 2^53 and not representable as a double', () => {
    for (const v of [KEY_A, KEY_B, ACK64, DSN64]) {
      expect(v > 2n ** 53n).toBe(true);
      expect(BigInt(Number(v))).not.toBe(v);
    }
  });
});

describe('MP_CAPABLE (subtype 0x0, RFC 8684 §3.1)', () => {
  it('length 4 (SYN): version and flags only', () => {
    checkVector(hex('1e 04 01 81'), { subtype: 'MP_CAPABLE', version: 1, flags: 0x81 });
    checkVector(hex('1e 04 00 21'), { subtype: 'MP_CAPABLE', version: 0, flags: 0x21 });
  });
  it('length 12 (SYN/ACK): the sender key', () => {
    checkVector(hex('1e 0c 01 01 fedcba9876543211'), { subtype: 'MP_CAPABLE', version: 1, flags: 0x01, senderKey: KEY_A });
  });
  it('length 20 (third ACK): both keys', () => {
    checkVector(hex('1e 14 01 81 fedcba9876543211 0123456789abcdef'), {
      subtype: 'MP_CAPABLE',
      version: 1,
      flags: 0x81,
      senderKey: KEY_A,
      receiverKey: KEY_B,
    });
  });
  it('length 22 (first data): both keys and the data-level length', () => {
    checkVector(hex('1e 16 01 01 fedcba9876543211 0123456789abcdef 05dc'), {
      subtype: 'MP_CAPABLE',
      version: 1,
      flags: 0x01,
      senderKey: KEY_A,
      receiverKey: KEY_B,
      dataLength: DLEN,
    });
  });
  it('length 24 (first data with checksum): + checksum', () => {
    checkVector(hex('1e 18 01 81 fedcba9876543211 0123456789abcdef 05dc beef'), {
      subtype: 'MP_CAPABLE',
      version: 1,
      flags: 0x81,
      senderKey: KEY_A,
      receiverKey: KEY_B,
      dataLength: DLEN,
      checksum: CSUM,
    });
  });
  it('keeps the version nibble and every flag bit (reserved ones too)', () => {
    checkVector(hex('1e 04 0f ff'), { subtype: 'MP_CAPABLE', version: 15, flags: 0xff });
    checkVector(hex('1e 0c 01 5e ffffffffffffffff'), { subtype: 'MP_CAPABLE', version: 1, flags: 0x5e, senderKey: 2n ** 64n - 1n });
  });
});

describe('MP_JOIN (subtype 0x1, RFC 8684 §3.2)', () => {
  it('length 12 (SYN): B flag, address id, receiver token, sender nonce', () => {
    checkVector(hex('1e 0c 11 05 a1b2c3d4 01020304'), {
      subtype: 'MP_JOIN',
      stage: 'syn',
      flags: 1,
      addressId: 5,
      receiverToken: 0xa1b2c3d4,
      senderNonce: 0x01020304,
    });
    checkVector(hex('1e 0c 10 ff ffffffff 80000000'), {
      subtype: 'MP_JOIN',
      stage: 'syn',
      flags: 0,
      addressId: 255,
      receiverToken: 0xffffffff,
      senderNonce: 0x80000000,
    });
  });
  it('length 16 (SYN/ACK): B flag, address id, 64-bit truncated HMAC, sender nonce', () => {
    checkVector(hex('1e 10 11 07 fedcba9876543211 cafef00d'), {
      subtype: 'MP_JOIN',
      stage: 'syn-ack',
      flags: 1,
      addressId: 7,
      truncatedHmac: KEY_A,
      senderNonce: 0xcafef00d,
    });
  });
  it('length 24 (third ACK): 12 reserved bits then the 160-bit HMAC', () => {
    const mac = hex('000102030405060708090a0b0c0d0e0f10111213');
    checkVector(cat(hex('1e 18 10 00'), mac), { subtype: 'MP_JOIN', stage: 'ack', reserved: 0, hmac: mac });
    checkVector(cat(hex('1e 18 1a bc'), mac), { subtype: 'MP_JOIN', stage: 'ack', reserved: 0xabc, hmac: mac });
  });
});

// ---------------------------------------------------------------- DSS

/** DSS bytes and representation for a flags byte, laid out field by field from RFC 8684 §3.3 Figure 9. */
function dssVector(flags: number, withChecksum: boolean): { bytes: Uint8Array; option: DssOption } {
  const A = (flags & 0x01) !== 0;
  const a = (flags & 0x02) !== 0;
  const M = (flags & 0x04) !== 0;
  const m = (flags & 0x08) !== 0;
  const fields: Uint8Array[] = [];
  const option: DssOption = { subtype: 'DSS', reserved: 0, flags };
  if (A) {
    fields.push(a ? be(ACK64, 8) : be(ACK32, 4));
    option.dataAck = a ? ACK64 : ACK32;
  }
  if (M) {
    fields.push(m ? be(DSN64, 8) : be(DSN32, 4), be(SSN, 4), be(DLEN, 2));
    option.dsn = m ? DSN64 : DSN32;
    option.subflowSeq = SSN;
    option.dataLength = DLEN;
    if (withChecksum) {
      fields.push(be(CSUM, 2));
      option.checksum = CSUM;
    }
  }
  const rest = cat(...fields);
  return { bytes: cat([30, 4 + rest.length, 0x20, flags], rest), option };
}

/** RFC 8684 §3.3: 4 + Data ACK (4 or 8) + mapping (DSN 4 or 8, SSN 4, length 2, checksum 2). */
function dssExpectedLength(flags: number, withChecksum: boolean): number {
  let n = 4;
  if (flags & 0x01) n += flags & 0x02 ? 8 : 4;
  if (flags & 0x04) n += (flags & 0x08 ? 8 : 4) + 4 + 2 + (withChecksum ? 2 : 0);
  return n;
}

describe('DSS (subtype 0x2, RFC 8684 §3.3)', () => {
  it('literal vectors: the largest (28 bytes) and a few common ones', () => {
    checkVector(hex('1e 1c 20 0f fedcba9876543211 0123456789abcdef 01020304 05dc beef'), {
      subtype: 'DSS',
      reserved: 0,
      flags: 0x0f,
      dataAck: ACK64,
      dsn: DSN64,
      subflowSeq: SSN,
      dataLength: DLEN,
      checksum: CSUM,
    });
    checkVector(hex('1e 08 20 01 89abcdef'), { subtype: 'DSS', reserved: 0, flags: 0x01, dataAck: ACK32 });
    checkVector(hex('1e 0c 20 03 fedcba9876543211'), { subtype: 'DSS', reserved: 0, flags: 0x03, dataAck: ACK64 });
    checkVector(hex('1e 12 20 05 89abcdef deadbeef 01020304 05dc'), {
      subtype: 'DSS',
      reserved: 0,
      flags: 0x05,
      dataAck: ACK32,
      dsn: DSN32,
      subflowSeq: SSN,
      dataLength: DLEN,
    });
    // DATA_FIN alone on a 64-bit mapping (how Linux sends a bare DATA_FIN: SSN 0, length 1).
    checkVector(hex('1e 12 20 1c 0123456789abcdef 00000000 0001'), {
      subtype: 'DSS',
      reserved: 0,
      flags: 0x1c,
      dsn: DSN64,
      subflowSeq: 0,
      dataLength: 1,
    });
    checkVector(hex('1e 04 20 00'), { subtype: 'DSS', reserved: 0, flags: 0 });
  });

  it('the field layout helper agrees with the literal vectors', () => {
    expect(hexOf(dssVector(0x0f, true).bytes)).toBe('1e1c200ffedcba98765432110123456789abcdef0102030405dcbeef');
    expect(hexOf(dssVector(0x05, false).bytes)).toBe('1e12200589abcdefdeadbeef0102030405dc');
  });

  for (let flags = 0; flags < 32; flags++) {
    const names = ['F', 'm', 'M', 'a', 'A'].filter((_, i) => flags & (0x10 >> i)).join('') || 'none';
    const forms = flags & 0x04 ? [false, true] : [false];
    for (const withChecksum of forms) {
      it(`flags 0x${flags.toString(16).padStart(2, '0')} (${names})${withChecksum ? ' with checksum' : ''}: length ${dssExpectedLength(flags, withChecksum)}`, () => {
        const { bytes, option } = dssVector(flags, withChecksum);
        expect(bytes.length).toBe(dssExpectedLength(flags, withChecksum));
        checkVector(bytes, option);
        const parsed = expectOk(parseAll(bytes));
        if (parsed.subtype !== 'DSS') return expect.fail('not a DSS');
        // 64-bit values exact, 32-bit values are the low halves as sent.
        if (flags & 0x01) expect(parsed.dataAck).toBe(flags & 0x02 ? ACK64 : ACK32);
        if (flags & 0x04) expect(parsed.dsn).toBe(flags & 0x08 ? DSN64 : DSN32);
      });
    }
  }

  it('keeps the reserved nibble and the three reserved flag bits', () => {
    const { bytes, option } = dssVector(0xe5, true);
    bytes[2] = 0x2a;
    checkVector(bytes, { ...option, reserved: 0xa });
  });

  it('the 64-bit fields hold every bit, from 0 to 2^64-1', () => {
    checkVector(hex('1e 1c 20 0f ffffffffffffffff 8000000000000001 ffffffff ffff 0000'), {
      subtype: 'DSS',
      reserved: 0,
      flags: 0x0f,
      dataAck: 2n ** 64n - 1n,
      dsn: 2n ** 63n + 1n,
      subflowSeq: 0xffffffff,
      dataLength: 0xffff,
      checksum: 0,
    });
    // Flag a (8-byte Data ACK) without A carries no Data ACK: length 4 + 8 + 4 + 2.
    checkVector(hex('1e 12 20 0e 0000000100000000 00000000 0000'), {
      subtype: 'DSS',
      reserved: 0,
      flags: 0x0e,
      dsn: 2n ** 32n,
      subflowSeq: 0,
      dataLength: 0,
    });
  });

  it('dssFlagsFor gives the RFC flag bits', () => {
    expect(dssFlagsFor({ hasAck: true, hasMapping: false })).toBe(0x01);
    expect(dssFlagsFor({ hasAck: true, dataAck64: true, hasMapping: false })).toBe(0x03);
    expect(dssFlagsFor({ hasAck: false, hasMapping: true })).toBe(0x04);
    expect(dssFlagsFor({ hasAck: false, hasMapping: true, dsn64: true })).toBe(0x0c);
    expect(dssFlagsFor({ hasAck: true, dataAck64: true, hasMapping: true, dsn64: true, dataFin: true })).toBe(0x1f);
  });

  it('dssFieldsFromOption and dssOptionFromFields are inverse on every combination', () => {
    for (let flags = 0; flags < 32; flags++) {
      for (const withChecksum of flags & 0x04 ? [false, true] : [false]) {
        const { option } = dssVector(flags, withChecksum);
        const f = dssFieldsFromOption(option, new DssFields());
        expect(f.flags).toBe(flags);
        expect(f.hasChecksum).toBe(withChecksum);
        if (flags & 0x01) expect((BigInt(f.dataAckHi) << 32n) | BigInt(f.dataAckLo)).toBe(option.dataAck);
        if (flags & 0x04) expect((BigInt(f.dsnHi) << 32n) | BigInt(f.dsnLo)).toBe(option.dsn);
        expect(dssOptionFromFields(f)).toStrictEqual(option);
      }
    }
  });
});

// ---------------------------------------------------------------- ADD_ADDR

describe('ADD_ADDR (subtype 0x3, RFC 8684 §3.4.1)', () => {
  const v4 = hex('c0a80001');
  const v6 = hex('20010db8000000000000000000000001');
  const HMAC = 0x8877665544332211n;
  const cases: { name: string; bytes: string; option: MptcpOption }[] = [
    { name: 'IPv4, no port, HMAC (16)', bytes: '1e 10 30 05 c0a80001 8877665544332211', option: { subtype: 'ADD_ADDR', flags: 0, addressId: 5, address: v4, truncatedHmac: HMAC } },
    { name: 'IPv4, port, HMAC (18)', bytes: '1e 12 30 05 c0a80001 1f90 8877665544332211', option: { subtype: 'ADD_ADDR', flags: 0, addressId: 5, address: v4, port: 8080, truncatedHmac: HMAC } },
    { name: 'IPv4, no port, echo (8)', bytes: '1e 08 31 05 c0a80001', option: { subtype: 'ADD_ADDR', flags: 1, addressId: 5, address: v4 } },
    { name: 'IPv4, port, echo (10)', bytes: '1e 0a 31 05 c0a80001 1f90', option: { subtype: 'ADD_ADDR', flags: 1, addressId: 5, address: v4, port: 8080 } },
    { name: 'IPv6, no port, HMAC (28)', bytes: '1e 1c 30 07 20010db8000000000000000000000001 8877665544332211', option: { subtype: 'ADD_ADDR', flags: 0, addressId: 7, address: v6, truncatedHmac: HMAC } },
    { name: 'IPv6, port, HMAC (30)', bytes: '1e 1e 30 07 20010db8000000000000000000000001 01bb 8877665544332211', option: { subtype: 'ADD_ADDR', flags: 0, addressId: 7, address: v6, port: 443, truncatedHmac: HMAC } },
    { name: 'IPv6, no port, echo (20)', bytes: '1e 14 31 07 20010db8000000000000000000000001', option: { subtype: 'ADD_ADDR', flags: 1, addressId: 7, address: v6 } },
    { name: 'IPv6, port, echo (22)', bytes: '1e 16 31 07 20010db8000000000000000000000001 01bb', option: { subtype: 'ADD_ADDR', flags: 1, addressId: 7, address: v6, port: 443 } },
  ];
  for (const c of cases) {
    it(c.name, () => checkVector(hex(c.bytes), c.option));
  }
  it('keeps the reserved bits of the flags nibble, with and without E', () => {
    checkVector(hex('1e 10 3e ff 01020304 ffffffffffffffff'), {
      subtype: 'ADD_ADDR',
      flags: 0xe,
      addressId: 255,
      address: hex('01020304'),
      truncatedHmac: 2n ** 64n - 1n,
    });
    checkVector(hex('1e 08 3f 00 01020304'), { subtype: 'ADD_ADDR', flags: 0xf, addressId: 0, address: hex('01020304') });
  });
});

describe('REMOVE_ADDR (subtype 0x4, RFC 8684 §3.4.2)', () => {
  it('one address id (length 4)', () => {
    checkVector(hex('1e 04 40 03'), { subtype: 'REMOVE_ADDR', reserved: 0, addressIds: [3] });
  });
  it('several address ids', () => {
    checkVector(hex('1e 07 40 01 02 00 ff'), { subtype: 'REMOVE_ADDR', reserved: 0, addressIds: [1, 2, 0, 255] });
    checkVector(hex('1e 05 4c 08 09'), { subtype: 'REMOVE_ADDR', reserved: 0xc, addressIds: [8, 9] });
  });
  it('37 ids fill the 40-byte option space', () => {
    const ids = Array.from({ length: 37 }, (_, i) => i * 7);
    checkVector(cat([30, 40, 0x40], ids), { subtype: 'REMOVE_ADDR', reserved: 0, addressIds: ids });
  });
});

describe('MP_PRIO (subtype 0x5, RFC 8684 §3.3.8)', () => {
  it('with B (backup) set and clear', () => {
    checkVector(hex('1e 03 51'), { subtype: 'MP_PRIO', flags: 1 });
    checkVector(hex('1e 03 50'), { subtype: 'MP_PRIO', flags: 0 });
    checkVector(hex('1e 03 5e'), { subtype: 'MP_PRIO', flags: 0xe });
  });
});

describe('MP_FAIL (subtype 0x6, RFC 8684 §3.7)', () => {
  it('reserved bits then the 64-bit DSN', () => {
    checkVector(hex('1e 0c 60 00 0123456789abcdef'), { subtype: 'MP_FAIL', reserved: 0, dsn: DSN64 });
    checkVector(hex('1e 0c 6f ff ffffffffffffffff'), { subtype: 'MP_FAIL', reserved: 0xfff, dsn: 2n ** 64n - 1n });
  });
});

describe('MP_FASTCLOSE (subtype 0x7, RFC 8684 §3.5)', () => {
  it("reserved bits then the option receiver's key", () => {
    checkVector(hex('1e 0c 70 00 fedcba9876543211'), { subtype: 'MP_FASTCLOSE', reserved: 0, receiverKey: KEY_A });
    checkVector(hex('1e 0c 71 23 0000000000000001'), { subtype: 'MP_FASTCLOSE', reserved: 0x123, receiverKey: 1n });
  });
});

describe('MP_TCPRST (subtype 0x8, RFC 8684 §3.6)', () => {
  // |Subtype|U|V|W|T|  Reason  |
  const flags = [
    { name: 'none', bits: 0 },
    { name: 'T (transient)', bits: 0x1 },
    { name: 'W', bits: 0x2 },
    { name: 'V', bits: 0x4 },
    { name: 'U', bits: 0x8 },
    { name: 'all', bits: 0xf },
  ];
  for (const f of flags) {
    it(`flags ${f.name} with reasons 0-6`, () => {
      for (let reason = 0; reason <= 6; reason++) {
        checkVector(cat([0x1e, 0x04, 0x80 | f.bits, reason]), { subtype: 'MP_TCPRST', flags: f.bits, reason });
      }
    });
  }
  it('an unassigned reason code is kept', () => {
    checkVector(hex('1e 04 81 ff'), { subtype: 'MP_TCPRST', flags: 1, reason: 255 });
  });
});

describe('unknown subtypes 0x9-0xf are kept byte for byte', () => {
  for (let code = 9; code <= 15; code++) {
    it(`subtype 0x${code.toString(16)}`, () => {
      checkVector(cat([30, 3, code << 4]), { subtype: 'UNKNOWN', code, body: new Uint8Array([code << 4]) });
      const body = cat([(code << 4) | 0x5], [1, 2, 3, 4, 5]);
      checkVector(cat([30, 2 + body.length], body), { subtype: 'UNKNOWN', code, body });
      const longest = new Uint8Array(38).fill(0xab);
      longest[0] = (code << 4) | 0xf;
      checkVector(cat([30, 40], longest), { subtype: 'UNKNOWN', code, body: longest });
    });
  }
});

// ---------------------------------------------------------------- illegal lengths

/** An option of `len` bytes (3..40) with the given byte 2 and byte 3, zeros after. */
function optionOfLength(len: number, byte2: number, byte3: number): Uint8Array {
  const b = new Uint8Array(len);
  b[0] = 30;
  b[1] = len;
  b[2] = byte2;
  if (len > 3) b[3] = byte3;
  return b;
}

function expectLengthError(bytes: Uint8Array, field: string): void {
  const e = expectErr(parseAll(bytes), 'mptcp-option', field);
  expect(e.offset).toBe(1);
  expect(e.rule).toContain(String(bytes.length));
  // Embedded, the offset is that of the length byte in the larger buffer.
  const big = new Uint8Array(bytes.length + 9);
  big.set(bytes, 4);
  expect(expectErr(parseMptcpOption(big, 4, bytes.length), 'mptcp-option', field).offset).toBe(5);
}

describe('every illegal length is refused with a typed error naming the subtype', () => {
  const fixed: { name: string; code: number; legal: number[] }[] = [
    { name: 'MP_CAPABLE', code: 0x0, legal: [4, 12, 20, 22, 24] },
    { name: 'MP_JOIN', code: 0x1, legal: [12, 16, 24] },
    { name: 'REMOVE_ADDR', code: 0x4, legal: Array.from({ length: 37 }, (_, i) => 4 + i) },
    { name: 'MP_PRIO', code: 0x5, legal: [3] },
    { name: 'MP_FAIL', code: 0x6, legal: [12] },
    { name: 'MP_FASTCLOSE', code: 0x7, legal: [12] },
    { name: 'MP_TCPRST', code: 0x8, legal: [4] },
  ];
  for (const s of fixed) {
    it(`${s.name}: lengths 3-40 other than ${s.legal.length > 5 ? '4-40' : s.legal.join(', ')}`, () => {
      let refused = 0;
      for (let len = 3; len <= 40; len++) {
        for (const low of [0x0, 0x1, 0xf]) {
          const bytes = optionOfLength(len, (s.code << 4) | low, 0x81);
          if (s.legal.includes(len)) expect(parseAll(bytes).ok).toBe(true);
          else {
            expectLengthError(bytes, `${s.name}.length`);
            refused++;
          }
        }
      }
      expect(refused).toBe(3 * (38 - s.legal.length));
    });
  }

  it('DSS: for each of the 256 flag bytes, every length 3-40 but the one (or two, with a mapping) it implies', () => {
    let refused = 0;
    for (let flags = 0; flags < 256; flags++) {
      const base = dssExpectedLength(flags & 0x1f, false);
      const legal = flags & 0x04 ? [base, base + 2] : [base];
      for (let len = 3; len <= 40; len++) {
        const bytes = optionOfLength(len, 0x20, flags);
        if (legal.includes(len)) {
          const o = expectOk(parseAll(bytes));
          expect(o.subtype === 'DSS' && o.checksum !== undefined).toBe(len === base + 2);
        } else {
          expectLengthError(bytes, 'DSS.length');
          refused++;
        }
      }
    }
    expect(refused).toBeGreaterThan(256 * 35);
  });

  it('ADD_ADDR: with E=0 only 16, 18, 28, 30; with E=1 only 8, 10, 20, 22', () => {
    for (let low = 0; low < 16; low++) {
      const legal = low & 1 ? [8, 10, 20, 22] : [16, 18, 28, 30];
      for (let len = 3; len <= 40; len++) {
        const bytes = optionOfLength(len, 0x30 | low, 9);
        if (legal.includes(len)) {
          const o = expectOk(parseAll(bytes));
          if (o.subtype !== 'ADD_ADDR') return expect.fail('not ADD_ADDR');
          expect(o.address.length).toBe(len === legal[0] || len === legal[1] ? 4 : 16);
          expect(o.port !== undefined).toBe(len === legal[1] || len === legal[3]);
          expect(o.truncatedHmac !== undefined).toBe((low & 1) === 0);
        } else expectLengthError(bytes, 'ADD_ADDR.length');
      }
    }
  });

  it('unknown subtypes accept any length from 3', () => {
    for (let code = 9; code < 16; code++) {
      for (let len = 3; len <= 40; len++) expect(parseAll(optionOfLength(len, code << 4, 0)).ok).toBe(true);
    }
  });

  it('lengths beyond the 40-byte TCP option space (RFC 9293 §3.1) are refused for every subtype', () => {
    for (let code = 0; code < 16; code++) {
      for (const len of [41, 42, 46, 64, 255]) expectLengthError(optionOfLength(len, code << 4, 0), 'length');
    }
  });

  it('a length running past the buffer is refused, not read', () => {
    for (let code = 0; code < 16; code++) {
      expectErr(parseMptcpOption(new Uint8Array([30, 12, code << 4, 0]), 0, 12), 'mptcp-option', 'length');
      expectErr(parseMptcpOption(new Uint8Array([30, 4, code << 4, 0]), 1, 4), 'mptcp-option', 'length');
      expectErr(parseMptcpOption(new Uint8Array([30, 4, code << 4, 0]), -1, 4), 'mptcp-option', 'length');
    }
  });

  it('length 2 (no subtype byte) is refused for every subtype nibble', () => {
    for (let code = 0; code < 16; code++) {
      const buf = new Uint8Array([30, 2, code << 4, 0]);
      const e = expectErr(parseMptcpOption(buf, 0, 2), 'mptcp-option', /length/);
      expect(e.offset).toBe(1);
    }
  });
});

// ---------------------------------------------------------------- emit refusals

describe('emitters refuse representations with no wire form (WireEncodeError)', () => {
  const dss = (o: Partial<DssOption>): DssOption => ({ subtype: 'DSS', reserved: 0, flags: 0, ...o });
  const bad: { name: string; option: MptcpOption }[] = [
    // DSS: flags and fields must agree (RFC 8684 §3.3).
    { name: 'DSS flag A without dataAck', option: dss({ flags: 0x01 }) },
    { name: 'DSS dataAck without flag A', option: dss({ flags: 0x00, dataAck: 1n }) },
    { name: 'DSS flag M without a mapping', option: dss({ flags: 0x04 }) },
    { name: 'DSS flag M with a partial mapping', option: dss({ flags: 0x04, dsn: 1n, subflowSeq: 1 }) },
    { name: 'DSS mapping without flag M', option: dss({ flags: 0x00, dsn: 1n, subflowSeq: 1, dataLength: 1 }) },
    { name: 'DSS dsn alone without flag M', option: dss({ flags: 0x00, dsn: 1n }) },
    { name: 'DSS dataLength alone without flag M', option: dss({ flags: 0x01, dataAck: 1n, dataLength: 3 }) },
    { name: 'DSS checksum without a mapping', option: dss({ flags: 0x00, checksum: 1 }) },
    { name: 'DSS 32-bit Data ACK above 2^32', option: dss({ flags: 0x01, dataAck: 2n ** 32n }) },
    { name: 'DSS 32-bit DSN above 2^32', option: dss({ flags: 0x04, dsn: 2n ** 32n, subflowSeq: 0, dataLength: 0 }) },
    { name: 'DSS Data ACK of 2^64', option: dss({ flags: 0x03, dataAck: 2n ** 64n }) },
    { name: 'DSS negative Data ACK', option: dss({ flags: 0x03, dataAck: -1n }) },
    { name: 'DSS DSN of 2^64', option: dss({ flags: 0x0c, dsn: 2n ** 64n, subflowSeq: 0, dataLength: 0 }) },
    { name: 'DSS subflowSeq of 2^32', option: dss({ flags: 0x04, dsn: 0n, subflowSeq: 2 ** 32, dataLength: 0 }) },
    { name: 'DSS dataLength of 2^16', option: dss({ flags: 0x04, dsn: 0n, subflowSeq: 0, dataLength: 65536 }) },
    { name: 'DSS checksum of 2^16', option: dss({ flags: 0x04, dsn: 0n, subflowSeq: 0, dataLength: 0, checksum: 65536 }) },
    { name: 'DSS flags of 256', option: dss({ flags: 256 }) },
    { name: 'DSS reserved of 16', option: dss({ reserved: 16 }) },
    // MP_CAPABLE fields are cumulative (RFC 8684 §3.1).
    { name: 'MP_CAPABLE receiverKey without senderKey', option: { subtype: 'MP_CAPABLE', version: 1, flags: 1, receiverKey: 1n } },
    { name: 'MP_CAPABLE dataLength without receiverKey', option: { subtype: 'MP_CAPABLE', version: 1, flags: 1, senderKey: 1n, dataLength: 1 } },
    { name: 'MP_CAPABLE checksum without dataLength', option: { subtype: 'MP_CAPABLE', version: 1, flags: 1, senderKey: 1n, receiverKey: 2n, checksum: 1 } },
    { name: 'MP_CAPABLE version 16', option: { subtype: 'MP_CAPABLE', version: 16, flags: 1 } },
    { name: 'MP_CAPABLE flags 256', option: { subtype: 'MP_CAPABLE', version: 1, flags: 256 } },
    { name: 'MP_CAPABLE key of 2^64', option: { subtype: 'MP_CAPABLE', version: 1, flags: 1, senderKey: 2n ** 64n } },
    { name: 'MP_CAPABLE dataLength 2^16', option: { subtype: 'MP_CAPABLE', version: 1, flags: 1, senderKey: 1n, receiverKey: 2n, dataLength: 65536 } },
    // MP_JOIN.
    { name: 'MP_JOIN ACK with a 19-byte HMAC', option: { subtype: 'MP_JOIN', stage: 'ack', reserved: 0, hmac: new Uint8Array(19) } },
    { name: 'MP_JOIN ACK with a 21-byte HMAC', option: { subtype: 'MP_JOIN', stage: 'ack', reserved: 0, hmac: new Uint8Array(21) } },
    { name: 'MP_JOIN ACK reserved 0x1000', option: { subtype: 'MP_JOIN', stage: 'ack', reserved: 0x1000, hmac: new Uint8Array(20) } },
    { name: 'MP_JOIN SYN flags 16', option: { subtype: 'MP_JOIN', stage: 'syn', flags: 16, addressId: 0, receiverToken: 0, senderNonce: 0 } },
    { name: 'MP_JOIN SYN addressId 256', option: { subtype: 'MP_JOIN', stage: 'syn', flags: 0, addressId: 256, receiverToken: 0, senderNonce: 0 } },
    { name: 'MP_JOIN SYN token 2^32', option: { subtype: 'MP_JOIN', stage: 'syn', flags: 0, addressId: 0, receiverToken: 2 ** 32, senderNonce: 0 } },
    { name: 'MP_JOIN SYN negative nonce', option: { subtype: 'MP_JOIN', stage: 'syn', flags: 0, addressId: 0, receiverToken: 0, senderNonce: -1 } },
    { name: 'MP_JOIN SYN/ACK nonce 2^32', option: { subtype: 'MP_JOIN', stage: 'syn-ack', flags: 0, addressId: 0, truncatedHmac: 0n, senderNonce: 2 ** 32 } },
    { name: 'MP_JOIN SYN/ACK HMAC 2^64', option: { subtype: 'MP_JOIN', stage: 'syn-ack', flags: 0, addressId: 0, truncatedHmac: 2n ** 64n, senderNonce: 0 } },
    // ADD_ADDR: the HMAC is present exactly when E is clear (RFC 8684 §3.4.1).
    { name: 'ADD_ADDR echo with an HMAC', option: { subtype: 'ADD_ADDR', flags: 1, addressId: 1, address: new Uint8Array(4), truncatedHmac: 1n } },
    { name: 'ADD_ADDR non-echo without an HMAC', option: { subtype: 'ADD_ADDR', flags: 0, addressId: 1, address: new Uint8Array(4) } },
    { name: 'ADD_ADDR 5-byte address', option: { subtype: 'ADD_ADDR', flags: 1, addressId: 1, address: new Uint8Array(5) } },
    { name: 'ADD_ADDR empty address', option: { subtype: 'ADD_ADDR', flags: 1, addressId: 1, address: new Uint8Array(0) } },
    { name: 'ADD_ADDR port 2^16', option: { subtype: 'ADD_ADDR', flags: 1, addressId: 1, address: new Uint8Array(4), port: 65536 } },
    { name: 'ADD_ADDR flags 16', option: { subtype: 'ADD_ADDR', flags: 17, addressId: 1, address: new Uint8Array(4) } },
    { name: 'ADD_ADDR addressId 256', option: { subtype: 'ADD_ADDR', flags: 1, addressId: 256, address: new Uint8Array(4) } },
    { name: 'ADD_ADDR HMAC 2^64', option: { subtype: 'ADD_ADDR', flags: 0, addressId: 1, address: new Uint8Array(4), truncatedHmac: 2n ** 64n } },
    // REMOVE_ADDR: 1 to 37 ids.
    { name: 'REMOVE_ADDR without ids', option: { subtype: 'REMOVE_ADDR', reserved: 0, addressIds: [] } },
    { name: 'REMOVE_ADDR with 38 ids', option: { subtype: 'REMOVE_ADDR', reserved: 0, addressIds: new Array<number>(38).fill(1) } },
    { name: 'REMOVE_ADDR id 256', option: { subtype: 'REMOVE_ADDR', reserved: 0, addressIds: [1, 256] } },
    { name: 'REMOVE_ADDR reserved 16', option: { subtype: 'REMOVE_ADDR', reserved: 16, addressIds: [1] } },
    { name: 'MP_PRIO flags 16', option: { subtype: 'MP_PRIO', flags: 16 } },
    { name: 'MP_FAIL reserved 0x1000', option: { subtype: 'MP_FAIL', reserved: 0x1000, dsn: 0n } },
    { name: 'MP_FAIL DSN 2^64', option: { subtype: 'MP_FAIL', reserved: 0, dsn: 2n ** 64n } },
    { name: 'MP_FASTCLOSE negative key', option: { subtype: 'MP_FASTCLOSE', reserved: 0, receiverKey: -1n } },
    { name: 'MP_TCPRST flags 16', option: { subtype: 'MP_TCPRST', flags: 16, reason: 0 } },
    { name: 'MP_TCPRST reason 256', option: { subtype: 'MP_TCPRST', flags: 0, reason: 256 } },
    // UNKNOWN: body[0]'s high nibble is the code, an unknown one (0x9-0xf); 1 to 38 bytes.
    { name: 'UNKNOWN empty body', option: { subtype: 'UNKNOWN', code: 9, body: new Uint8Array(0) } },
    { name: 'UNKNOWN 39-byte body', option: { subtype: 'UNKNOWN', code: 9, body: new Uint8Array(39).fill(0x90) } },
    { name: 'UNKNOWN code disagreeing with the body', option: { subtype: 'UNKNOWN', code: 9, body: hex('a0') } },
    { name: 'UNKNOWN with a known subtype (DSS)', option: { subtype: 'UNKNOWN', code: 2, body: hex('20') } },
  ];
  for (const b of bad) {
    it(b.name, () => {
      expectEncodeError(() => encodeMptcpOption(b.option), 'mptcp-option');
    });
  }
});
