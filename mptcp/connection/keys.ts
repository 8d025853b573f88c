/**
 * MPTCP connection keys (RFC 8684 §3.1): a 64-bit key per side, from the injected randomness
 * (a CSPRNG in the drivers), and what follows from it: the 32-bit token that names the
 * connection in MP_JOIN, and the initial data sequence number (IDSN), kept as two u32 halves
 * so the data path converts sequence numbers without BigInt.
 */
import type { Random } from '../core/sans-io.js';
import { keyToTokenAndIdsn } from '../wire/crypto.js';

export interface MptcpKey {
  readonly key: bigint;
  readonly token: number;
  readonly idsnHi: number;
  readonly idsnLo: number;
}

export function deriveKey(key: bigint): MptcpKey {
  const { token, idsn } = keyToTokenAndIdsn(key);
  return { key, token, idsnHi: Number(idsn >> 32n), idsnLo: Number(idsn & 0xffffffffn) };
}

/** A fresh random key whose token `isTaken` rejects is drawn again (token collisions, §3.2). */
export function generateKey(random: Random, isTaken: (token: number) => boolean = () => false): MptcpKey {
  for (;;) {
    const key = (BigInt(random.nextU32()) << 32n) | BigInt(random.nextU32());
    if (key === 0n) continue;
    const k = deriveKey(key);
    if (!isTaken(k.token)) return k;
  }
}

/** Random 32-bit nonce for MP_JOIN (§3.2). */
export function generateNonce(random: Random): number {
  return random.nextU32() >>> 0;
}
