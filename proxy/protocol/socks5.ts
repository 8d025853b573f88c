/**
 * SOCKS version 5 (RFC 1928) and its username/password sub-negotiation (RFC 1929), server
 * side, as pure functions over the bytes received so far: each parser returns a value and how
 * many bytes it used, "need more", or a typed Socks5Error saying which reply (if any) the
 * server should send before closing. Encoders build the server's messages.
 *
 * (The socksv5 package was the first choice; its server parser formats IPv6 destinations
 * without zero padding ("2001:db8::1" arrives as "201:db8:..."), answers refusals with
 * 2-byte replies instead of RFC 1928 §6's full reply, and cannot return the reply codes we
 * need; so the server side is ours, and socksv5's client is used as an independent peer in
 * the tests.)
 */
import { isTargetError, targetFromHost, type Target } from './target.js';

export const SOCKS_VERSION = 5;
export const Method = { noAuth: 0x00, userPass: 0x02, noAcceptable: 0xff } as const;
export const Command = { connect: 1, bind: 2, udpAssociate: 3 } as const;
export const Reply = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;

export type Socks5ErrorCode = 'bad-version' | 'no-methods' | 'bad-auth-version' | 'bad-command' | 'bad-address-type' | 'bad-host' | 'bad-port' | 'bad-reserved';

export interface Socks5Error {
  code: Socks5ErrorCode;
  message: string;
  /** The REP code to answer with before closing, when the request stage was reached. */
  reply?: number;
}

export type Parsed<T> = { kind: 'value'; value: T; size: number } | { kind: 'need' } | { kind: 'error'; error: Socks5Error };

const need = { kind: 'need' } as const;
const fail = <T>(code: Socks5ErrorCode, message: string, reply?: number): Parsed<T> => ({ kind: 'error', error: reply === undefined ? { code, message } : { code, message, reply } });

/** Version identifier/method selection message: VER NMETHODS METHODS (RFC 1928 §3). */
export function parseGreeting(b: Uint8Array): Parsed<{ methods: number[] }> {
  if (b.length < 1) return need;
  if (b[0] !== SOCKS_VERSION) return fail('bad-version', `SOCKS version ${b[0]} (only 5 is spoken)`);
  if (b.length < 2) return need;
  const n = b[1];
  if (n === 0) return fail('no-methods', 'empty method list');
  if (b.length < 2 + n) return need;
  return { kind: 'value', value: { methods: [...b.subarray(2, 2 + n)] }, size: 2 + n };
}

/** RFC 1929 §2: VER(1) ULEN UNAME PLEN PASSWD. Empty fields are tolerated. */
export function parseUserPass(b: Uint8Array): Parsed<{ username: string; password: string }> {
  if (b.length < 1) return need;
  if (b[0] !== 0x01) return fail('bad-auth-version', `username/password version ${b[0]} (RFC 1929 says 1)`);
  if (b.length < 2) return need;
  const ulen = b[1];
  if (b.length < 3 + ulen) return need;
  const plen = b[2 + ulen];
  if (b.length < 3 + ulen + plen) return need;
  const dec = new TextDecoder('utf-8', { fatal: false });
  return {
    kind: 'value',
    value: { username: dec.decode(b.subarray(2, 2 + ulen)), password: dec.decode(b.subarray(3 + ulen, 3 + ulen + plen)) },
    size: 3 + ulen + plen,
  };
}

export interface Socks5Request {
  command: number;
  target: Target;
}

/** VER CMD RSV ATYP DST.ADDR DST.PORT (RFC 1928 §4). Only CONNECT is served (others: 0x07). */
export function parseRequest(b: Uint8Array): Parsed<Socks5Request> {
  if (b.length < 4) return need;
  if (b[0] !== SOCKS_VERSION) return fail('bad-version', `SOCKS version ${b[0]} in request`, Reply.generalFailure);
  const cmd = b[1];
  if (cmd !== Command.connect) {
    const known = cmd === Command.bind || cmd === Command.udpAssociate;
    return fail('bad-command', known ? `command ${cmd === Command.bind ? 'BIND' : 'UDP ASSOCIATE'} not supported` : `unknown command ${cmd}`, Reply.commandNotSupported);
  }
  if (b[2] !== 0) return fail('bad-reserved', `reserved byte is ${b[2]}, not 0`, Reply.generalFailure);
  const atyp = b[3];
  let host: string;
  let end: number;
  if (atyp === 0x01) {
    if (b.length < 10) return need;
    host = [...b.subarray(4, 8)].join('.');
    end = 8;
  } else if (atyp === 0x04) {
    if (b.length < 22) return need;
    const g: string[] = [];
    for (let i = 0; i < 8; i++) g.push(((b[4 + 2 * i] << 8) | b[5 + 2 * i]).toString(16));
    host = g.join(':');
    end = 20;
  } else if (atyp === 0x03) {
    if (b.length < 5) return need;
    const n = b[4];
    if (b.length < 5 + n + 2) return need;
    const raw = b.subarray(5, 5 + n);
    if (raw.some((c) => c < 0x21 || c > 0x7e)) return fail('bad-host', 'host name has non-ASCII or control bytes', Reply.hostUnreachable);
    host = String.fromCharCode(...raw);
    end = 5 + n;
  } else return fail('bad-address-type', `address type ${atyp}`, Reply.addressTypeNotSupported);
  const port = (b[end] << 8) | b[end + 1];
  const t = targetFromHost(host, port);
  if (isTargetError(t)) return fail(t.code, t.message, t.code === 'bad-port' ? Reply.generalFailure : Reply.hostUnreachable);
  return { kind: 'value', value: { command: cmd, target: t }, size: end + 2 };
}

export function encodeMethodChoice(method: number): Uint8Array {
  return Uint8Array.of(SOCKS_VERSION, method);
}

export function encodeUserPassStatus(ok: boolean): Uint8Array {
  return Uint8Array.of(0x01, ok ? 0x00 : 0x01);
}

/** A full reply (RFC 1928 §6); BND.ADDR/BND.PORT are 0.0.0.0:0 unless given. */
export function encodeReply(rep: number, bound?: { address: Uint8Array; port: number }): Uint8Array {
  const addr = bound?.address ?? new Uint8Array(4);
  const out = new Uint8Array(6 + addr.length);
  out[0] = SOCKS_VERSION;
  out[1] = rep;
  out[2] = 0;
  out[3] = addr.length === 16 ? 0x04 : 0x01;
  out.set(addr, 4);
  const port = bound?.port ?? 0;
  out[4 + addr.length] = port >> 8;
  out[5 + addr.length] = port & 0xff;
  return out;
}
