/**
 * Fuzzing the wire parsers: random bytes (raw, and shaped so they get past the first
 * checks), truncated and bit-flipped valid IPv4/IPv6 packets carrying TCP with MPTCP
 * options, through parseTcpPacket, parseTcpSegment, parseTcpOptions, parseMptcpOption,
 * parseIpv4Header and parseIpv6Header.
 *
 * Each parser must never throw, and must return either ok or an error with a known layer,
 * a non-empty field and rule, and an offset inside the buffer. When a parser accepts the
 * bytes, the matching emitter must give the same bytes back (emit(parse(bytes)) = bytes).
 *
 * The total number of iterations is FUZZ_ITERATIONS (default 200000), shared among the
 * properties below; the number actually run is printed at the end.
 */
import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { bytesEqual } from '../../../mptcp/wire/bytes.js';
import { emitIpv4Header, parseIpv4Header } from '../../../mptcp/wire/ipv4.js';
import { emitIpv6Header, parseIpv6Header } from '../../../mptcp/wire/ipv6.js';
import { encodeMptcpOption, parseMptcpOption } from '../../../mptcp/wire/mptcp-options.js';
import { parseTcpPacket } from '../../../mptcp/wire/packet.js';
import type { ParseResult } from '../../../mptcp/wire/result.js';
import { emitTcpHeader, parseTcpSegment } from '../../../mptcp/wire/tcp-header.js';
import { emitTcpOptions, parseTcpOptions } from '../../../mptcp/wire/tcp-options.js';
import { tcpPacketArb } from '../../support/wire-arbitraries.js';
import { isWellFormedError } from '../../support/wire-expect.js';
import { hexOf } from '../../support/wire-reference.js';

const TOTAL = (() => {
  const raw = process.env.FUZZ_ITERATIONS;
  const n = raw === undefined || raw === '' ? 200_000 : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`FUZZ_ITERATIONS must be a positive integer, is ${raw}`);
  return n;
})();

let iterations = 0;
const perProperty: string[] = [];
/** Per parser: [accepted, refused], to show how deep the inputs get. */
const tally = new Map<string, [number, number]>();

afterAll(() => {
  const parsers = [...tally].map(([p, [a, r]]) => `${p} ${a} ok / ${r} refused`).join(', ');
  console.log(`wire fuzz: ${iterations} iterations run (FUZZ_ITERATIONS=${TOTAL}): ${perProperty.join(', ')}`);
  console.log(`wire fuzz: parser calls: ${parsers}`);
});

function fail(what: string, buf: Uint8Array): never {
  throw new Error(`${what}; input ${hexOf(buf)}`);
}

/** A result is ok, or a well-formed error; returns the value or undefined. */
function check<T>(r: ParseResult<T>, buf: Uint8Array, parser: string): T | undefined {
  let t = tally.get(parser);
  if (t === undefined) tally.set(parser, (t = [0, 0]));
  t[r.ok ? 0 : 1]++;
  if (r.ok) return r.value;
  if (!isWellFormedError(r.error, buf.length)) fail(`${parser} returned a malformed error ${JSON.stringify(r.error)}`, buf);
  return undefined;
}

function same(a: Uint8Array, b: Uint8Array, what: string, input: Uint8Array): void {
  if (!bytesEqual(a, b)) fail(`${what}: emitted ${hexOf(a)}, parsed from ${hexOf(b)}`, input);
}

// ---------------------------------------------------------------- parser drivers

function fuzzMptcp(buf: Uint8Array, off: number, len: number): void {
  const v = check(parseMptcpOption(buf, off, len), buf, 'parseMptcpOption');
  if (v !== undefined && buf[off] === 30 && buf[off + 1] === len) {
    same(encodeMptcpOption(v), buf.subarray(off, off + len), 'MPTCP option', buf);
  }
}

function fuzzTcpOptions(buf: Uint8Array, start: number, end: number): void {
  const v = check(parseTcpOptions(buf, start, end), buf, 'parseTcpOptions');
  if (v !== undefined && end >= start && end - start <= 40) {
    const out = new Uint8Array(40);
    emitTcpOptions(v, out, 0);
    same(out.subarray(0, end - start), buf.subarray(start, end), 'TCP options', buf);
  }
}

function fuzzTcpSegment(buf: Uint8Array, off: number, end: number): void {
  const v = check(parseTcpSegment(buf, off, end), buf, 'parseTcpSegment');
  if (v === undefined) return;
  if (v.payloadOffset !== off + v.headerLength || v.payloadEnd !== end || v.payloadOffset > end) fail('TCP bounds', buf);
  const out = new Uint8Array(60);
  const n = emitTcpHeader(v.header, out, 0);
  if (n !== v.headerLength) fail(`TCP header length ${n} != ${v.headerLength}`, buf);
  same(out.subarray(0, n), buf.subarray(off, off + n), 'TCP header', buf);
}

