/**
 * The client <-> aggregator control frames, as pure encode/decode functions. They travel
 * inside TLS (or plaintext when configured) on each stream, before the stream turns into a
 * raw byte relay:
 *
 *   client -> aggregator  HELLO    once per stream: who the client is, and its proof
 *   aggregator -> client  HELLO_OK the proof was good (the stream may wait in the pool)
 *   client -> aggregator  REQUEST  target, request id, and the connection's path policy
 *   aggregator -> client  REPLY    status (status.ts) and a one-line reason; on `ok` the
 *                                  stream carries the proxied bytes from the next byte on
 *
 * Layout (big-endian): type u8 | body length u16 | body.
 *   HELLO    (1): magic "MPXP" | version u8 (1) | id length u8 | client id | mac (32 bytes)
 *   HELLO_OK (2): empty
 *   REQUEST  (3): request id u32 | policy length u16 | port u16 | atyp u8 | address |
 *                 policy (atyp 1: 4 bytes; 4: 16 bytes; 3: length u8 + name, as RFC 1928
 *                 §5; policy: policy-wire.ts, absent when its length is 0)
 *   REPLY    (4): request id u32 | status u8 | reason length u8 | reason (printable ASCII)
 *
 * decodeFrame never throws: it returns a frame, "need more bytes", or a FrameError.
 */
import { isTargetError, isValidDomainName, targetFromHost, type Target } from './target.js';
import { isStatusCode, type StatusCode } from './status.js';
import { decodePolicy, encodePolicy, isPolicyWireError, type WirePolicy } from './policy-wire.js';

export const FrameType = { hello: 1, helloOk: 2, request: 3, reply: 4 } as const;
export const HELLO_MAGIC = 'MPXP';
export const PROTOCOL_VERSION = 1;
export const MAC_BYTES = 32;
export const MAX_BODY = 512;
export const HEADER_BYTES = 3;
export const MAX_CLIENT_ID = 64;
export const MAX_REASON = 200;

export type Frame =
  | { type: 'hello'; clientId: string; mac: Uint8Array }
  | { type: 'helloOk' }
  | { type: 'request'; requestId: number; policy: WirePolicy | null; target: Target }
  | { type: 'reply'; requestId: number; status: StatusCode; reason: string };

export type FrameErrorCode = 'unknown-type' | 'body-too-long' | 'bad-length' | 'bad-magic' | 'bad-version' | 'bad-field';

export interface FrameError {
  code: FrameErrorCode;
  field: string;
  message: string;
}

export type FrameDecode = { kind: 'frame'; frame: Frame; size: number } | { kind: 'need'; bytes: number } | { kind: 'error'; error: FrameError };

const err = (code: FrameErrorCode, field: string, message: string): FrameDecode => ({ kind: 'error', error: { code, field, message } });

export function isValidClientId(id: string): boolean {
  return id.length >= 1 && id.length <= MAX_CLIENT_ID && /^[A-Za-z0-9._-]+$/.test(id);
}

function isPrintableAscii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

/** A caller bug (a value that cannot be put on the wire), not bad input. */
export class FrameEncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameEncodeError';
  }
}

