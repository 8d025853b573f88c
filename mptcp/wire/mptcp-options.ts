/**
 * MPTCP option codec (TCP option kind 30, RFC 8684 §3): parse, length and emit for every
 * suboption in every length the RFC allows, and nothing else. Lengths are checked strictly;
 * reserved bits are preserved, not judged (that is the connection layer's business, e.g.
 * RFC 8684 §3.1 says a v1 MP_CAPABLE must have H set). Subtypes we do not know are kept as
 * bytes. Parsing never throws.
 */
import { checkU64, checkUint, readU16, readU32, readU64, writeU16, writeU32, writeU64 } from './bytes.js';
import { DssFields, dssLength, readDss, writeDss } from './dss.js';
import {
  ADD_ADDR_FLAG_ECHO,
  DSS_FLAG_ACK,
  DSS_FLAG_ACK64,
  DSS_FLAG_DSN64,
  DSS_FLAG_MAPPING,
  MptcpSubtype,
  TCPOPT_MPTCP,
  type AddAddrOption,
  type DssOption,
  type MptcpOption,
} from './mptcp-option-types.js';
import { fail, ok, WireEncodeError, type ParseResult } from './result.js';

export const MP_CAPABLE_LENGTHS = [4, 12, 20, 22, 24] as const;
export const MP_JOIN_LENGTHS = [12, 16, 24] as const;

const scratch = new DssFields();

function bad(field: string, rule: string, offset: number): ParseResult<MptcpOption> {
  return fail('mptcp-option', field, rule, offset);
}

/**
 * Parses the MPTCP option whose kind byte is at `off`. `len` is its length byte, already
 * checked by the TCP option walker to be >= 2 and to fit in the buffer (checked again here,
 * so that a direct caller's bad bounds give an error, never a read past the buffer).
 */
export function parseMptcpOption(buf: Uint8Array, off: number, len: number): ParseResult<MptcpOption> {
  if (off < 0 || off + Math.max(len, 2) > buf.length) {
    return fail('mptcp-option', 'length', `${len} bytes at offset ${off} run past the ${buf.length}-byte buffer`);
  }
  if (len < 3) return bad('length', `${len} is too short for an MPTCP option (needs a subtype byte)`, off + 1);
  if (len > 40) return bad('length', `${len} exceeds the 40-byte TCP option space (RFC 9293 §3.1)`, off + 1);
  const code = buf[off + 2] >>> 4;
  const low = buf[off + 2] & 0x0f;
  switch (code) {
    case MptcpSubtype.MP_CAPABLE: {
      if (!(MP_CAPABLE_LENGTHS as readonly number[]).includes(len)) {
        return bad('MP_CAPABLE.length', `${len} is not one of 4, 12, 20, 22, 24 (RFC 8684 §3.1)`, off + 1);
      }
      return ok({
        subtype: 'MP_CAPABLE',
        version: low,
        flags: buf[off + 3],
        ...(len >= 12 ? { senderKey: readU64(buf, off + 4) } : {}),
        ...(len >= 20 ? { receiverKey: readU64(buf, off + 12) } : {}),
        ...(len >= 22 ? { dataLength: readU16(buf, off + 20) } : {}),
        ...(len === 24 ? { checksum: readU16(buf, off + 22) } : {}),
      });
    }
    case MptcpSubtype.MP_JOIN:
      if (len === 12) {
        return ok({
          subtype: 'MP_JOIN',
          stage: 'syn',
          flags: low,
          addressId: buf[off + 3],
          receiverToken: readU32(buf, off + 4),
          senderNonce: readU32(buf, off + 8),
        });
      }
      if (len === 16) {
        return ok({
          subtype: 'MP_JOIN',
          stage: 'syn-ack',
          flags: low,
          addressId: buf[off + 3],
          truncatedHmac: readU64(buf, off + 4),
          senderNonce: readU32(buf, off + 12),
        });
      }
      if (len === 24) {
        return ok({
          subtype: 'MP_JOIN',
          stage: 'ack',
          reserved: (low << 8) | buf[off + 3],
          hmac: buf.slice(off + 4, off + 24),
        });
      }
      return bad('MP_JOIN.length', `${len} is not one of 12 (SYN), 16 (SYN/ACK), 24 (ACK) (RFC 8684 §3.2)`, off + 1);
    case MptcpSubtype.DSS: {
      if (len < 4) return bad('DSS.length', `${len} is shorter than the 4-byte DSS header (RFC 8684 §3.3)`, off + 1);
      const rule = readDss(buf, off, len, scratch);
      if (rule !== null) return bad('DSS.length', rule, off + 1);
      return ok(dssOptionFromFields(scratch));
    }
    case MptcpSubtype.ADD_ADDR:
      return parseAddAddr(buf, off, len, low);
    case MptcpSubtype.REMOVE_ADDR: {
      if (len < 4) return bad('REMOVE_ADDR.length', `${len}: needs at least one address id (RFC 8684 §3.4.2)`, off + 1);
      return ok({ subtype: 'REMOVE_ADDR', reserved: low, addressIds: Array.from(buf.subarray(off + 3, off + len)) });
    }
    case MptcpSubtype.MP_PRIO:
      if (len !== 3) return bad('MP_PRIO.length', `${len} is not 3 (RFC 8684 §3.3.8)`, off + 1);
      return ok({ subtype: 'MP_PRIO', flags: low });
    case MptcpSubtype.MP_FAIL:
      if (len !== 12) return bad('MP_FAIL.length', `${len} is not 12 (RFC 8684 §3.7)`, off + 1);
      return ok({ subtype: 'MP_FAIL', reserved: (low << 8) | buf[off + 3], dsn: readU64(buf, off + 4) });
    case MptcpSubtype.MP_FASTCLOSE:
      if (len !== 12) return bad('MP_FASTCLOSE.length', `${len} is not 12 (RFC 8684 §3.5)`, off + 1);
      return ok({ subtype: 'MP_FASTCLOSE', reserved: (low << 8) | buf[off + 3], receiverKey: readU64(buf, off + 4) });
    case MptcpSubtype.MP_TCPRST:
      if (len !== 4) return bad('MP_TCPRST.length', `${len} is not 4 (RFC 8684 §3.6)`, off + 1);
      return ok({ subtype: 'MP_TCPRST', flags: low, reason: buf[off + 3] });
    default:
      return ok({ subtype: 'UNKNOWN', code, body: buf.slice(off + 2, off + len) });
  }
}

