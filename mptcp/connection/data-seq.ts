/**
 * Data sequence numbers (RFC 8684 §3.3) on the hot path. Inside the stack a DSN is a Number
 * relative to the sender's IDSN (the first data byte is 1, as the IDSN itself stands for the
 * SYN), exact up to 2^53 bytes. The wire carries 64-bit values (or their low 32 bits); these
 * helpers convert between the two with u32 arithmetic only: no BigInt per segment.
 */

const TWO32 = 4294967296;

/** Low 32 bits of IDSN + rel. */
export function dsnWireLo(idsnLo: number, rel: number): number {
  // rel % 2^32 first: idsnLo + rel could exceed 2^53 and round.
  return (idsnLo + (rel % TWO32)) >>> 0;
}

/** High 32 bits of IDSN + rel (rel >= 0, below 2^53). */
export function dsnWireHi(idsnHi: number, idsnLo: number, rel: number): number {
  return (idsnHi + Math.floor((idsnLo + (rel % TWO32)) / TWO32) + Math.floor(rel / TWO32)) >>> 0;
}

/**
 * A 64-bit wire DSN (hi, lo) relative to the IDSN. Values before the IDSN or beyond 2^53
 * bytes after it come back negative (-1): they cannot belong to this connection.
 */
export function dsnFromWire64(idsnHi: number, idsnLo: number, hi: number, lo: number): number {
  let dLo = lo - idsnLo;
  let dHi = hi - idsnHi;
  if (dLo < 0) {
    dLo += TWO32;
    dHi -= 1;
  }
  if (dHi < 0) dHi += TWO32;
  if (dHi >= 0x200000) return -1;
  return dHi * TWO32 + dLo;
}

/**
 * A 32-bit wire DSN (the low half, §3.3.1) expanded to the relative value nearest `ref`
 * (a relative DSN this side already knows, e.g. the next expected one).
 */
export function dsnFromWire32(idsnLo: number, lo: number, ref: number): number {
  const rel32 = (lo - idsnLo) >>> 0;
  const d = (rel32 - (ref % TWO32)) | 0;
  return ref + d;
}