function withHeader(type: number, body: Uint8Array): Uint8Array {
  if (body.length > MAX_BODY) throw new FrameEncodeError(`frame body ${body.length} > ${MAX_BODY}`);
  const out = new Uint8Array(HEADER_BYTES + body.length);
  out[0] = type;
  out[1] = body.length >> 8;
  out[2] = body.length & 0xff;
  out.set(body, HEADER_BYTES);
  return out;
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const fromAscii = (b: Uint8Array): string => String.fromCharCode(...b);

export function encodeFrame(f: Frame): Uint8Array {
  switch (f.type) {
    case 'hello': {
      if (!isValidClientId(f.clientId)) throw new FrameEncodeError(`bad client id '${f.clientId}'`);
      if (f.mac.length !== MAC_BYTES) throw new FrameEncodeError('mac must be 32 bytes');
      const id = ascii(f.clientId);
      const body = new Uint8Array(4 + 1 + 1 + id.length + MAC_BYTES);
      body.set(ascii(HELLO_MAGIC), 0);
      body[4] = PROTOCOL_VERSION;
      body[5] = id.length;
      body.set(id, 6);
      body.set(f.mac, 6 + id.length);
      return withHeader(FrameType.hello, body);
    }
    case 'helloOk':
      return withHeader(FrameType.helloOk, new Uint8Array(0));
    case 'request': {
      const t = f.target;
      if (!Number.isInteger(f.requestId) || f.requestId < 0 || f.requestId > 0xffffffff) throw new FrameEncodeError('request id must be u32');
      const policy = f.policy ? encodePolicy(f.policy) : new Uint8Array(0);
      if (!Number.isInteger(t.port) || t.port < 1 || t.port > 0xffff) throw new FrameEncodeError('port must be 1..65535');
      let addr: Uint8Array;
      let atyp: number;
      if (t.kind === 'domain') {
        if (!isValidDomainName(t.name)) throw new FrameEncodeError(`bad domain name '${t.name}'`);
        atyp = 3;
        addr = new Uint8Array(1 + t.name.length);
        addr[0] = t.name.length;
        addr.set(ascii(t.name), 1);
      } else {
        atyp = t.kind === 'ipv4' ? 1 : 4;
        if (t.address.length !== (t.kind === 'ipv4' ? 4 : 16)) throw new FrameEncodeError('address length does not match its kind');
        addr = t.address;
      }
      const body = new Uint8Array(9 + addr.length + policy.length);
      const v = new DataView(body.buffer);
      v.setUint32(0, f.requestId);
      v.setUint16(4, policy.length);
      v.setUint16(6, t.port);
      body[8] = atyp;
      body.set(addr, 9);
      body.set(policy, 9 + addr.length);
      return withHeader(FrameType.request, body);
    }
    case 'reply': {
      const reason = f.reason.length > MAX_REASON ? f.reason.slice(0, MAX_REASON) : f.reason;
      if (!isPrintableAscii(reason)) throw new FrameEncodeError('reason must be printable ASCII');
      const body = new Uint8Array(6 + reason.length);
      new DataView(body.buffer).setUint32(0, f.requestId);
      body[4] = f.status;
      body[5] = reason.length;
      body.set(ascii(reason), 6);
      return withHeader(FrameType.reply, body);
    }
  }
}

/** Decodes the frame starting at `offset` of `buf`. */
export function decodeFrame(buf: Uint8Array, offset = 0): FrameDecode {
  const avail = buf.length - offset;
  if (avail < HEADER_BYTES) return { kind: 'need', bytes: HEADER_BYTES - avail };
  const type = buf[offset];
  if (type < FrameType.hello || type > FrameType.reply) return err('unknown-type', 'type', `unknown frame type ${type}`);
  const len = (buf[offset + 1] << 8) | buf[offset + 2];
  if (len > MAX_BODY) return err('body-too-long', 'length', `frame body ${len} > ${MAX_BODY}`);
  if (avail < HEADER_BYTES + len) return { kind: 'need', bytes: HEADER_BYTES + len - avail };
  const body = buf.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + len);
  const size = HEADER_BYTES + len;
  const done = (frame: Frame): FrameDecode => ({ kind: 'frame', frame, size });
  switch (type) {
    case FrameType.hello: {
      if (len < 6) return err('bad-length', 'hello', 'HELLO shorter than its fixed part');
      if (fromAscii(body.subarray(0, 4)) !== HELLO_MAGIC) return err('bad-magic', 'magic', 'not an mptcp-proxy HELLO');
      if (body[4] !== PROTOCOL_VERSION) return err('bad-version', 'version', `protocol version ${body[4]} (we speak ${PROTOCOL_VERSION})`);
      const idLen = body[5];
      if (len !== 6 + idLen + MAC_BYTES) return err('bad-length', 'hello', 'HELLO length does not match its client id length');
      const clientId = fromAscii(body.subarray(6, 6 + idLen));
      if (!isValidClientId(clientId)) return err('bad-field', 'clientId', 'client id must be 1..64 of [A-Za-z0-9._-]');
      return done({ type: 'hello', clientId, mac: body.slice(6 + idLen) });
    }
    case FrameType.helloOk:
      if (len !== 0) return err('bad-length', 'helloOk', 'HELLO_OK has no body');
      return done({ type: 'helloOk' });
    case FrameType.request: {
      if (len < 10) return err('bad-length', 'request', 'REQUEST shorter than its fixed part');
      const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
      const requestId = v.getUint32(0);
      const policyLength = v.getUint16(4);
      const port = v.getUint16(6);
      if (port === 0) return err('bad-field', 'port', 'port 0');
      if (policyLength > len - 10) return err('bad-length', 'policy', 'policy length beyond the frame');
      const atyp = body[8];
      const end = len - policyLength;
      let target: Target;
      if (atyp === 1 || atyp === 4) {
        const n = atyp === 1 ? 4 : 16;
        if (end !== 9 + n) return err('bad-length', 'address', `address type ${atyp} needs ${n} bytes`);
        const address = body.slice(9, end);
        target = atyp === 1 ? { kind: 'ipv4', address, port } : { kind: 'ipv6', address, port };
      } else if (atyp === 3) {
        const n = body[9];
        if (end !== 10 + n) return err('bad-length', 'address', 'name length does not match the frame');
        const name = fromAscii(body.subarray(10, end));
        const t = targetFromHost(name, port);
        if (isTargetError(t) || t.kind !== 'domain') return err('bad-field', 'name', 'not a valid DNS name');
        target = t;
      } else return err('bad-field', 'atyp', `unknown address type ${atyp}`);
      let policy: WirePolicy | null = null;
      if (policyLength > 0) {
        const p = decodePolicy(body.subarray(end));
        if (isPolicyWireError(p)) return err('bad-field', p.field, p.message);
        policy = p;
      }
      return done({ type: 'request', requestId, policy, target });
    }
    default: {
      if (len < 6) return err('bad-length', 'reply', 'REPLY shorter than its fixed part');
      const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
      const requestId = v.getUint32(0);
      const status = body[4];
      if (!isStatusCode(status)) return err('bad-field', 'status', `unknown status ${status}`);
      const n = body[5];
      if (len !== 6 + n) return err('bad-length', 'reason', 'reason length does not match the frame');
      const reason = fromAscii(body.subarray(6));
      if (!isPrintableAscii(reason)) return err('bad-field', 'reason', 'reason is not printable ASCII');
      return done({ type: 'reply', requestId, status, reason });
    }
  }
}
