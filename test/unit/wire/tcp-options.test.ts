/**
 * TCP option list codec (mptcp/wire/tcp-options.ts): RFC 9293 §3.1-3.2 (EOL, NOP, MSS,
 * framing), RFC 7323 (window scale, timestamps), RFC 2018 (SACK), and kind 30 (RFC 8684).
 * Vectors are hand-built bytes; every accepted list must be emitted back exactly.
 */
import { describe, expect, it } from 'vitest';
import {
  emitTcpOption,
  emitTcpOptions,
  parseTcpOptions,
  tcpOptionLength,
  tcpOptionsLength,
  type TcpOption,
} from '../../../mptcp/wire/tcp-options.js';
import { expectEncodeError, expectErr, expectOk } from '../../support/wire-expect.js';
import { cat, hex, hexOf } from '../../support/wire-reference.js';

function parse(bytes: Uint8Array) {
  return parseTcpOptions(bytes, 0, bytes.length);
}

/** parse gives `expected`, also inside a larger buffer; emit gives the bytes back exactly. */
function checkList(bytes: Uint8Array, expected: TcpOption[]): void {
  expect(expectOk(parse(bytes))).toStrictEqual(expected);
  const big = cat([0xff, 0xff, 0xff], bytes, [0x02, 0x04]);
  // Error offsets of invalid entries are positions in the buffer given to the parser.
  const shifted = expected.map((o) =>
    o.kind === 'invalid' && o.error.offset !== undefined ? { ...o, error: { ...o.error, offset: o.error.offset + 3 } } : o,
  );
  expect(expectOk(parseTcpOptions(big, 3, 3 + bytes.length))).toStrictEqual(shifted);
  expect(tcpOptionsLength(expected)).toBe(bytes.length);
  const out = new Uint8Array(48).fill(0xee);
  const padded = emitTcpOptions(expected, out, 4);
  expect(padded).toBe((bytes.length + 3) & ~3);
  expect(hexOf(out.subarray(4, 4 + bytes.length))).toBe(hexOf(bytes));
  // Zero padding (RFC 9293 §3.1) up to the 32-bit boundary, nothing written beyond.
  expect(Array.from(out.subarray(4 + bytes.length, 4 + padded))).toEqual(new Array<number>(padded - bytes.length).fill(0));
  expect(out.subarray(4 + padded).every((b) => b === 0xee)).toBe(true);
  expect(out.subarray(0, 4).every((b) => b === 0xee)).toBe(true);
}