function fuzzIpv4(buf: Uint8Array, off: number): void {
  const v = check(parseIpv4Header(buf, off), buf, 'parseIpv4Header');
  if (v === undefined) return;
  if (v.payloadEnd > buf.length || v.payloadEnd < off + v.headerLength) fail('IPv4 bounds', buf);
  const out = new Uint8Array(60);
  const n = emitIpv4Header(v.header, out, 0);
  same(out.subarray(0, n), buf.subarray(off, off + n), 'IPv4 header', buf);
}

function fuzzIpv6(buf: Uint8Array, off: number): void {
  const v = check(parseIpv6Header(buf, off), buf, 'parseIpv6Header');
  if (v === undefined) return;
  if (v.payloadEnd > buf.length || v.upperOffset > v.payloadEnd || v.upperOffset < off + 40) fail('IPv6 bounds', buf);
  const out = new Uint8Array(v.upperOffset - off + 40);
  const n = emitIpv6Header(v.header, out, 0);
  same(out.subarray(0, n), buf.subarray(off, off + n), 'IPv6 header', buf);
}

function fuzzPacket(buf: Uint8Array, off = 0): void {
  const v = check(parseTcpPacket(buf, off), buf, 'parseTcpPacket');
  if (v === undefined) return;
  if (v.tcpOffset < off || v.tcpEnd > buf.length || v.tcp.payloadOffset > v.tcpEnd) fail('packet bounds', buf);
}

/** Every parser on every part of a (possibly damaged) packet whose layout is known. */
function fuzzAll(buf: Uint8Array, tcpOffset: number, mptcpAt: readonly number[]): void {
  fuzzPacket(buf);
  fuzzIpv4(buf, 0);
  fuzzIpv6(buf, 0);
  if (tcpOffset <= buf.length) {
    fuzzTcpSegment(buf, tcpOffset, buf.length);
    const optEnd = Math.min(buf.length, tcpOffset + ((buf[tcpOffset + 12] ?? 0x50) >>> 4) * 4);
    if (tcpOffset + 20 <= optEnd) fuzzTcpOptions(buf, tcpOffset + 20, optEnd);
  }
  for (const at of mptcpAt) {
    if (at + 2 >= buf.length) continue;
    const len = Math.min(Math.max(buf[at + 1], 2), buf.length - at);
    fuzzMptcp(buf, at, len);
  }
}

// ---------------------------------------------------------------- inputs

/** A pool of valid packets (IPv4 with options, IPv6 with extension headers), built once. */
interface PoolPacket {
  bytes: Uint8Array;
  tcpOffset: number;
  mptcpAt: number[];
}
const pool: PoolPacket[] = fc.sample(tcpPacketArb, { numRuns: 500, seed: 8684 }).map((p) => {
  const mptcpAt: number[] = [];
  const hl = (p.bytes[p.tcpOffset + 12] >>> 4) * 4;
  for (let q = p.tcpOffset + 20; q < p.tcpOffset + hl; ) {
    const kind = p.bytes[q];
    if (kind === 0) break;
    if (kind === 1) {
      q++;
      continue;
    }
    if (kind === 30) mptcpAt.push(q);
    q += p.bytes[q + 1];
  }
  return { bytes: p.bytes, tcpOffset: p.tcpOffset, mptcpAt };
});

const randomBytes = fc.uint8Array({ maxLength: 120 });

/**
 * Random bytes shaped to get past the first checks: an IPv4 or IPv6 header whose lengths
 * agree with the buffer and that says TCP (or an extension header), some of the time.
 */
const shapedPacket = fc.tuple(fc.uint8Array({ minLength: 20, maxLength: 140 }), fc.nat({ max: 7 })).map(([b, shape]) => {
  const buf = b.slice();
  if (shape <= 3) {
    buf[0] = 0x45 + (shape === 3 ? buf[0] % 3 : 0);
    buf[2] = buf.length >>> 8;
    buf[3] = buf.length & 0xff;
    buf[6] &= 0x40;
    buf[7] = 0;
    buf[9] = 6;
    const ihl = (buf[0] & 0xf) * 4;
    // A TCP data offset of 5 to 15 words.
    if (buf.length > ihl + 12) buf[ihl + 12] = ((5 + (buf[ihl + 12] % 11)) << 4) | (buf[ihl + 12] & 0x0f);
  } else if (shape <= 6 && buf.length >= 40) {
    buf[0] = 0x60 | (buf[0] & 0xf);
    buf[4] = (buf.length - 40) >>> 8;
    buf[5] = (buf.length - 40) & 0xff;
    buf[6] = shape === 4 ? 6 : [0, 43, 44, 51, 60][buf[6] % 5];
  }
  return buf;
});