function parseAddAddr(buf: Uint8Array, off: number, len: number, low: number): ParseResult<MptcpOption> {
  // RFC 8684 §3.4.1: 4 bytes of header+id, the address, an optional port, and the
  // truncated HMAC unless E is set. The family is implied by the length.
  const echo = (low & ADD_ADDR_FLAG_ECHO) !== 0;
  const body = len - 4 - (echo ? 0 : 8);
  let addrLen: 4 | 16;
  let hasPort: boolean;
  if (body === 4 || body === 6) {
    addrLen = 4;
    hasPort = body === 6;
  } else if (body === 16 || body === 18) {
    addrLen = 16;
    hasPort = body === 18;
  } else {
    const allowed = echo ? '8, 10 (IPv4) or 20, 22 (IPv6) with E=1' : '16, 18 (IPv4) or 28, 30 (IPv6) with E=0';
    return bad('ADD_ADDR.length', `${len} is not ${allowed} (RFC 8684 §3.4.1)`, off + 1);
  }
  const a = off + 4;
  const option: AddAddrOption = {
    subtype: 'ADD_ADDR',
    flags: low,
    addressId: buf[off + 3],
    address: buf.slice(a, a + addrLen),
  };
  let p = a + addrLen;
  if (hasPort) {
    option.port = readU16(buf, p);
    p += 2;
  }
  if (!echo) option.truncatedHmac = readU64(buf, p);
  return ok(option);
}

