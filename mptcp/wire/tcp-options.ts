/**
 * TCP options (RFC 9293 §3.2): EOL, NOP, MSS, window scale and timestamps (RFC 7323),
 * SACK-permitted and SACK (RFC 2018), MPTCP (kind 30, delegated to mptcp-options.ts), and
 * any other kind kept as bytes.
 *
 * Two kinds of trouble are told apart. Framing errors (a length byte below 2, or an option
 * running past the option area) make the whole list unparseable, as they do for Linux: the
 * rest cannot be found. A known option with a bad length or content parses as
 * `{ kind: 'invalid' }` carrying its bytes and the typed error, so a receiver can ignore that
 * option (as Linux does) while still processing the segment, and emit stays exact.
 */
import { checkUint, readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { emitMptcpOption, mptcpOptionLength, parseMptcpOption } from './mptcp-options.js';
import { TCPOPT_MPTCP, type MptcpOption } from './mptcp-option-types.js';
import { fail, ok, WireEncodeError, type ParseResult, type WireError } from './result.js';

export const TCPOPT_EOL = 0;
export const TCPOPT_NOP = 1;
export const TCPOPT_MSS = 2;
export const TCPOPT_WINDOW_SCALE = 3;
export const TCPOPT_SACK_PERMITTED = 4;
export const TCPOPT_SACK = 5;
export const TCPOPT_TIMESTAMPS = 8;
export const TCP_MAX_OPTION_SPACE = 40;

export interface SackBlock {
  left: number;
  right: number;
}

export type TcpOption =
  /** End of list; `padding` is whatever follows it to the end of the option area. */
  | { kind: 'eol'; padding: Uint8Array }
  | { kind: 'nop' }
  | { kind: 'mss'; mss: number }
  | { kind: 'window-scale'; shift: number }
  | { kind: 'sack-permitted' }
  | { kind: 'sack'; blocks: SackBlock[] }
  | { kind: 'timestamps'; tsval: number; tsecr: number }
  | { kind: 'mptcp'; option: MptcpOption }
  /** An option kind we do not interpret; `data` is its value (after kind and length). */
  | { kind: 'unknown'; type: number; data: Uint8Array }
  /** A known kind whose length or content is wrong; `data` as for unknown. */
  | { kind: 'invalid'; type: number; data: Uint8Array; error: WireError };

function invalid(buf: Uint8Array, p: number, len: number, field: string, rule: string): TcpOption {
  return {
    kind: 'invalid',
    type: buf[p],
    data: buf.slice(p + 2, p + len),
    error: { layer: 'tcp-option', field, rule, offset: p },
  };
}

/** Parses the option area [start, end) of `buf` (offsets in the returned errors are in `buf`). */
export function parseTcpOptions(buf: Uint8Array, start: number, end: number): ParseResult<TcpOption[]> {
  if (start < 0 || end > buf.length) {
    return fail('tcp-option', 'bounds', `[${start}, ${end}) is not inside the ${buf.length}-byte buffer`);
  }
  const out: TcpOption[] = [];
  let p = start;
  while (p < end) {
    const type = buf[p];
    if (type === TCPOPT_EOL) {
      out.push({ kind: 'eol', padding: buf.slice(p + 1, end) });
      break;
    }
    if (type === TCPOPT_NOP) {
      out.push({ kind: 'nop' });
      p++;
      continue;
    }
    if (p + 1 >= end) return fail('tcp-option', 'length', `option kind ${type} has no length byte`, p);
    const len = buf[p + 1];
    if (len < 2) return fail('tcp-option', 'length', `option kind ${type} has length ${len}, below 2`, p + 1);
    if (p + len > end) {
      return fail('tcp-option', 'length', `option kind ${type} of length ${len} runs past the option area`, p + 1);
    }
    out.push(parseOne(buf, p, len));
    p += len;
  }
  return ok(out);
}

function parseOne(buf: Uint8Array, p: number, len: number): TcpOption {
  switch (buf[p]) {
    case TCPOPT_MSS:
      return len === 4 ? { kind: 'mss', mss: readU16(buf, p + 2) } : invalid(buf, p, len, 'MSS.length', `${len} is not 4 (RFC 9293 §3.2)`);
    case TCPOPT_WINDOW_SCALE:
      return len === 3
        ? { kind: 'window-scale', shift: buf[p + 2] }
        : invalid(buf, p, len, 'windowScale.length', `${len} is not 3 (RFC 7323 §2.2)`);
    case TCPOPT_SACK_PERMITTED:
      return len === 2 ? { kind: 'sack-permitted' } : invalid(buf, p, len, 'sackPermitted.length', `${len} is not 2 (RFC 2018 §2)`);
    case TCPOPT_SACK: {
      if (len < 10 || (len - 2) % 8 !== 0) {
        return invalid(buf, p, len, 'SACK.length', `${len} is not 2 + 8n with n >= 1 (RFC 2018 §3)`);
      }
      const blocks: SackBlock[] = [];
      for (let q = p + 2; q < p + len; q += 8) blocks.push({ left: readU32(buf, q), right: readU32(buf, q + 4) });
      return { kind: 'sack', blocks };
    }
    case TCPOPT_TIMESTAMPS:
      return len === 10
        ? { kind: 'timestamps', tsval: readU32(buf, p + 2), tsecr: readU32(buf, p + 6) }
        : invalid(buf, p, len, 'timestamps.length', `${len} is not 10 (RFC 7323 §3.2)`);
    case TCPOPT_MPTCP: {
      const r = parseMptcpOption(buf, p, len);
      return r.ok ? { kind: 'mptcp', option: r.value } : { kind: 'invalid', type: TCPOPT_MPTCP, data: buf.slice(p + 2, p + len), error: r.error };
    }
    default:
      return { kind: 'unknown', type: buf[p], data: buf.slice(p + 2, p + len) };
  }
}

export function tcpOptionLength(o: TcpOption): number {
  switch (o.kind) {
    case 'eol':
      return 1 + o.padding.length;
    case 'nop':
      return 1;
    case 'mss':
      return 4;
    case 'window-scale':
      return 3;
    case 'sack-permitted':
      return 2;
    case 'sack':
      return 2 + 8 * o.blocks.length;
    case 'timestamps':
      return 10;
    case 'mptcp':
      return mptcpOptionLength(o.option);
    case 'unknown':
    case 'invalid':
      return 2 + o.data.length;
  }
}

export function tcpOptionsLength(options: readonly TcpOption[]): number {
  let n = 0;
  for (const o of options) n += tcpOptionLength(o);
  return n;
}

/** Writes one option at `off`; returns its length. */
export function emitTcpOption(o: TcpOption, buf: Uint8Array, off: number): number {
  switch (o.kind) {
    case 'eol':
      buf[off] = TCPOPT_EOL;
      buf.set(o.padding, off + 1);
      return 1 + o.padding.length;
    case 'nop':
      buf[off] = TCPOPT_NOP;
      return 1;
    case 'mss':
      checkUint('tcp-option', 'MSS', o.mss, 16);
      buf[off] = TCPOPT_MSS;
      buf[off + 1] = 4;
      writeU16(buf, off + 2, o.mss);
      return 4;
    case 'window-scale':
      checkUint('tcp-option', 'windowScale', o.shift, 8);
      buf[off] = TCPOPT_WINDOW_SCALE;
      buf[off + 1] = 3;
      buf[off + 2] = o.shift;
      return 3;
    case 'sack-permitted':
      buf[off] = TCPOPT_SACK_PERMITTED;
      buf[off + 1] = 2;
      return 2;
    case 'sack': {
      if (o.blocks.length < 1 || o.blocks.length > 4) throw new WireEncodeError('tcp-option', 'SACK.blocks', 'needs 1 to 4 blocks');
      buf[off] = TCPOPT_SACK;
      buf[off + 1] = 2 + 8 * o.blocks.length;
      let q = off + 2;
      for (const b of o.blocks) {
        checkUint('tcp-option', 'SACK.left', b.left, 32);
        checkUint('tcp-option', 'SACK.right', b.right, 32);
        writeU32(buf, q, b.left);
        writeU32(buf, q + 4, b.right);
        q += 8;
      }
      return q - off;
    }
    case 'timestamps':
      checkUint('tcp-option', 'TSval', o.tsval, 32);
      checkUint('tcp-option', 'TSecr', o.tsecr, 32);
      buf[off] = TCPOPT_TIMESTAMPS;
      buf[off + 1] = 10;
      writeU32(buf, off + 2, o.tsval);
      writeU32(buf, off + 6, o.tsecr);
      return 10;
    case 'mptcp':
      return emitMptcpOption(o.option, buf, off);
    case 'unknown':
    case 'invalid':
      if (o.data.length > 38) throw new WireEncodeError('tcp-option', `kind ${o.type}`, 'value longer than 38 bytes');
      buf[off] = o.type;
      buf[off + 1] = 2 + o.data.length;
      buf.set(o.data, off + 2);
      return 2 + o.data.length;
  }
}

/**
 * Writes the options and pads with zeros (EOL, then zero padding, RFC 9293 §3.1) to a
 * multiple of 4. Returns the padded length. Throws if they do not fit in 40 bytes.
 */
export function emitTcpOptions(options: readonly TcpOption[], buf: Uint8Array, off: number): number {
  const raw = tcpOptionsLength(options);
  const padded = (raw + 3) & ~3;
  if (padded > TCP_MAX_OPTION_SPACE) {
    throw new WireEncodeError('tcp-option', 'options', `${raw} bytes exceed the 40-byte option space`);
  }
  let p = off;
  for (const o of options) p += emitTcpOption(o, buf, p);
  buf.fill(0, p, off + padded);
  return padded;
}