/** An MPTCP option: kind 30, a length that fits, a biased subtype nibble; at an offset. */
const mptcpInput = fc
  .tuple(fc.uint8Array({ minLength: 2, maxLength: 44 }), fc.nat({ max: 3 }), fc.nat({ max: 15 }), fc.boolean())
  .map(([b, off, code, keepLow]) => {
    const buf = new Uint8Array(off + b.length);
    buf.set(b, off);
    buf[off] = 30;
    buf[off + 1] = b.length;
    if (b.length > 2) buf[off + 2] = (code << 4) | (keepLow ? b[2] & 0x0f : 0);
    return { buf, off, len: b.length };
  });

/** A TCP option area: kinds biased towards the ones we interpret, plausible lengths. */
const optionArea = fc.array(
  fc.oneof(fc.constantFrom(0, 1, 1, 2, 3, 4, 5, 8, 30, 30), fc.nat({ max: 42 }), fc.nat({ max: 255 })),
  { maxLength: 40 },
);

// ---------------------------------------------------------------- properties

function fuzz<T>(name: string, share: number, arb: fc.Arbitrary<T>, body: (x: T) => void): void {
  const numRuns = Math.max(1, Math.ceil(TOTAL * share));
  it(`${name} (${numRuns} runs)`, () => {
    let count = 0;
    fc.assert(
      fc.property(arb, (x) => {
        count++;
        body(x);
      }),
      { numRuns },
    );
    iterations += count;
    perProperty.push(`${name} ${count}`);
  });
}

describe('wire parsers never throw and return typed errors', () => {
  fuzz('random bytes -> parseTcpPacket', 0.06, randomBytes, (b) => fuzzPacket(b));
  fuzz('shaped random packets -> parseTcpPacket and the header parsers', 0.14, shapedPacket, (b) => {
    fuzzPacket(b);
    fuzzIpv4(b, 0);
    fuzzIpv6(b, 0);
  });
  fuzz('random bytes -> parseIpv4Header, parseIpv6Header at any offset', 0.06, fc.tuple(randomBytes, fc.nat({ max: 8 })), ([b, off]) => {
    fuzzIpv4(b, Math.min(off, b.length));
    fuzzIpv6(b, Math.min(off, b.length));
  });
  fuzz(
    'random bytes -> parseTcpSegment with any in-bounds range',
    0.1,
    fc.tuple(fc.uint8Array({ maxLength: 100 }), fc.nat({ max: 4 }), fc.nat({ max: 100 }), fc.nat({ max: 10 })),
    ([b, off, dataOffsetSeed, cut]) => {
      const buf = b.slice();
      const o = Math.min(off, buf.length);
      if (buf.length > o + 12) buf[o + 12] = (((dataOffsetSeed % 11) + 5) << 4) | (buf[o + 12] & 0x0f);
      fuzzTcpSegment(buf, o, Math.max(o, buf.length - cut));
    },
  );
  fuzz('random option areas -> parseTcpOptions', 0.1, fc.tuple(optionArea, fc.nat({ max: 3 })), ([area, start]) => {
    const buf = new Uint8Array(start + area.length);
    buf.set(area, start);
    fuzzTcpOptions(buf, start, buf.length);
  });
  fuzz('random MPTCP options -> parseMptcpOption', 0.14, mptcpInput, ({ buf, off, len }) => fuzzMptcp(buf, off, len));
  fuzz(
    'truncated valid packets -> every parser',
    0.14,
    fc.tuple(fc.nat({ max: pool.length - 1 }), fc.double({ min: 0, max: 1, noNaN: true })),
    ([i, frac]) => {
      const p = pool[i];
      const cut = p.bytes.slice(0, Math.floor(p.bytes.length * frac));
      fuzzAll(cut, p.tcpOffset, p.mptcpAt);
    },
  );
  fuzz(
    'random bytes -> parseTcpSegment, parseTcpOptions, parseMptcpOption with any bounds, in range or not',
    0.04,
    fc.tuple(randomBytes, fc.integer({ min: -4, max: 130 }), fc.integer({ min: -4, max: 130 })),
    ([b, from, to]) => {
      fuzzTcpSegment(b, from, to);
      fuzzTcpOptions(b, from, to);
      fuzzMptcp(b, from, to - from);
    },
  );
  fuzz(
    'bit-flipped valid packets -> every parser',
    0.22,
    fc.tuple(fc.nat({ max: pool.length - 1 }), fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), fc.boolean()),
    ([i, flips, cutToo]) => {
      const p = pool[i];
      const buf = p.bytes.slice();
      for (const f of flips) {
        // Half of the flips land in the headers, where they matter most.
        const span = f & 1 ? Math.min(buf.length, p.tcpOffset + 60) : buf.length;
        const bit = f >>> 1;
        buf[(bit >>> 3) % span] ^= 1 << (bit & 7);
      }
      fuzzAll(cutToo ? buf.subarray(0, buf.length - (flips[0] % 8)) : buf, p.tcpOffset, p.mptcpAt);
    },
  );
});
