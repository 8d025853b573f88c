/**
 * MPTCP v1 cryptography (RFC 8684 §3.1, §3.2, §3.4.1), all HMAC-SHA256 / SHA-256 through
 * node:crypto. Keys are 64-bit and nonces 32-bit, both big-endian on the wire and in the
 * hashed messages.
 *
 * These run once per connection or subflow handshake, never per data segment.
 */
import { createHash, createHmac } from 'node:crypto';
import { readU32, readU64, writeU16, writeU32, writeU64 } from './bytes.js';

function keyBytes(key: bigint): Buffer {
  const b = Buffer.alloc(8);
  writeU64(b, 0, key);
  return b;
}

/**
 * Token and initial data sequence number of a key (RFC 8684 §3.1): the token is the most
 * significant 32 bits of SHA-256(key), the IDSN the least significant 64 bits.
 */
export function keyToTokenAndIdsn(key: bigint): { token: number; idsn: bigint } {
  const d = createHash('sha256').update(keyBytes(key)).digest();
  return { token: readU32(d, 0), idsn: readU64(d, 24) };
}

export function keyToken(key: bigint): number {
  return keyToTokenAndIdsn(key).token;
}

export function keyIdsn(key: bigint): bigint {
  return keyToTokenAndIdsn(key).idsn;
}

/** HMAC-SHA256 with key = keyFirst || keySecond over msg = nonceFirst || nonceSecond. */
function joinHmac(keyFirst: bigint, keySecond: bigint, nonceFirst: number, nonceSecond: number): Buffer {
  const k = Buffer.alloc(16);
  writeU64(k, 0, keyFirst);
  writeU64(k, 8, keySecond);
  const m = Buffer.alloc(8);
  writeU32(m, 0, nonceFirst);
  writeU32(m, 4, nonceSecond);
  return createHmac('sha256', k).update(m).digest();
}

/**
 * The truncated HMAC the MP_JOIN responder (B) sends on its SYN/ACK (RFC 8684 §3.2):
 * leftmost 64 bits of HMAC(Key = Key-B || Key-A, Msg = R-B || R-A).
 */
export function joinSynAckHmac(responderKey: bigint, initiatorKey: bigint, responderNonce: number, initiatorNonce: number): bigint {
  return readU64(joinHmac(responderKey, initiatorKey, responderNonce, initiatorNonce), 0);
}

/**
 * The HMAC the MP_JOIN initiator (A) sends on its third ACK (RFC 8684 §3.2): leftmost 160
 * bits of HMAC(Key = Key-A || Key-B, Msg = R-A || R-B).
 */
export function joinAckHmac(initiatorKey: bigint, responderKey: bigint, initiatorNonce: number, responderNonce: number): Uint8Array {
  return new Uint8Array(joinHmac(initiatorKey, responderKey, initiatorNonce, responderNonce).subarray(0, 20));
}

/**
 * ADD_ADDR truncated HMAC (RFC 8684 §3.4.1): rightmost 64 bits of HMAC(Key = sender's key
 * || receiver's key, Msg = address id || address || port), the port as 2 bytes, zero when
 * the option carries none (as Linux computes it).
 */
export function addAddrHmac(senderKey: bigint, receiverKey: bigint, addressId: number, address: Uint8Array, port = 0): bigint {
  const k = Buffer.alloc(16);
  writeU64(k, 0, senderKey);
  writeU64(k, 8, receiverKey);
  const m = Buffer.alloc(1 + address.length + 2);
  m[0] = addressId;
  m.set(address, 1);
  writeU16(m, 1 + address.length, port);
  const d = createHmac('sha256', k).update(m).digest();
  return readU64(d, 24);
}
