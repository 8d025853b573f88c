/**
 * The client <-> aggregator framing (proxy/protocol/frame.ts): hand-built vectors for each
 * frame type, property round trips (decode(encode(f)) = f, byte-by-byte delivery), and bad
 * input (unknown types, oversized and inconsistent lengths, bad magic/version/names,
 * truncation, random bytes) giving typed errors or "need more", never a throw.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, FrameEncodeError, MAX_BODY, type Frame } from '../../../proxy/protocol/frame.js';
import { parseIp } from '../../../proxy/protocol/ip.js';
import { SCHEDULERS } from '../../../mptcp/sched/scheduler.js';
import { Status } from '../../../proxy/protocol/status.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => Uint8Array.from(Buffer.from(h.replace(/\s/g, ''), 'hex'));

describe('frame layouts', () => {
  it('REQUEST for an IPv4 target', () => {
    const f: Frame = { type: 'request', requestId: 0x01020304, policy: null, target: { kind: 'ipv4', address: Uint8Array.of(10, 0, 0, 1), port: 443 } };
    expect(hex(encodeFrame(f))).toBe('03000d' + '01020304' + '0000' + '01bb' + '01' + '0a000001');
  });

  it('REQUEST with a path policy after the address', () => {
    const f: Frame = {
      type: 'request',
      requestId: 1,
      policy: { scheduler: 'weighted', paths: [{ addressId: 0, pathIndex: 1, tier: 0, enabled: true, weight: 3, downloadBytesPerSecond: 2_500_000 }, { addressId: 2, pathIndex: 0, tier: 1, enabled: false, weight: 1, downloadBytesPerSecond: 0 }] },
      target: { kind: 'ipv4', address: Uint8Array.of(10, 0, 0, 1), port: 443 },
    };
    const policy = '01' + '04' + '02' + ('00' + '01' + '00' + '01' + '0003' + '0000' + '002625a0') + ('02' + '00' + '01' + '00' + '0001' + '0000' + '00000000');
    expect(hex(encodeFrame(f))).toBe('030028' + '00000001' + '001b' + '01bb' + '01' + '0a000001' + policy);
    expect(decodeFrame(encodeFrame(f))).toEqual({ kind: 'frame', frame: f, size: 3 + 0x28 });
  });

  it('REQUEST for a name and for IPv6', () => {
    const name = encodeFrame({ type: 'request', requestId: 1, policy: null, target: { kind: 'domain', name: 'ex.org', port: 80 } });
    expect(hex(name)).toBe('030010' + '00000001' + '0000' + '0050' + '03' + '06' + Buffer.from('ex.org').toString('hex'));
    const v6 = encodeFrame({ type: 'request', requestId: 2, policy: null, target: { kind: 'ipv6', address: parseIp('2001:db8::1') ?? new Uint8Array(), port: 80 } });
    expect(v6.length).toBe(3 + 9 + 16);
  });

  it('HELLO, HELLO_OK and REPLY', () => {
    const mac = new Uint8Array(32).fill(0xaa);
    expect(hex(encodeFrame({ type: 'hello', clientId: 'ab', mac }))).toBe('030028' .replace('03', '01') + '4d505850' + '01' + '02' + '6162' + 'aa'.repeat(32));
    expect(hex(encodeFrame({ type: 'helloOk' }))).toBe('020000');
    expect(hex(encodeFrame({ type: 'reply', requestId: 9, status: Status.connectionRefused, reason: 'no' }))).toBe('040008' + '00000009' + '05' + '02' + '6e6f');
  });

  it('refuses to encode what cannot exist', () => {
    expect(() => encodeFrame({ type: 'hello', clientId: 'bad id', mac: new Uint8Array(32) })).toThrow(FrameEncodeError);
    expect(() => encodeFrame({ type: 'request', requestId: -1, policy: null, target: { kind: 'domain', name: 'a.b', port: 1 } })).toThrow(FrameEncodeError);
    expect(() => encodeFrame({ type: 'request', requestId: 1, policy: null, target: { kind: 'domain', name: 'bad name', port: 1 } })).toThrow(FrameEncodeError);
  });
});

describe('bad input', () => {
  const errorOf = (b: Uint8Array) => {
    const d = decodeFrame(b);
    return d.kind === 'error' ? d.error.code : d.kind;
  };
  it('names each problem', () => {
    expect(errorOf(bytes('09 0000'))).toBe('unknown-type');
    expect(errorOf(bytes('00 0000'))).toBe('unknown-type');
    expect(errorOf(Uint8Array.of(3, (MAX_BODY + 1) >> 8, (MAX_BODY + 1) & 0xff))).toBe('body-too-long');
    expect(errorOf(bytes('02 0001 00'))).toBe('bad-length');
    expect(errorOf(bytes('01 0006 58585858 0100'))).toBe('bad-magic');
    expect(errorOf(bytes('01 0006 4d505850 0200'))).toBe('bad-version');
    expect(errorOf(bytes('03 000a 00000001 0000 0050 09 00'))).toBe('bad-field'); // atyp 9
    expect(errorOf(bytes('03 000d 00000001 0000 0000 01 0a000001'))).toBe('bad-field'); // port 0
    expect(errorOf(bytes('03 000c 00000001 0000 0050 03 02 c3a9'))).toBe('bad-field'); // non-ASCII name
    expect(errorOf(bytes('03 000b 00000001 0000 0050 01 0a00'))).toBe('bad-length');
    expect(errorOf(bytes('04 0006 00000001 63 00'))).toBe('bad-field'); // unknown status
    expect(errorOf(bytes('04 0007 00000001 00 01 07'))).toBe('bad-field'); // control char in reason
    expect(errorOf(bytes('03 000d 00000001 0009 0050 01 0a000001'))).toBe('bad-length'); // policy beyond the frame
    const withPolicy = (p: string) => bytes(`03 ${(13 + p.length / 2).toString(16).padStart(4, '0')} 00000001 ${(p.length / 2).toString(16).padStart(4, '0')} 0050 01 0a000001 ${p}`);
    expect(errorOf(withPolicy('010000'))).toBe('frame');
    expect(errorOf(withPolicy('020000'))).toBe('bad-field'); // policy version 2
    expect(errorOf(withPolicy('01ff00'))).toBe('bad-field'); // unknown scheduler
    expect(errorOf(withPolicy('010001'))).toBe('bad-field'); // one entry announced, none there
    expect(errorOf(withPolicy('010001' + '00000002' + '0001' + '0000' + '00000000'))).toBe('bad-field'); // unknown flag
    expect(errorOf(withPolicy('010001' + '00000001' + '0000' + '0000' + '00000000'))).toBe('bad-field'); // weight 0
    expect(errorOf(withPolicy('010002' + ('00000001' + '0001' + '0000' + '00000000').repeat(2)))).toBe('bad-field'); // address id twice
  });

  it('asks for more bytes on every truncation of a valid frame', () => {
    const f = encodeFrame({ type: 'request', requestId: 5, policy: { scheduler: 'ecf', paths: [{ addressId: 1, pathIndex: 0, tier: 0, enabled: true, weight: 1, downloadBytesPerSecond: 0 }] }, target: { kind: 'domain', name: 'www.example.com', port: 443 } });
    for (let n = 0; n < f.length; n++) expect(decodeFrame(f.subarray(0, n)).kind).toBe('need');
    expect(decodeFrame(f).kind).toBe('frame');
  });

  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (b) => {
        const d = decodeFrame(b);
        expect(['frame', 'need', 'error']).toContain(d.kind);
      }),
      { numRuns: 20_000 },
    );
  });
});

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
const arbFrame: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ type: fc.constant('hello' as const), clientId: fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/), mac: fc.uint8Array({ minLength: 32, maxLength: 32 }) }),
  fc.constant({ type: 'helloOk' as const }),
  fc.record({
    type: fc.constant('request' as const),
    requestId: fc.nat({ max: 0xffffffff }),
    policy: fc.option(
      fc.record({
        scheduler: fc.constantFrom(...SCHEDULERS),
        paths: fc.uniqueArray(
          fc.record({ addressId: fc.nat({ max: 255 }), pathIndex: fc.nat({ max: 255 }), tier: fc.nat({ max: 255 }), enabled: fc.boolean(), weight: fc.integer({ min: 1, max: 0xffff }), downloadBytesPerSecond: fc.nat({ max: 0xffffffff }) }),
          { maxLength: 16, selector: (e) => e.addressId },
        ),
      }),
      { nil: null },
    ),
    target: fc.oneof(
      fc.record({ kind: fc.constant('ipv4' as const), address: fc.uint8Array({ minLength: 4, maxLength: 4 }), port: fc.integer({ min: 1, max: 65535 }) }),
      fc.record({ kind: fc.constant('ipv6' as const), address: fc.uint8Array({ minLength: 16, maxLength: 16 }), port: fc.integer({ min: 1, max: 65535 }) }),
      fc.record({ kind: fc.constant('domain' as const), name: fc.array(label, { minLength: 1, maxLength: 5 }).map((l) => l.join('.')).filter((n) => !/^[0-9.]+$/.test(n)), port: fc.integer({ min: 1, max: 65535 }) }),
    ),
  }),
  fc.record({
    type: fc.constant('reply' as const),
    requestId: fc.nat({ max: 0xffffffff }),
    status: fc.constantFrom(...Object.values(Status)),
    reason: fc.stringMatching(/^[\x20-\x7e]{0,200}$/),
  }),
);

describe('round trips', () => {
  it('decode(encode(f)) = f, and the size is the whole encoding', () => {
    fc.assert(
      fc.property(arbFrame, (f) => {
        const b = encodeFrame(f);
        const d = decodeFrame(b);
        expect(d).toEqual({ kind: 'frame', frame: f, size: b.length });
      }),
      { numRuns: 5000 },
    );
  });

  it('finds a frame at an offset and leaves what follows', () => {
    fc.assert(
      fc.property(arbFrame, fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (f, pre, post) => {
        const b = encodeFrame(f);
        const all = new Uint8Array([...pre, ...b, ...post]);
        const d = decodeFrame(all, pre.length);
        expect(d.kind === 'frame' && d.size).toBe(b.length);
      }),
      { numRuns: 2000 },
    );
  });
});
