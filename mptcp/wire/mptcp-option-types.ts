/**
 * Representations of the MPTCP v1 suboptions (TCP option kind 30, RFC 8684 §3 and §7).
 *
 * Each mirrors its wire layout: flag bytes and reserved bits are kept as numbers so that
 * emit(parse(bytes)) is exact even for bits we do not interpret; the meaning of flags is
 * given by the constants below. 64-bit keys and sequence numbers are BigInt (exact), 32-bit
 * DSNs and Data ACKs are the low halves as sent. The hot data path does not use these
 * objects; it reads and writes DSS through `DssFields` (dss.ts) without allocating.
 */

export const TCPOPT_MPTCP = 30;

/** Suboption codes (RFC 8684 §8, "MPTCP Option Subtypes"). */
export const MptcpSubtype = {
  MP_CAPABLE: 0x0,
  MP_JOIN: 0x1,
  DSS: 0x2,
  ADD_ADDR: 0x3,
  REMOVE_ADDR: 0x4,
  MP_PRIO: 0x5,
  MP_FAIL: 0x6,
  MP_FASTCLOSE: 0x7,
  MP_TCPRST: 0x8,
  MP_EXPERIMENTAL: 0xf,
} as const;

/** MP_CAPABLE flags byte (RFC 8684 §3.1). */
export const MPC_FLAG_CHECKSUM = 0x80; // A: checksum required
export const MPC_FLAG_EXTENSIBILITY = 0x40; // B: must be 0 in v1
export const MPC_FLAG_NO_JOIN_TO_INITIAL = 0x20; // C: do not join to the initial address
export const MPC_FLAGS_RESERVED = 0x1e; // D-G
export const MPC_FLAG_HMAC_SHA256 = 0x01; // H

/** DSS flags byte (RFC 8684 §3.3). */
export const DSS_FLAG_DATA_FIN = 0x10; // F
export const DSS_FLAG_DSN64 = 0x08; // m
export const DSS_FLAG_MAPPING = 0x04; // M
export const DSS_FLAG_ACK64 = 0x02; // a
export const DSS_FLAG_ACK = 0x01; // A

/** Low bit of byte 2 for MP_JOIN (SYN, SYN/ACK) and MP_PRIO: B, backup. */
export const BACKUP_FLAG = 0x01;
/** Low bit of byte 2 for ADD_ADDR: E, echo. */
export const ADD_ADDR_FLAG_ECHO = 0x01;
/** MP_TCPRST flags (low nibble of byte 2, RFC 8684 §3.6): U, V, W, T. */
export const TCPRST_FLAG_TRANSIENT = 0x01;

/** MP_TCPRST reason codes (RFC 8684 §3.6). */
export const TcpRstReason = {
  UNSPECIFIED: 0,
  MPTCP_ERROR: 1,
  LACK_OF_RESOURCES: 2,
  ADMINISTRATIVELY_PROHIBITED: 3,
  TOO_MUCH_OUTSTANDING_DATA: 4,
  UNACCEPTABLE_PERFORMANCE: 5,
  MIDDLEBOX_INTERFERENCE: 6,
} as const;

/**
 * MP_CAPABLE. Which fields are present follows the length: 4 (SYN), 12 (SYN/ACK: sender's
 * key), 20 (third ACK: both keys), 22 (first data: + data-level length), 24 (+ checksum).
 */
export interface MpCapableOption {
  subtype: 'MP_CAPABLE';
  version: number;
  flags: number;
  senderKey?: bigint;
  receiverKey?: bigint;
  dataLength?: number;
  checksum?: number;
}

/** MP_JOIN on the SYN (length 12, RFC 8684 §3.2). `flags` is byte 2's low nibble (B = 0x1). */
export interface MpJoinSynOption {
  subtype: 'MP_JOIN';
  stage: 'syn';
  flags: number;
  addressId: number;
  receiverToken: number;
  senderNonce: number;
}

/** MP_JOIN on the SYN/ACK (length 16): leftmost 64 bits of the responder's HMAC. */
export interface MpJoinSynAckOption {
  subtype: 'MP_JOIN';
  stage: 'syn-ack';
  flags: number;
  addressId: number;
  truncatedHmac: bigint;
  senderNonce: number;
}

/** MP_JOIN on the third ACK (length 24): 12 reserved bits, then the 160-bit HMAC. */
export interface MpJoinAckOption {
  subtype: 'MP_JOIN';
  stage: 'ack';
  reserved: number;
  hmac: Uint8Array;
}

export type MpJoinOption = MpJoinSynOption | MpJoinSynAckOption | MpJoinAckOption;

/**
 * DSS (RFC 8684 §3.3). Present fields follow the flags: Data ACK when A (8 bytes when a),
 * a mapping (DSN, 4 or 8 bytes per m; subflow sequence number; data-level length) when M,
 * and a checksum when the option is 2 bytes longer than the flags alone imply.
 */
export interface DssOption {
  subtype: 'DSS';
  /** Byte 2's low nibble, reserved. */
  reserved: number;
  flags: number;
  dataAck?: bigint;
  dsn?: bigint;
  subflowSeq?: number;
  dataLength?: number;
  checksum?: number;
}

/**
 * ADD_ADDR (RFC 8684 §3.4.1). The address family follows the length. An echo (E set)
 * carries no HMAC; otherwise `truncatedHmac` is the rightmost 64 bits of the sender's HMAC.
 */
export interface AddAddrOption {
  subtype: 'ADD_ADDR';
  /** Byte 2's low nibble: 3 reserved bits and E (0x1). */
  flags: number;
  addressId: number;
  address: Uint8Array;
  port?: number;
  truncatedHmac?: bigint;
}

/** REMOVE_ADDR (RFC 8684 §3.4.2): one or more address ids. */
export interface RemoveAddrOption {
  subtype: 'REMOVE_ADDR';
  reserved: number;
  addressIds: number[];
}

/** MP_PRIO (RFC 8684 §3.3.8): length 3 in v1; byte 2's low nibble holds B (0x1). */
export interface MpPrioOption {
  subtype: 'MP_PRIO';
  flags: number;
}

/** MP_FAIL (RFC 8684 §3.7): 12 reserved bits, then the 64-bit DSN where the failure begins. */
export interface MpFailOption {
  subtype: 'MP_FAIL';
  reserved: number;
  dsn: bigint;
}

/** MP_FASTCLOSE (RFC 8684 §3.5): 12 reserved bits, then the option receiver's key. */
export interface MpFastcloseOption {
  subtype: 'MP_FASTCLOSE';
  reserved: number;
  receiverKey: bigint;
}

/** MP_TCPRST (RFC 8684 §3.6): flags U V W T in byte 2's low nibble, reason in byte 3. */
export interface MpTcpRstOption {
  subtype: 'MP_TCPRST';
  flags: number;
  reason: number;
}

/** A subtype we do not know (including MP_EXPERIMENTAL), kept byte for byte. */
export interface UnknownMptcpOption {
  subtype: 'UNKNOWN';
  code: number;
  /** The option from byte 2 on (subtype nibble included), without kind and length. */
  body: Uint8Array;
}

export type MptcpOption =
  | MpCapableOption
  | MpJoinOption
  | DssOption
  | AddAddrOption
  | RemoveAddrOption
  | MpPrioOption
  | MpFailOption
  | MpFastcloseOption
  | MpTcpRstOption
  | UnknownMptcpOption;