describe('parseTcpOptions: valid options', () => {
  it('MSS (kind 2, length 4)', () => {
    checkList(hex('02 04 05 b4'), [{ kind: 'mss', mss: 1460 }]);
    checkList(hex('02 04 ff ff'), [{ kind: 'mss', mss: 65535 }]);
  });
  it('window scale (kind 3, length 3) after a NOP', () => {
    checkList(hex('01 03 03 0e'), [{ kind: 'nop' }, { kind: 'window-scale', shift: 14 }]);
  });
  it('SACK permitted (kind 4, length 2)', () => {
    checkList(hex('04 02 01 01'), [{ kind: 'sack-permitted' }, { kind: 'nop' }, { kind: 'nop' }]);
  });
  it('SACK with 1, 2, 3 and 4 blocks (kind 5, length 2 + 8n)', () => {
    const blocks = [
      { left: 0x00000001, right: 0x00000100 },
      { left: 0x80000000, right: 0x80000fff },
      { left: 0xfffffff0, right: 0x00000010 },
      { left: 0x12345678, right: 0x9abcdef0 },
    ];
    const blockHex = ['00000001 00000100', '80000000 80000fff', 'fffffff0 00000010', '12345678 9abcdef0'];
    for (let n = 1; n <= 4; n++) {
      const bytes = cat(hex('01 01'), [5, 2 + 8 * n], ...blockHex.slice(0, n).map(hex));
      checkList(bytes, [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks: blocks.slice(0, n) }]);
    }
  });
  it('timestamps (kind 8, length 10), the aligned NOP NOP TS form', () => {
    checkList(hex('01 01 08 0a fedcba98 00000001'), [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamps', tsval: 0xfedcba98, tsecr: 1 }]);
  });
  it("a Linux MPTCP SYN's options: MSS, SACK-perm, TS, NOP, WS, MP_CAPABLE", () => {
    checkList(hex('02 04 05 b4 04 02 08 0a 0001e240 00000000 01 03 03 07 1e 04 01 81'), [
      { kind: 'mss', mss: 1460 },
      { kind: 'sack-permitted' },
      { kind: 'timestamps', tsval: 123456, tsecr: 0 },
      { kind: 'nop' },
      { kind: 'window-scale', shift: 7 },
      { kind: 'mptcp', option: { subtype: 'MP_CAPABLE', version: 1, flags: 0x81 } },
    ]);
  });
  it('runs of NOPs', () => {
    checkList(hex('01 01 01 01 01 01 01 01'), new Array<TcpOption>(8).fill({ kind: 'nop' }));
  });
  it('EOL keeps the rest of the area as padding, zero or not', () => {
    checkList(hex('02 04 05 b4 00 00 00 00'), [{ kind: 'mss', mss: 1460 }, { kind: 'eol', padding: hex('000000') }]);
    checkList(hex('01 00 ab 02'), [{ kind: 'nop' }, { kind: 'eol', padding: hex('ab02') }]);
    checkList(hex('00'), [{ kind: 'eol', padding: new Uint8Array(0) }]);
    // Whatever follows EOL is not parsed, even a broken option.
    checkList(hex('00 02 00 ff'), [{ kind: 'eol', padding: hex('0200ff') }]);
  });
  it('an empty area is an empty list', () => {
    checkList(new Uint8Array(0), []);
  });
  it('unknown kinds are kept with their value', () => {
    checkList(hex('fd 06 12 34 ab cd 01 01'), [{ kind: 'unknown', type: 253, data: hex('1234abcd') }, { kind: 'nop' }, { kind: 'nop' }]);
    checkList(hex('06 02 13 02'), [
      { kind: 'unknown', type: 6, data: new Uint8Array(0) },
      { kind: 'unknown', type: 19, data: new Uint8Array(0) },
    ]);
    const big = cat([0x1c, 40], new Uint8Array(38).fill(7));
    checkList(big, [{ kind: 'unknown', type: 28, data: new Uint8Array(38).fill(7) }]);
  });
  it('MPTCP options (kind 30) are decoded', () => {
    checkList(hex('01 1e 03 51'), [{ kind: 'nop' }, { kind: 'mptcp', option: { subtype: 'MP_PRIO', flags: 1 } }]);
  });
});

describe('parseTcpOptions: framing errors refuse the list', () => {
  const cases: { name: string; bytes: string; offset: number }[] = [
    { name: 'a kind without its length byte', bytes: '01 01 01 02', offset: 3 },
    { name: 'MPTCP kind at the last byte', bytes: '1e', offset: 0 },
    { name: 'length 0', bytes: '02 00 05 b4', offset: 1 },
    { name: 'length 1', bytes: '01 fd 01 00', offset: 2 },
    { name: 'length running past the area', bytes: '02 05 05 b4', offset: 1 },
    { name: 'a truncated timestamps option', bytes: '01 01 08 0a 00 00 00 01', offset: 3 },
    { name: 'an unknown kind overrunning', bytes: 'fd 28 00 00', offset: 1 },
    { name: 'an MPTCP option overrunning', bytes: '1e 0c 01 81 00 00 00 00', offset: 1 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const e = expectErr(parse(hex(c.bytes)), 'tcp-option', 'length');
      expect(e.offset).toBe(c.offset);
    });
  }
  it('an area reaching past the buffer is refused, not read', () => {
    expectErr(parseTcpOptions(hex('1e 0c 60 00'), 0, 12), 'tcp-option', 'bounds');
    expectErr(parseTcpOptions(hex('01 01'), -1, 2), 'tcp-option', 'bounds');
  });

  it('error offsets are relative to the buffer, not the area', () => {
    const buf = cat(new Uint8Array(20), hex('02 00 00 00'));
    expect(expectErr(parseTcpOptions(buf, 20, 24), 'tcp-option', 'length').offset).toBe(21);
  });
});

describe('known kinds with a wrong length become invalid entries that still round-trip', () => {
  const cases: { name: string; bytes: string; field: string; layer?: 'mptcp-option' }[] = [
    { name: 'MSS length 3', bytes: '02 03 05 01', field: 'MSS.length' },
    { name: 'MSS length 6', bytes: '02 06 05 b4 00 00 01 01', field: 'MSS.length' },
    { name: 'MSS length 2', bytes: '02 02 01 01', field: 'MSS.length' },
    { name: 'window scale length 2', bytes: '03 02 01 01', field: 'windowScale.length' },
    { name: 'window scale length 4', bytes: '03 04 07 00', field: 'windowScale.length' },
    { name: 'SACK-permitted length 3', bytes: '04 03 00 01', field: 'sackPermitted.length' },
    { name: 'SACK length 2 (no block)', bytes: '05 02 01 01', field: 'SACK.length' },
    { name: 'SACK length 9', bytes: '05 09 00000001 000000 01 01 01', field: 'SACK.length' },
    { name: 'SACK length 11', bytes: '05 0b 00000001 00000002 00 01', field: 'SACK.length' },
    { name: 'SACK length 17', bytes: '05 11 00000001 00000002 00000003 000000 01 01 01', field: 'SACK.length' },
    { name: 'timestamps length 8', bytes: '08 08 00000001 0000', field: 'timestamps.length' },
    { name: 'timestamps length 12', bytes: '08 0c 00000001 00000002 0000', field: 'timestamps.length' },
    { name: 'MP_PRIO length 4', bytes: '1e 04 51 00', field: 'MP_PRIO.length', layer: 'mptcp-option' },
    { name: 'MP_CAPABLE length 8', bytes: '1e 08 01 81 00000000', field: 'MP_CAPABLE.length', layer: 'mptcp-option' },
    { name: 'DSS length not matching its flags', bytes: '1e 08 20 05 00000000', field: 'DSS.length', layer: 'mptcp-option' },
    { name: 'MPTCP length 2', bytes: '1e 02 01 01', field: 'length', layer: 'mptcp-option' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const bytes = hex(c.bytes);
      const list = expectOk(parse(bytes));
      const inv = list[0];
      if (inv.kind !== 'invalid') return expect.fail(`expected invalid, got ${inv.kind}`);
      expect(inv.type).toBe(bytes[0]);
      expect(hexOf(inv.data)).toBe(hexOf(bytes.subarray(2, bytes[1])));
      expect(inv.error.layer).toBe(c.layer ?? 'tcp-option');
      expect(inv.error.field).toBe(c.field);
      expect(inv.error.rule.length).toBeGreaterThan(0);
      // Offset of the option (TCP layer) or of its length byte (MPTCP layer).
      expect(inv.error.offset).toBe(c.layer === 'mptcp-option' ? 1 : 0);
      // The options after it are still read.
      expect(list.slice(1).every((o) => o.kind === 'nop' || o.kind === 'eol' || o.kind === 'unknown')).toBe(true);
      checkList(bytes, list);
    });
  }
});

