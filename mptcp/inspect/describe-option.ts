/**
 * People- and machine-readable descriptions of TCP and MPTCP options: one line of text per
 * option for `mptcp-proxy decode`, and a JSON-safe object (64-bit values as decimal strings,
 * bytes as hex) for `decode --json` and for comparing our decode with Wireshark's.
 */
import { toHex, u64Hex } from '../wire/bytes.js';
import { formatIp } from '../wire/ip-address.js';
import { mptcpOptionLength } from '../wire/mptcp-options.js';
import {
  ADD_ADDR_FLAG_ECHO,
  BACKUP_FLAG,
  DSS_FLAG_ACK,
  DSS_FLAG_ACK64,
  DSS_FLAG_DATA_FIN,
  DSS_FLAG_DSN64,
  DSS_FLAG_MAPPING,
  MPC_FLAG_CHECKSUM,
  MPC_FLAG_EXTENSIBILITY,
  MPC_FLAG_HMAC_SHA256,
  MPC_FLAG_NO_JOIN_TO_INITIAL,
  type MptcpOption,
} from '../wire/mptcp-option-types.js';
import { formatWireError } from '../wire/result.js';
import { tcpOptionLength, type TcpOption } from '../wire/tcp-options.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

const TCPRST_REASONS = [
  'unspecified',
  'MPTCP-specific error',
  'lack of resources',
  'administratively prohibited',
  'too much outstanding data',
  'unacceptable performance',
  'middlebox interference',
];

function flagNames(flags: number, names: [number, string][]): string {
  const set = names.filter(([bit]) => flags & bit).map(([, n]) => n);
  return set.length ? set.join('') : '-';
}

export function describeMptcpOption(o: MptcpOption): string {
  const len = mptcpOptionLength(o);
  switch (o.subtype) {
    case 'MP_CAPABLE': {
      const f = flagNames(o.flags, [
        [MPC_FLAG_CHECKSUM, 'A'],
        [MPC_FLAG_EXTENSIBILITY, 'B'],
        [MPC_FLAG_NO_JOIN_TO_INITIAL, 'C'],
        [MPC_FLAG_HMAC_SHA256, 'H'],
      ]);
      let s = `MP_CAPABLE len ${len} v${o.version} flags 0x${o.flags.toString(16).padStart(2, '0')} [${f}]`;
      if (o.senderKey !== undefined) s += ` sender-key ${u64Hex(o.senderKey)}`;
      if (o.receiverKey !== undefined) s += ` receiver-key ${u64Hex(o.receiverKey)}`;
      if (o.dataLength !== undefined) s += ` data-len ${o.dataLength}`;
      if (o.checksum !== undefined) s += ` csum 0x${o.checksum.toString(16).padStart(4, '0')}`;
      return s;
    }
    case 'MP_JOIN':
      if (o.stage === 'syn') {
        return `MP_JOIN SYN len ${len}${o.flags & BACKUP_FLAG ? ' backup' : ''} addr-id ${o.addressId} token ${o.receiverToken.toString(16).padStart(8, '0')} nonce ${o.senderNonce.toString(16).padStart(8, '0')}`;
      }
      if (o.stage === 'syn-ack') {
        return `MP_JOIN SYN/ACK len ${len}${o.flags & BACKUP_FLAG ? ' backup' : ''} addr-id ${o.addressId} hmac ${u64Hex(o.truncatedHmac)} nonce ${o.senderNonce.toString(16).padStart(8, '0')}`;
      }
      return `MP_JOIN ACK len ${len} hmac ${toHex(o.hmac)}`;
    case 'DSS': {
      let s = `DSS len ${len} [${flagNames(o.flags, [
        [DSS_FLAG_DATA_FIN, 'F'],
        [DSS_FLAG_DSN64, 'm'],
        [DSS_FLAG_MAPPING, 'M'],
        [DSS_FLAG_ACK64, 'a'],
        [DSS_FLAG_ACK, 'A'],
      ])}]`;
      if (o.dataAck !== undefined) s += ` data-ack ${o.dataAck}`;
      if (o.dsn !== undefined) s += ` dsn ${o.dsn} ssn ${o.subflowSeq} data-len ${o.dataLength}`;
      if (o.checksum !== undefined) s += ` csum 0x${o.checksum.toString(16).padStart(4, '0')}`;
      if (o.flags & DSS_FLAG_DATA_FIN) s += ' DATA_FIN';
      return s;
    }
    case 'ADD_ADDR': {
      let s = `ADD_ADDR len ${len}${o.flags & ADD_ADDR_FLAG_ECHO ? ' echo' : ''} addr-id ${o.addressId} ${formatIp(o.address)}`;
      if (o.port !== undefined) s += ` port ${o.port}`;
      if (o.truncatedHmac !== undefined) s += ` hmac ${u64Hex(o.truncatedHmac)}`;
      return s;
    }
    case 'REMOVE_ADDR':
      return `REMOVE_ADDR len ${len} addr-ids ${o.addressIds.join(',')}`;
    case 'MP_PRIO':
      return `MP_PRIO len ${len}${o.flags & BACKUP_FLAG ? ' backup' : ' regular'}`;
    case 'MP_FAIL':
      return `MP_FAIL len ${len} dsn ${o.dsn}`;
    case 'MP_FASTCLOSE':
      return `MP_FASTCLOSE len ${len} receiver-key ${u64Hex(o.receiverKey)}`;
    case 'MP_TCPRST':
      return `MP_TCPRST len ${len}${o.flags & 1 ? ' transient' : ''} flags 0x${o.flags.toString(16)} reason ${o.reason} (${TCPRST_REASONS[o.reason] ?? 'unassigned'})`;
    case 'UNKNOWN':
      return `MPTCP subtype 0x${o.code.toString(16)} len ${len} ${toHex(o.body)}`;
  }
}

