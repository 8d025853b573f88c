/**
 * The SOCKS5 server codec (proxy/protocol/socks5.ts) on RFC 1928/1929 byte layouts: every
 * message byte by byte (need more until complete), and the edge cases each with its typed
 * error and reply code: other versions, empty method lists, BIND and UDP ASSOCIATE, unknown
 * commands and address types, bad names, port 0; random bytes never throw.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatIp } from '../../../proxy/protocol/ip.js';
import { encodeReply, parseGreeting, parseRequest, parseUserPass, Reply, type Parsed } from '../../../proxy/protocol/socks5.js';
import { formatTarget } from '../../../proxy/protocol/target.js';

const b = (...x: number[]) => Uint8Array.from(x);
const ascii = (s: string) => [...Buffer.from(s, 'latin1')];
const err = <T>(p: Parsed<T>) => (p.kind === 'error' ? p.error : undefined);

describe('greeting and username/password', () => {
  it('parses methods and needs more until complete', () => {
    const g = b(5, 2, 0, 2);
    for (let n = 0; n < g.length; n++) expect(parseGreeting(g.subarray(0, n)).kind).toBe('need');
    expect(parseGreeting(g)).toEqual({ kind: 'value', value: { methods: [0, 2] }, size: 4 });
  });
  it('refuses SOCKS4 and empty method lists', () => {
    expect(err(parseGreeting(b(4, 1, 0)))?.code).toBe('bad-version');
    expect(err(parseGreeting(b(5, 0)))?.code).toBe('no-methods');
  });
  it('parses RFC 1929 credentials and refuses other versions', () => {
    const m = b(1, 3, ...ascii('bob'), 2, ...ascii('pw'));
    for (let n = 0; n < m.length; n++) expect(parseUserPass(m.subarray(0, n)).kind).toBe('need');
    expect(parseUserPass(m)).toEqual({ kind: 'value', value: { username: 'bob', password: 'pw' }, size: m.length });
    expect(err(parseUserPass(b(5, 1, 0x61, 1, 0x62)))?.code).toBe('bad-auth-version');
  });
});

describe('requests', () => {
  it('CONNECT to IPv4, IPv6 and a name', () => {
    const v4 = parseRequest(b(5, 1, 0, 1, 192, 0, 2, 7, 0x01, 0xbb));
    expect(v4.kind === 'value' && formatTarget(v4.value.target)).toBe('192.0.2.7:443');
    const v6 = parseRequest(b(5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1, 0, 80));
    expect(v6.kind === 'value' && v6.value.target.kind === 'ipv6' && formatIp(v6.value.target.address)).toBe('2001:db8::1');
    const name = b(5, 1, 0, 3, 11, ...ascii('example.org'), 0, 80);
    for (let n = 0; n < name.length; n++) expect(parseRequest(name.subarray(0, n)).kind).toBe('need');
    const r = parseRequest(name);
    expect(r.kind === 'value' && formatTarget(r.value.target)).toBe('example.org:80');
  });
  it('answers BIND and UDP ASSOCIATE with "command not supported"', () => {
    expect(err(parseRequest(b(5, 2, 0, 1, 1, 2, 3, 4, 0, 80)))).toMatchObject({ code: 'bad-command', reply: Reply.commandNotSupported });
    expect(err(parseRequest(b(5, 3, 0, 1, 1, 2, 3, 4, 0, 80)))).toMatchObject({ code: 'bad-command', reply: Reply.commandNotSupported });
    expect(err(parseRequest(b(5, 9, 0, 1, 1, 2, 3, 4, 0, 80)))?.reply).toBe(Reply.commandNotSupported);
  });
  it('answers unknown address types with "address type not supported"', () => {
    expect(err(parseRequest(b(5, 1, 0, 2, 1, 2, 3, 4, 0, 80)))).toMatchObject({ code: 'bad-address-type', reply: Reply.addressTypeNotSupported });
  });
  it('refuses non-ASCII, empty, overlong-label and numeric names, and port 0', () => {
    expect(err(parseRequest(b(5, 1, 0, 3, 2, 0xc3, 0xa9, 0, 80)))?.code).toBe('bad-host');
    expect(err(parseRequest(b(5, 1, 0, 3, 0, 0, 80)))?.code).toBe('bad-host');
    expect(err(parseRequest(b(5, 1, 0, 3, 64, ...ascii('a'.repeat(64)), 0, 80)))?.code).toBe('bad-host');
    expect(err(parseRequest(b(5, 1, 0, 3, 5, ...ascii('1.2.3'), 0, 80)))?.code).toBe('bad-host');
    expect(err(parseRequest(b(5, 1, 0, 3, 3, ...ascii('a b'), 0, 80)))?.code).toBe('bad-host');
    expect(err(parseRequest(b(5, 1, 0, 1, 1, 2, 3, 4, 0, 0)))?.code).toBe('bad-port');
  });
  it('never throws on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (x) => {
        for (const p of [parseGreeting, parseUserPass, parseRequest]) expect(['value', 'need', 'error']).toContain(p(x).kind);
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('replies (RFC 1928 §6)', () => {
  it('are always full-length', () => {
    expect([...encodeReply(Reply.ttlExpired)]).toEqual([5, 6, 0, 1, 0, 0, 0, 0, 0, 0]);
    expect(encodeReply(0, { address: new Uint8Array(16), port: 1 }).length).toBe(22);
  });
});