describe('emit', () => {
  it('emitTcpOption returns each length and writes the RFC layout', () => {
    const out = new Uint8Array(40);
    const one = (o: TcpOption) => {
      out.fill(0xee);
      const n = emitTcpOption(o, out, 1);
      expect(tcpOptionLength(o)).toBe(n);
      return hexOf(out.subarray(1, 1 + n));
    };
    expect(one({ kind: 'nop' })).toBe('01');
    expect(one({ kind: 'eol', padding: hex('0000') })).toBe('000000');
    expect(one({ kind: 'mss', mss: 536 })).toBe('02040218');
    expect(one({ kind: 'window-scale', shift: 0 })).toBe('030300');
    expect(one({ kind: 'sack-permitted' })).toBe('0402');
    expect(one({ kind: 'sack', blocks: [{ left: 1, right: 0xffffffff }] })).toBe('050a00000001ffffffff');
    expect(one({ kind: 'timestamps', tsval: 0x01020304, tsecr: 0xa0b0c0d0 })).toBe('080a01020304a0b0c0d0');
    expect(one({ kind: 'unknown', type: 254, data: hex('f989') })).toBe('fe04f989');
    expect(one({ kind: 'mptcp', option: { subtype: 'MP_TCPRST', flags: 1, reason: 6 } })).toBe('1e048106');
  });

  it('pads to a multiple of 4 with zeros', () => {
    const out = new Uint8Array(12).fill(0xee);
    expect(emitTcpOptions([{ kind: 'window-scale', shift: 7 }], out, 0)).toBe(4);
    expect(hexOf(out.subarray(0, 5))).toBe('03030700ee');
    expect(emitTcpOptions([], out, 0)).toBe(0);
  });

  it('exactly 40 bytes fit; 41 do not', () => {
    const ts: TcpOption = { kind: 'timestamps', tsval: 1, tsecr: 2 };
    const out = new Uint8Array(48);
    expect(emitTcpOptions([ts, ts, ts, ts], out, 0)).toBe(40);
    expectEncodeError(() => emitTcpOptions([ts, ts, ts, ts, { kind: 'nop' }], out, 0), 'tcp-option');
    // 37 bytes round up to 40 and fit; 41 do not.
    expect(emitTcpOptions([ts, ts, ts, { kind: 'nop' }, { kind: 'nop' }, { kind: 'nop' }, { kind: 'nop' }, { kind: 'nop' }, { kind: 'nop' }, { kind: 'nop' }], out, 0)).toBe(40);
  });

  const bad: { name: string; o: TcpOption }[] = [
    { name: 'SACK without blocks', o: { kind: 'sack', blocks: [] } },
    { name: 'SACK with 5 blocks', o: { kind: 'sack', blocks: new Array(5).fill({ left: 0, right: 0 }) as { left: number; right: number }[] } },
    { name: 'SACK edge of 2^32', o: { kind: 'sack', blocks: [{ left: 2 ** 32, right: 0 }] } },
    { name: 'MSS of 65536', o: { kind: 'mss', mss: 65536 } },
    { name: 'negative MSS', o: { kind: 'mss', mss: -1 } },
    { name: 'window scale of 256', o: { kind: 'window-scale', shift: 256 } },
    { name: 'TSval of 2^32', o: { kind: 'timestamps', tsval: 2 ** 32, tsecr: 0 } },
    { name: 'TSecr not an integer', o: { kind: 'timestamps', tsval: 0, tsecr: 1.5 } },
    { name: 'unknown option value of 39 bytes', o: { kind: 'unknown', type: 99, data: new Uint8Array(39) } },
  ];
  for (const b of bad) {
    it(`refuses ${b.name}`, () => {
      expectEncodeError(() => emitTcpOption(b.o, new Uint8Array(60), 0), 'tcp-option');
    });
  }
});