export function describeTcpOption(o: TcpOption): string {
  switch (o.kind) {
    case 'eol':
      return 'eol';
    case 'nop':
      return 'nop';
    case 'mss':
      return `mss ${o.mss}`;
    case 'window-scale':
      return `wscale ${o.shift}`;
    case 'sack-permitted':
      return 'sackOK';
    case 'sack':
      return `sack ${o.blocks.map((b) => `${b.left}:${b.right}`).join(' ')}`;
    case 'timestamps':
      return `ts ${o.tsval} ecr ${o.tsecr}`;
    case 'mptcp':
      return describeMptcpOption(o.option);
    case 'unknown':
      return `kind ${o.type} len ${2 + o.data.length} ${toHex(o.data)}`;
    case 'invalid':
      return `INVALID kind ${o.type} len ${2 + o.data.length}: ${formatWireError(o.error)}`;
  }
}

function opt<T extends JsonValue>(v: T | undefined): T | null {
  return v === undefined ? null : v;
}

/** The option's fields as JSON: every field of the representation, nothing computed. */
export function mptcpOptionJson(o: MptcpOption): { [k: string]: JsonValue } {
  const base = { subtype: o.subtype, length: mptcpOptionLength(o) };
  switch (o.subtype) {
    case 'MP_CAPABLE':
      return {
        ...base,
        version: o.version,
        flags: o.flags,
        senderKey: opt(o.senderKey?.toString()),
        receiverKey: opt(o.receiverKey?.toString()),
        dataLength: opt(o.dataLength),
        checksum: opt(o.checksum),
      };
    case 'MP_JOIN':
      if (o.stage === 'ack') return { ...base, stage: o.stage, reserved: o.reserved, hmac: toHex(o.hmac) };
      if (o.stage === 'syn') {
        return { ...base, stage: o.stage, flags: o.flags, addressId: o.addressId, receiverToken: o.receiverToken, senderNonce: o.senderNonce };
      }
      return { ...base, stage: o.stage, flags: o.flags, addressId: o.addressId, truncatedHmac: o.truncatedHmac.toString(), senderNonce: o.senderNonce };
    case 'DSS':
      return {
        ...base,
        reserved: o.reserved,
        flags: o.flags,
        dataAck: opt(o.dataAck?.toString()),
        dsn: opt(o.dsn?.toString()),
        subflowSeq: opt(o.subflowSeq),
        dataLength: opt(o.dataLength),
        checksum: opt(o.checksum),
      };
    case 'ADD_ADDR':
      return {
        ...base,
        flags: o.flags,
        addressId: o.addressId,
        address: formatIp(o.address),
        port: opt(o.port),
        truncatedHmac: opt(o.truncatedHmac?.toString()),
      };
    case 'REMOVE_ADDR':
      return { ...base, reserved: o.reserved, addressIds: o.addressIds };
    case 'MP_PRIO':
      return { ...base, flags: o.flags };
    case 'MP_FAIL':
      return { ...base, reserved: o.reserved, dsn: o.dsn.toString() };
    case 'MP_FASTCLOSE':
      return { ...base, reserved: o.reserved, receiverKey: o.receiverKey.toString() };
    case 'MP_TCPRST':
      return { ...base, flags: o.flags, reason: o.reason };
    case 'UNKNOWN':
      return { ...base, code: o.code, body: toHex(o.body) };
  }
}

export function tcpOptionJson(o: TcpOption): { [k: string]: JsonValue } {
  const length = tcpOptionLength(o);
  switch (o.kind) {
    case 'eol':
      return { kind: o.kind, length };
    case 'nop':
    case 'sack-permitted':
      return { kind: o.kind, length };
    case 'mss':
      return { kind: o.kind, length, mss: o.mss };
    case 'window-scale':
      return { kind: o.kind, length, shift: o.shift };
    case 'sack':
      return { kind: o.kind, length, blocks: o.blocks.map((b) => ({ left: b.left, right: b.right })) };
    case 'timestamps':
      return { kind: o.kind, length, tsval: o.tsval, tsecr: o.tsecr };
    case 'mptcp':
      return { kind: o.kind, ...mptcpOptionJson(o.option) };
    case 'unknown':
      return { kind: o.kind, type: o.type, length, data: toHex(o.data) };
    case 'invalid':
      return { kind: o.kind, type: o.type, length, data: toHex(o.data), error: formatWireError(o.error) };
  }
}