function joinU32(hi: number, lo: number): bigint {
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Converts the hot-path struct into the representation (allocates; control paths only). */
export function dssOptionFromFields(f: DssFields): DssOption {
  const o: DssOption = { subtype: 'DSS', reserved: f.reserved, flags: f.flags };
  if (f.flags & DSS_FLAG_ACK) o.dataAck = joinU32(f.dataAckHi, f.dataAckLo);
  if (f.flags & DSS_FLAG_MAPPING) {
    o.dsn = joinU32(f.dsnHi, f.dsnLo);
    o.subflowSeq = f.subflowSeq;
    o.dataLength = f.dataLength;
    if (f.hasChecksum) o.checksum = f.checksum;
  }
  return o;
}

/** Fills the hot-path struct from a representation, checking that flags and fields agree. */
export function dssFieldsFromOption(o: DssOption, out: DssFields): DssFields {
  const f = o.flags;
  checkUint('mptcp-option', 'DSS.flags', f, 8);
  checkUint('mptcp-option', 'DSS.reserved', o.reserved, 4);
  const hasAck = (f & DSS_FLAG_ACK) !== 0;
  const hasMap = (f & DSS_FLAG_MAPPING) !== 0;
  if (hasAck !== (o.dataAck !== undefined)) {
    throw new WireEncodeError('mptcp-option', 'DSS.dataAck', 'must be present exactly when flag A is set');
  }
  const mapFields = (o.dsn !== undefined ? 1 : 0) + (o.subflowSeq !== undefined ? 1 : 0) + (o.dataLength !== undefined ? 1 : 0);
  if (mapFields !== (hasMap ? 3 : 0)) {
    throw new WireEncodeError('mptcp-option', 'DSS.mapping', 'dsn, subflowSeq and dataLength must be present exactly when flag M is set');
  }
  if (!hasMap && o.checksum !== undefined) {
    throw new WireEncodeError('mptcp-option', 'DSS.checksum', 'a checksum needs a mapping (flag M)');
  }
  out.reserved = o.reserved;
  out.flags = f;
  out.dataAckHi = out.dataAckLo = out.dsnHi = out.dsnLo = 0;
  out.subflowSeq = out.dataLength = out.checksum = 0;
  if (o.dataAck !== undefined) {
    checkU64('mptcp-option', 'DSS.dataAck', o.dataAck);
    if (!(f & DSS_FLAG_ACK64) && o.dataAck > 0xffffffffn) {
      throw new WireEncodeError('mptcp-option', 'DSS.dataAck', 'a 32-bit Data ACK (flag a clear) must fit in 32 bits');
    }
    out.dataAckHi = Number(o.dataAck >> 32n);
    out.dataAckLo = Number(o.dataAck & 0xffffffffn);
  }
  if (o.dsn !== undefined && o.subflowSeq !== undefined && o.dataLength !== undefined) {
    checkU64('mptcp-option', 'DSS.dsn', o.dsn);
    if (!(f & DSS_FLAG_DSN64) && o.dsn > 0xffffffffn) {
      throw new WireEncodeError('mptcp-option', 'DSS.dsn', 'a 32-bit DSN (flag m clear) must fit in 32 bits');
    }
    checkUint('mptcp-option', 'DSS.subflowSeq', o.subflowSeq, 32);
    checkUint('mptcp-option', 'DSS.dataLength', o.dataLength, 16);
    out.dsnHi = Number(o.dsn >> 32n);
    out.dsnLo = Number(o.dsn & 0xffffffffn);
    out.subflowSeq = o.subflowSeq;
    out.dataLength = o.dataLength;
  }
  out.hasChecksum = o.checksum !== undefined;
  if (o.checksum !== undefined) {
    checkUint('mptcp-option', 'DSS.checksum', o.checksum, 16);
    out.checksum = o.checksum;
  }
  return out;
}

/** Length in bytes of the option, kind and length bytes included. */
export function mptcpOptionLength(o: MptcpOption): number {
  switch (o.subtype) {
    case 'MP_CAPABLE':
      if (o.checksum !== undefined) return 24;
      if (o.dataLength !== undefined) return 22;
      if (o.receiverKey !== undefined) return 20;
      if (o.senderKey !== undefined) return 12;
      return 4;
    case 'MP_JOIN':
      return o.stage === 'syn' ? 12 : o.stage === 'syn-ack' ? 16 : 24;
    case 'DSS':
      return dssLength(o.flags, o.checksum !== undefined);
    case 'ADD_ADDR':
      return 4 + o.address.length + (o.port !== undefined ? 2 : 0) + (o.truncatedHmac !== undefined ? 8 : 0);
    case 'REMOVE_ADDR':
      return 3 + o.addressIds.length;
    case 'MP_PRIO':
      return 3;
    case 'MP_FAIL':
    case 'MP_FASTCLOSE':
      return 12;
    case 'MP_TCPRST':
      return 4;
    case 'UNKNOWN':
      return 2 + o.body.length;
  }
}

function header(buf: Uint8Array, off: number, len: number, code: number, low: number): void {
  checkUint('mptcp-option', 'flags nibble', low, 4);
  buf[off] = TCPOPT_MPTCP;
  buf[off + 1] = len;
  buf[off + 2] = (code << 4) | low;
}

/** Writes the option at `off` (kind byte first); returns its length. */
export function emitMptcpOption(o: MptcpOption, buf: Uint8Array, off: number): number {
  const len = mptcpOptionLength(o);
  switch (o.subtype) {
    case 'MP_CAPABLE': {
      // Fields are cumulative: a later field without the earlier ones has no wire form.
      const present = [o.senderKey, o.receiverKey, o.dataLength, o.checksum].map((v) => v !== undefined);
      if (present.some((p, i) => p && present.slice(0, i).some((q) => !q))) {
        throw new WireEncodeError('mptcp-option', 'MP_CAPABLE', 'fields must be present in order: senderKey, receiverKey, dataLength, checksum');
      }
      header(buf, off, len, MptcpSubtype.MP_CAPABLE, o.version);
      checkUint('mptcp-option', 'MP_CAPABLE.flags', o.flags, 8);
      buf[off + 3] = o.flags;
      if (o.senderKey !== undefined) {
        checkU64('mptcp-option', 'senderKey', o.senderKey);
        writeU64(buf, off + 4, o.senderKey);
      }
      if (o.receiverKey !== undefined) {
        checkU64('mptcp-option', 'receiverKey', o.receiverKey);
        writeU64(buf, off + 12, o.receiverKey);
      }
      if (o.dataLength !== undefined) {
        checkUint('mptcp-option', 'dataLength', o.dataLength, 16);
        writeU16(buf, off + 20, o.dataLength);
      }
      if (o.checksum !== undefined) {
        checkUint('mptcp-option', 'checksum', o.checksum, 16);
        writeU16(buf, off + 22, o.checksum);
      }
      return len;
    }
    case 'MP_JOIN':
      if (o.stage === 'ack') {
        checkUint('mptcp-option', 'MP_JOIN.reserved', o.reserved, 12);
        if (o.hmac.length !== 20) throw new WireEncodeError('mptcp-option', 'MP_JOIN.hmac', 'must be 20 bytes');
        header(buf, off, len, MptcpSubtype.MP_JOIN, o.reserved >>> 8);
        buf[off + 3] = o.reserved & 0xff;
        buf.set(o.hmac, off + 4);
        return len;
      }
      header(buf, off, len, MptcpSubtype.MP_JOIN, o.flags);
      checkUint('mptcp-option', 'MP_JOIN.addressId', o.addressId, 8);
      buf[off + 3] = o.addressId;
      checkUint('mptcp-option', 'MP_JOIN.senderNonce', o.senderNonce, 32);
      if (o.stage === 'syn') {
        checkUint('mptcp-option', 'MP_JOIN.receiverToken', o.receiverToken, 32);
        writeU32(buf, off + 4, o.receiverToken);
        writeU32(buf, off + 8, o.senderNonce);
      } else {
        checkU64('mptcp-option', 'MP_JOIN.truncatedHmac', o.truncatedHmac);
        writeU64(buf, off + 4, o.truncatedHmac);
        writeU32(buf, off + 12, o.senderNonce);
      }
      return len;
    case 'DSS':
      return writeDss(buf, off, dssFieldsFromOption(o, scratch));
    case 'ADD_ADDR': {
      if (o.address.length !== 4 && o.address.length !== 16) {
        throw new WireEncodeError('mptcp-option', 'ADD_ADDR.address', 'must be 4 or 16 bytes');
      }
      const echo = (o.flags & ADD_ADDR_FLAG_ECHO) !== 0;
      if (echo === (o.truncatedHmac !== undefined)) {
        throw new WireEncodeError('mptcp-option', 'ADD_ADDR.truncatedHmac', 'present exactly when E (echo) is clear (RFC 8684 §3.4.1)');
      }
      header(buf, off, len, MptcpSubtype.ADD_ADDR, o.flags);
      checkUint('mptcp-option', 'ADD_ADDR.addressId', o.addressId, 8);
      buf[off + 3] = o.addressId;
      buf.set(o.address, off + 4);
      let p = off + 4 + o.address.length;
      if (o.port !== undefined) {
        checkUint('mptcp-option', 'ADD_ADDR.port', o.port, 16);
        writeU16(buf, p, o.port);
        p += 2;
      }
      if (o.truncatedHmac !== undefined) {
        checkU64('mptcp-option', 'ADD_ADDR.truncatedHmac', o.truncatedHmac);
        writeU64(buf, p, o.truncatedHmac);
      }
      return len;
    }
    case 'REMOVE_ADDR':
      if (o.addressIds.length === 0 || len > 40) {
        throw new WireEncodeError('mptcp-option', 'REMOVE_ADDR.addressIds', 'needs 1 to 37 ids');
      }
      header(buf, off, len, MptcpSubtype.REMOVE_ADDR, o.reserved);
      for (let i = 0; i < o.addressIds.length; i++) {
        checkUint('mptcp-option', 'REMOVE_ADDR.addressId', o.addressIds[i], 8);
        buf[off + 3 + i] = o.addressIds[i];
      }
      return len;
    case 'MP_PRIO':
      header(buf, off, len, MptcpSubtype.MP_PRIO, o.flags);
      return len;
    case 'MP_FAIL':
    case 'MP_FASTCLOSE':
      checkUint('mptcp-option', `${o.subtype}.reserved`, o.reserved, 12);
      header(buf, off, len, o.subtype === 'MP_FAIL' ? MptcpSubtype.MP_FAIL : MptcpSubtype.MP_FASTCLOSE, o.reserved >>> 8);
      buf[off + 3] = o.reserved & 0xff;
      {
        const v = o.subtype === 'MP_FAIL' ? o.dsn : o.receiverKey;
        checkU64('mptcp-option', o.subtype, v);
        writeU64(buf, off + 4, v);
      }
      return len;
    case 'MP_TCPRST':
      checkUint('mptcp-option', 'MP_TCPRST.reason', o.reason, 8);
      header(buf, off, len, MptcpSubtype.MP_TCPRST, o.flags);
      buf[off + 3] = o.reason;
      return len;
    case 'UNKNOWN':
      if (len > 40 || o.body.length < 1) throw new WireEncodeError('mptcp-option', 'UNKNOWN.body', 'must be 1 to 38 bytes');
      // The parser yields UNKNOWN only for subtypes 0x9-0xf, read from the body's first nibble.
      if (o.code < 0x9 || o.code > 0xf || o.body[0] >>> 4 !== o.code) {
        throw new WireEncodeError('mptcp-option', 'UNKNOWN.code', `${o.code} must be 9-15 and equal the high nibble of body[0]`);
      }
      buf[off] = TCPOPT_MPTCP;
      buf[off + 1] = len;
      buf.set(o.body, off + 2);
      return len;
  }
}

/** Convenience for tests and control paths: the option's bytes in a new array. */
export function encodeMptcpOption(o: MptcpOption): Uint8Array {
  const out = new Uint8Array(mptcpOptionLength(o));
  emitMptcpOption(o, out, 0);
  return out;
}

/** Flags a DSS needs for the fields it carries (a convenience for building options). */
export function dssFlagsFor(o: { dataAck64?: boolean; hasAck: boolean; hasMapping: boolean; dsn64?: boolean; dataFin?: boolean }): number {
  let f = 0;
  if (o.hasAck) f |= DSS_FLAG_ACK | (o.dataAck64 ? DSS_FLAG_ACK64 : 0);
  if (o.hasMapping) f |= DSS_FLAG_MAPPING | (o.dsn64 ? DSS_FLAG_DSN64 : 0);
  if (o.dataFin) f |= 0x10;
  return f;
}
